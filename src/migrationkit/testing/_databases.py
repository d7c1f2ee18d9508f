"""Throwaway databases on a real PostgreSQL server, for tests that need the real thing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from migrationkit.adapters.sqlalchemy import make_engine


@contextmanager
def throwaway_database(server_url: str, *, prefix: str = "mk") -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (which must let its user
    create databases), dropped on leaving even while connections are open; yields its URL.
    The schema is the caller's: ``migrationkit.adapters.sqlalchemy.upgrade(url)``."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    server = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.engine.dispose()
