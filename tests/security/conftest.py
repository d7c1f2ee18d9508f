"""The security suite runs on the portal tests' own fixtures and helpers (a fresh demo home
per test, the app, signed-in clients, the database dump): tests/portal goes on the import
path, as tests/reliability puts tests/integration there, and its fixtures are imported."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from migrationkit.adapters.sqlalchemy import make_engine

sys.path.append(str(Path(__file__).parents[1] / "portal"))

from portal_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    app,
    client,
    database_dump,
    deps,
    home,
    medewerker,
    noord,
    run_jobs,
    scene,
    seeded_home,
    signed_in,
    zuid,
)


@pytest.fixture
def throwaway_postgres(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test (as tests/integration's)."""
    name = f"mk_security_{secrets.token_hex(5)}"
    server = make_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()
