"""Engines and schema upgrades: SQLite for one machine, PostgreSQL (psycopg 3) to scale out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

#: Where the Alembic environment lives, as a package resource, so it ships in the wheel.
SCRIPT_LOCATION = "migrationkit.adapters.sqlalchemy:migrations"
#: Alembic's bookkeeping table, named so it cannot clash with an embedding backend's own.
VERSION_TABLE = "migrationkit_alembic_version"


@attrs.frozen
class SessionLimits:
    """How long a session may wait for a lock or sit idle inside a transaction, and how
    soon a lost peer is noticed, so that a worker that froze or lost the network cannot
    hold rows that others wait for.

    On PostgreSQL each session is opened with ``lock_timeout`` (a statement that waits
    longer for a lock fails, and the unit of work says ``database_busy``),
    ``idle_in_transaction_session_timeout`` (the server ends the session of a transaction
    left idle that long, rolling it back and releasing its locks) and TCP keepalives on
    both ends (libpq's ``keepalives*`` for the client, ``tcp_keepalives_*`` for the server:
    a dead peer is noticed after about idle + interval x count seconds of silence); a
    connection that is not made within ``connect_timeout_seconds`` fails. On SQLite only
    the lock wait applies, as its busy timeout.
    """

    lock_timeout_seconds: float = 30
    idle_in_transaction_seconds: float = 60
    keepalives_idle_seconds: int = 30
    keepalives_interval_seconds: int = 10
    keepalives_count: int = 3
    connect_timeout_seconds: int = 10

    def postgres_connect_args(self, options: str | None = None) -> dict[str, Any]:
        """psycopg's connection arguments; the URL's own ``options``, if any, come last
        (and so win)."""
        settings = {
            "lock_timeout": f"{round(self.lock_timeout_seconds * 1000)}ms",
            "idle_in_transaction_session_timeout": (
                f"{round(self.idle_in_transaction_seconds * 1000)}ms"
            ),
            "tcp_keepalives_idle": self.keepalives_idle_seconds,
            "tcp_keepalives_interval": self.keepalives_interval_seconds,
            "tcp_keepalives_count": self.keepalives_count,
        }
        ours = " ".join(f"-c {name}={value}" for name, value in settings.items())
        return {
            "options": f"{ours} {options}" if options else ours,
            "keepalives": 1,
            "keepalives_idle": self.keepalives_idle_seconds,
            "keepalives_interval": self.keepalives_interval_seconds,
            "keepalives_count": self.keepalives_count,
            "connect_timeout": self.connect_timeout_seconds,
        }


def make_engine(url: str | URL, limits: SessionLimits | None = None) -> Engine:
    """An engine for ``url``: a SQLite file or a PostgreSQL server, whose sessions keep to
    ``limits`` (the defaults of ``SessionLimits`` when not given)."""
    url = make_url(url)
    limits = limits or SessionLimits()
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, limits.lock_timeout_seconds)
    if url.drivername == "postgresql":
        # The library is tested with psycopg 3; plain "postgresql" would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    options = url.query.get("options")
    connect_args = limits.postgres_connect_args(options if isinstance(options, str) else None)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    if url.database and url.database != ":memory:":
        # The embedded default keeps its file in a folder of its own; make it on first use.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
    )

    def configure(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
        # SAVEPOINTs and transactional DDL work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        finally:
            cursor.close()

    event.listen(engine, "connect", configure)
    event.listen(engine, "begin", _begin_immediate)
    return engine


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
