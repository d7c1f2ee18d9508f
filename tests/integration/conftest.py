"""Databases for the integration tests: a SQLite file and a throwaway PostgreSQL database,
each made by the Alembic migrations, plus the in-memory fake for the contract tests.

The PostgreSQL server is the one ``MIGRATIONKIT_TEST_POSTGRES_URL`` names (see
tests/conftest.py: unset skips, except in CI; set but silent fails). Each test module gets
its own database ``mk_<random>`` on it, dropped afterwards; each test starts with empty
tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text

from migrationkit.adapters.sqlalchemy import (
    make_engine,
    metadata,
    unit_of_work_factory,
    upgrade,
)
from migrationkit.ports import UnitOfWork
from migrationkit.testing import fake_uow_factory
from migrationkit.testing._databases import throwaway_database

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
#: The server's secret of the units of work here (the outbox seals its codes with it).
SECRET = b"integration-tests-server-secret-0123456789"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a new SQLite file, with no schema yet."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "migrationkit.sqlite3"
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def throwaway_postgres_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database for this module, with no schema yet."""
    with throwaway_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="module")
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A SQLite file database whose schema Alembic made."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_engine(throwaway_postgres_url: str) -> Iterator[Engine]:
    """A throwaway PostgreSQL database whose schema Alembic made."""
    engine = make_engine(throwaway_postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


#: The revision that makes the audit trail append-only: its triggers are set aside while a
#: test empties the tables, as only the database's owner could.
_AUDIT_REVISION = importlib.import_module(
    "migrationkit.adapters.sqlalchemy.migrations.versions.0005_api_tokens_and_audit"
)


def empty_tables(engine: Engine) -> None:
    dialect = engine.dialect.name
    with engine.begin() as connection:
        if dialect == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for statement in _AUDIT_REVISION._DROP[dialect]:
                connection.execute(text(statement))
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))
        if dialect != "postgresql":
            for statement in _AUDIT_REVISION._APPEND_ONLY[dialect]:
                connection.execute(text(statement))


@pytest.fixture(params=SQL_BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on each SQL database, with empty tables."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    yield engine
    empty_tables(engine)


@pytest.fixture(params=[*SQL_BACKENDS, "memory"])
def uow_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    """Fresh units of work on an empty store: SQLite, PostgreSQL, or the in-memory fake of
    ``migrationkit.testing``; the contract tests hold for all three."""
    if request.param == "memory":
        yield fake_uow_factory()
        return
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    yield unit_of_work_factory(engine, SECRET)
    empty_tables(engine)
