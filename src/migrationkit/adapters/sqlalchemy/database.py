"""Engines and schema upgrades: SQLite for one machine, PostgreSQL (psycopg 3) to scale out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

#: Where the Alembic environment lives, as a package resource, so it ships in the wheel.
SCRIPT_LOCATION = "migrationkit.adapters.sqlalchemy:migrations"
#: Alembic's bookkeeping table, named so it cannot clash with an embedding backend's own.
VERSION_TABLE = "migrationkit_alembic_version"

#: How long SQLite waits for another writer before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 30


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``: a SQLite file or a PostgreSQL server."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.drivername == "postgresql":
        # The library is tested with psycopg 3; plain "postgresql" would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        # The embedded default keeps its file in a folder of its own; make it on first use.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
    # SAVEPOINTs and transactional DDL work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # Take the write lock at the start: a transaction that read first and writes later
    # would otherwise fail at once when another writer got in between, instead of waiting.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built in code (no alembic.ini), to run on ``connection``.

    A new revision is made the same way:
    ``command.revision(alembic_config(connection), message, autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Brings the database's schema up to ``revision`` (``alembic upgrade head``)."""
    owned = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        if owned:
            engine.dispose()
