"""The security suite runs on the portal tests' own fixtures and helpers (a fresh demo home
per test, the app, signed-in clients, the database dump), and on the browser tests' (the
portal served on a port, Chromium, a signed-in page): tests/portal and tests/browser go on
the import path, as tests/reliability puts tests/integration there, and their fixtures are
imported."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrationkit.testing._databases import throwaway_database

sys.path.append(str(Path(__file__).parents[1] / "portal"))
sys.path.append(str(Path(__file__).parents[1] / "browser"))

from browser_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    browser,
    demo_home,
    person,
    portal,
    practice,
    visitor,
)
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
    with throwaway_database(postgres_url, prefix="mk_security") as url:
        yield url
