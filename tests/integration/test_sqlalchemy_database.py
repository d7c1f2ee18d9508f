"""What only the SQL databases show: the schema that Alembic makes, the engines' settings,
time zones, and two units of work racing on one row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect
from sqlalchemy.exc import IntegrityError, StatementError

from migrationkit.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    make_engine,
    metadata,
    unit_of_work_factory,
    upgrade,
)
from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE, alembic_config
from migrationkit.adapters.sqlalchemy.tables import POSTGRESQL_ONLY
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccountingPackage,
    ItemStatus,
    MigrationTarget,
    OfferItem,
    Role,
)
from migrationkit.domain.overviews import search_words
from migrationkit.ports import OverviewQuery, UnitOfWork
from migrationkit.testing._databases import throwaway_database

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = b"integration-tests-server-secret-0123456789"
T = TypeVar("T")


def schema_differences(engine: Engine, expected: MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``expected``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: name != VERSION_TABLE,
                "include_object": lambda item, _name, kind, reflected, _other: (
                    reflected
                    or engine.dialect.name == "postgresql"
                    or kind != "index"
                    or item.name not in {index.name for index in POSTGRESQL_ONLY}
                ),
            },
        )
        return list(compare_metadata(context, expected))


def test_the_migrations_make_exactly_the_tables_of_the_metadata(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())

    assert tables == {*metadata.tables, VERSION_TABLE}
    assert schema_differences(engine, metadata) == []


def test_the_schema_comparison_notices_a_table_the_migrations_lack(engine: Engine) -> None:
    extended = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(extended)
    Table("audit_log", extended, Column("id", Integer, primary_key=True))

    differences = schema_differences(engine, extended)

    assert [kind for kind, *_ in differences] == ["add_table"]


def test_upgrade_takes_a_url_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    upgrade(url)
    upgrade(url)

    engine = make_engine(url)
    try:
        assert schema_differences(engine, metadata) == []
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
            assert context.get_current_revision() == head
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'down.sqlite3'}")
    try:
        upgrade(engine)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert inspect(engine).get_table_names() == [VERSION_TABLE]
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(
    sqlite_engine: Engine,
) -> None:
    with sqlite_engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 30_000


def test_a_plain_postgresql_url_gets_psycopg_3() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")

    assert engine.dialect.driver == "psycopg"


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with unit_of_work_factory(engine, SECRET)() as uow, pytest.raises(IntegrityError):
        uow.connections.add(404, AccountingPackage.XERO, "Xero - nergens")


def test_moments_come_back_as_aware_utc_whatever_zone_they_were_given_in(
    engine: Engine,
) -> None:
    amsterdam = T0.astimezone(ZoneInfo("Europe/Amsterdam"))
    with unit_of_work_factory(engine, SECRET)() as uow:
        item = offered_item(uow)
        offer = present(uow.offers.get(item.offer_id))
        uow.redeem_attempts.add_failure(
            user_id=offer.sender_user_id, environment_id=offer.source_environment_id, at=amsterdam
        )
        uow.offers.bind_target(
            offer.id,
            environment_id=offer.source_environment_id,
            user_id=offer.sender_user_id,
            at=amsterdam,
        )
        uow.commit()

    with unit_of_work_factory(engine, SECRET)() as uow:
        (failed_at,) = uow.redeem_attempts.failures_for_user(offer.sender_user_id, since=amsterdam)
        redeemed_at = present(uow.offers.get(offer.id)).redeemed_at

    for moment in (failed_at, redeemed_at):
        assert moment == T0
        assert moment.tzinfo is UTC  # type: ignore[union-attr]


def test_a_naive_moment_is_refused(engine: Engine) -> None:
    with unit_of_work_factory(engine, SECRET)() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        user = uow.users.add(environment.id, "a@noord.nl", "A", Role.USER)
        with pytest.raises(StatementError, match="naive"):
            uow.redeem_attempts.add_failure(
                user_id=user.id, environment_id=environment.id, at=datetime(2026, 11, 2, 9, 0)
            )


def test_password_hash_is_kept_for_signing_in(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        user = uow.users.add(environment.id, "a@noord.nl", "A", Role.USER, "scrypt$abc")
        uow.commit()
        assert uow.users.password_hash(user.id) == "scrypt$abc"
        assert uow.users.password_hash(user.id + 1) is None


def present(value: T | None) -> T:
    assert value is not None
    return value


def offered_item(uow: UnitOfWork) -> OfferItem:
    environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
    user = uow.users.add(environment.id, "a@noord.nl", "A", Role.SUPER_USER)
    connection = uow.connections.add(environment.id, AccountingPackage.EXACT_ONLINE_NL, "Exact")
    administration = uow.administrations.add(
        environment.id, connection.id, "1001", "Bakkerij", "b@inbox.nl", "div-1"
    )
    offer = uow.offers.add(
        source_environment_id=environment.id,
        source_connection_id=connection.id,
        package=connection.package,
        sender_user_id=user.id,
        sender_email=user.email,
        recipients=["z@zuid.nl"],
        code_digest="d" * 64,
        code_hint="0G28",
        created_at=T0,
        expires_at=T0,
    )
    return uow.items.add(offer.id, administration, T0)


def test_of_two_units_of_work_racing_on_one_item_exactly_one_wins(engine: Engine) -> None:
    """Start at 23:59:59 against the expiry sweep: both read the item as Aangeboden, both
    try their compare-and-set at once; the database lets one through."""
    factory: Callable[[], UnitOfWork] = unit_of_work_factory(engine, SECRET)
    with factory() as uow:
        item = offered_item(uow)
        uow.commit()
    ready = threading.Barrier(2)

    def race(to: ItemStatus, event: Event) -> bool:
        ready.wait(timeout=10)
        with factory() as uow:
            won = uow.items.compare_and_set(item, to, event=event, at=T0)
            # Hold the row a moment, so that the other's UPDATE has to wait for this commit.
            time.sleep(0.2)
            uow.commit()
            return won

    with ThreadPoolExecutor(max_workers=2) as pool:
        start = pool.submit(race, ItemStatus.QUEUED, Event.START)
        expire = pool.submit(race, ItemStatus.EXPIRED, Event.EXPIRE)
        outcomes = {ItemStatus.QUEUED: start.result(), ItemStatus.EXPIRED: expire.result()}

    assert sorted(outcomes.values()) == [False, True]
    (winner,) = [status for status, won in outcomes.items() if won]
    with factory() as uow:
        assert present(uow.items.get(item.id)).status is winner
        changes = uow.items.status_changes(item.id)
    assert [(c.from_status, c.to_status) for c in changes] == [
        (None, ItemStatus.OFFERED),
        (ItemStatus.OFFERED, winner),
    ]


def test_the_upgrade_to_0004_records_the_steps_after_earlier_finishes_as_done(
    tmp_path: Path,
) -> None:
    """Before 0004 the steps after a finish ran right after it: an upgraded database must
    not have them done again."""
    engine = make_engine(f"sqlite:///{tmp_path / 'earlier.sqlite3'}")
    try:
        upgrade(engine)
        with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
            item = offered_item(uow)
            target = uow.environments.add("Zuid", has_subscription=True, archive_store="b")
            exact = uow.connections.add(target.id, AccountingPackage.EXACT_ONLINE_NL, "E")
            migration = uow.migrations.add(
                item,
                target_environment_id=target.id,
                target=MigrationTarget(exact.id, "div-1", "0001", "Bakkerij"),
                at=T0,
            )
            uow.migrations.record_finish(migration.id, T0)
            uow.commit()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        upgrade(engine)

        with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
            upgraded = present(uow.migrations.get(migration.id))
            due = uow.migrations.list_after_finish(
                link_attempts=5, released_before=T0 + timedelta(days=1)
            )
        assert (upgraded.links_rewritten_at, upgraded.source_released_at) == (T0, T0)
        assert (upgraded.links_attempts, upgraded.failure_code) == (0, None)
        assert due == []
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of its own: a test may take its schema up and down."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with throwaway_database(request.getfixturevalue("postgres_url")) as url:
        yield url


def test_the_upgrade_to_0010_makes_earlier_offers_searchable(fresh_url: str) -> None:
    """Offers made before 0010 have no search texts: the revision writes them."""
    engine = make_engine(fresh_url)
    try:
        upgrade(engine)
        with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
            item = offered_item(uow)
            offer = present(uow.offers.get(item.offer_id))
            uow.commit()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0009")
        upgrade(engine)

        with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
            query = OverviewQuery(search_words("BAKKERIJ 0g28"), T0, 10)
            [found] = uow.items.outgoing_page(offer.source_environment_id, query)
        assert found.item == item
        assert schema_differences(engine, metadata) == []
    finally:
        engine.dispose()
