"""What a session of the library may hold on to: a statement waits for a lock at most
``lock_timeout`` (SQLite: its busy timeout) and then the use case answers ``database_busy``
("try again"), changing nothing; PostgreSQL ends a transaction left idle, and the session's
next statement says ``database_unavailable``; TCP keepalives on both ends; a database that
cannot be reached says ``database_unavailable`` too. On SQLite and a real PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from conftest import SECRET, SQL_BACKENDS, empty_tables
from migrationkit.adapters.archive import archive_stores
from migrationkit.adapters.sqlalchemy import SessionLimits, make_engine, unit_of_work_factory
from migrationkit.bootstrap import database
from migrationkit.config import Settings
from migrationkit.domain.errors import Unavailable
from migrationkit.domain.model import AccountingPackage, Role
from migrationkit.services import archive as archive_service
from migrationkit.testing import make_dependencies

#: The limits of the sessions under test: short, so that a test waits a second.
SHORT = SessionLimits(
    lock_timeout_seconds=1,
    idle_in_transaction_seconds=1,
    keepalives_idle_seconds=13,
    keepalives_interval_seconds=4,
    keepalives_count=5,
    connect_timeout_seconds=7,
)


@pytest.fixture(params=SQL_BACKENDS)
def limited(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Engine]]:
    """An engine with the library's default limits and one with ``SHORT`` limits, on the
    same database (SQLite or PostgreSQL), its tables emptied afterwards."""
    plain: Engine = request.getfixturevalue(f"{request.param}_engine")
    short = make_engine(plain.url, SHORT)
    yield plain, short
    short.dispose()
    empty_tables(plain)


def arranged(engine: Engine) -> tuple[int, int]:
    """A super user and an administration of one environment: their ids."""
    with unit_of_work_factory(engine, SECRET)() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        user = uow.users.add(environment.id, "baas@noord.nl", "Baas", Role.SUPER_USER)
        connection = uow.connections.add(environment.id, AccountingPackage.XERO, "Xero")
        administration = uow.administrations.add(
            environment.id, connection.id, "0042", "Bakkerij", "0042@inbox.nl", "x-0042"
        )
        uow.commit()
    return user.id, administration.id


def test_an_upload_that_waits_too_long_for_the_administration_is_told_to_try_again(
    limited: tuple[Engine, Engine], tmp_path: Path
) -> None:
    plain, short = limited
    user_id, administration_id = arranged(plain)
    deps = make_dependencies(uow=unit_of_work_factory(short, SECRET))
    archives = archive_stores({}, default_root=tmp_path)

    def upload() -> None:
        archive_service.add_document(
            deps,
            archives,
            actor_id=user_id,
            administration_id=administration_id,
            filename="factuur.pdf",
            stream=io.BytesIO(b"%PDF-1.4 factuur"),
        )

    # Another session holds the administration, as the finish of a move does.
    with unit_of_work_factory(plain, SECRET)() as holder:
        holder.administrations.lock(administration_id)
        with pytest.raises(Unavailable) as refused:
            upload()
    assert refused.value.code == "database_busy"
    with unit_of_work_factory(plain, SECRET)() as uow:
        assert uow.documents.list_for_administration(administration_id) == []

    upload()  # once the holder is done, the same upload goes through
    with unit_of_work_factory(plain, SECRET)() as uow:
        assert len(uow.documents.list_for_administration(administration_id)) == 1


@pytest.mark.postgres
def test_postgres_sessions_keep_to_the_limits_and_keep_the_urls_own_options(
    postgres_engine: Engine,
) -> None:
    url = postgres_engine.url.update_query_dict({"options": "-c statement_timeout=5s"})
    engine = make_engine(url, SHORT)
    try:
        with engine.connect() as connection:
            show = {
                name: connection.execute(text(f"SHOW {name}")).scalar()
                for name in (
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                    "tcp_keepalives_idle",
                    "tcp_keepalives_interval",
                    "tcp_keepalives_count",
                    "statement_timeout",
                )
            }
            libpq = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    finally:
        engine.dispose()
    assert show == {
        "lock_timeout": "1s",
        "idle_in_transaction_session_timeout": "1s",
        "tcp_keepalives_idle": "13",
        "tcp_keepalives_interval": "4",
        "tcp_keepalives_count": "5",
        "statement_timeout": "5s",
    }
    assert (
        libpq["keepalives"],
        libpq["keepalives_idle"],
        libpq["keepalives_interval"],
        libpq["keepalives_count"],
        libpq["connect_timeout"],
    ) == ("1", "13", "4", "5", "7")


@pytest.mark.postgres
def test_the_settings_limits_reach_the_runtimes_postgres_sessions(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings.from_environ(
        {
            "MIGRATIONKIT_HOME": str(tmp_path),
            "MIGRATIONKIT_DATABASE_URL": postgres_engine.url.render_as_string(hide_password=False),
            "MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS": "7",
            "MIGRATIONKIT_DB_IDLE_IN_TRANSACTION_SECONDS": "8",
            "MIGRATIONKIT_DB_KEEPALIVE_IDLE_SECONDS": "9",
            "MIGRATIONKIT_DB_KEEPALIVE_INTERVAL_SECONDS": "2",
            "MIGRATIONKIT_DB_KEEPALIVE_COUNT": "6",
            "MIGRATIONKIT_DB_CONNECT_TIMEOUT_SECONDS": "4",
        }
    )
    engine = database(settings)
    try:
        with engine.connect() as connection:
            shown = [
                connection.execute(text(f"SHOW {name}")).scalar()
                for name in ("lock_timeout", "idle_in_transaction_session_timeout")
            ]
            libpq = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    finally:
        engine.dispose()
    assert shown == ["7s", "8s"]
    assert [libpq[name] for name in ("keepalives_idle", "keepalives_interval")] == ["9", "2"]
    assert [libpq[name] for name in ("keepalives_count", "connect_timeout")] == ["6", "4"]


@pytest.mark.postgres
def test_postgres_ends_a_transaction_left_idle_and_releases_its_locks(
    postgres_engine: Engine,
) -> None:
    short = make_engine(postgres_engine.url, SHORT)
    _, administration_id = arranged(postgres_engine)
    try:
        # The block is the session that the server ends.
        with (  # noqa: PT012
            pytest.raises(Unavailable) as ended,
            unit_of_work_factory(short, SECRET)() as frozen,
        ):
            frozen.administrations.lock(administration_id)
            backend = frozen.connection.execute(text("SELECT pg_backend_pid()")).scalar()
            # Another session waits for the lock: it gets it once the server has ended the
            # idle transaction, whatever the time that takes.
            with unit_of_work_factory(postgres_engine, SECRET)() as waiting:
                assert waiting.administrations.lock(administration_id) is not None
                alive = waiting.connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": backend},
                ).scalar()
            assert alive == 0
            frozen.administrations.get(administration_id)
        assert ended.value.code == "database_unavailable"
        cause = ended.value.__cause__
        assert isinstance(cause, DBAPIError)
        assert cause.orig.sqlstate == "25P03"  # type: ignore[union-attr] (idle_in_transaction_session_timeout)
    finally:
        short.dispose()
        empty_tables(postgres_engine)


def test_a_database_that_cannot_be_reached_is_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://app:geheim@127.0.0.1:1/migrationkit")
    try:
        with pytest.raises(Unavailable) as refused, unit_of_work_factory(engine, SECRET)():
            pass
    finally:
        engine.dispose()
    assert refused.value.code == "database_unavailable"
    assert isinstance(refused.value.__cause__, OperationalError)
