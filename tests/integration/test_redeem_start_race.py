"""Twenty processes redeem one transfer code and start its one item at the same moment, on
PostgreSQL: exactly one wins, every other hears why in Dutch, and one job is enqueued.

Each process is a separate interpreter with its own engine, its own in-memory accounting
package (package state is per process, so each builds the same one) and its own in-process
queue, whose pending ids it hands back: as many web workers of the portal would be.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import attrs
import pytest
from sqlalchemy import Engine, func, select

from migrationkit import services
from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.connectors import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    make_engine,
    unit_of_work_factory,
)
from migrationkit.adapters.sqlalchemy.tables import migrations
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import AccountingPackage, ItemStatus, PackageAdministration, Role
from migrationkit.services import Dependencies, Policy, TargetChoice
from migrationkit.workers.inprocess import InProcessQueue

CONTENDERS = 20
SECRET = b"race-secret-" + b"x" * 32
PACKAGE = AccountingPackage.EXACT_ONLINE_NL
CODE, NAME = "1001", "Bakkerij De Korenschoof"
#: The administration as every target connection's package knows it.
COUNTERPART = PackageAdministration("doel-1001", CODE, NAME)
#: What the fork server imports once, so that each contender starts at once (Python 3.11's
#: fork server cannot import this test module itself: it does not get the test's sys.path).
PRELOAD = ("pytest", "migrationkit.services", "migrationkit.adapters.sqlalchemy", "psycopg")
#: Long enough for twenty interpreters to start on a small machine, short enough to fail.
WAIT_SECONDS = 60

#: What every loser must hear, per variant: the step it lost at, its code and its params.
CODE_USED = ("redeem", "code_used", ())
ITEM_STARTED = (
    "start",
    "item_started",
    (("code", CODE), ("name", NAME), ("status", ItemStatus.QUEUED)),
)


@attrs.frozen
class Contender:
    """A super user about to redeem and start, with the connection they choose."""

    user_id: int
    environment_id: int
    connection_id: int


@attrs.frozen
class Outcome:
    """What one process reports back: how far it got, its refusal, what it enqueued."""

    contender: Contender
    lost_at: str | None
    code: str | None
    params: tuple[tuple[str, object], ...]
    enqueued: tuple[int, ...]


def dependencies(
    engine: Engine, connectors: InMemoryConnectorRegistry, jobs: InProcessQueue
) -> Dependencies:
    """The use cases' ports for one process."""
    return Dependencies(
        uow=unit_of_work_factory(engine, SECRET),
        connectors=connectors,
        queue=jobs,
        clock=SystemClock(),
        policy=Policy(code_secret=SECRET),
    )


def contend(
    url: str,
    code: str,
    contender: Contender,
    connection_ids: Sequence[int],
    ready: Barrier,
    results: Queue[Outcome],
) -> None:
    """One process: set everything up, wait for the others, then redeem and start."""
    engine = make_engine(url)
    connectors, jobs = InMemoryConnectorRegistry(), InProcessQueue()
    for connection_id in connection_ids:
        connectors.connector(PACKAGE).add_package_administration(connection_id, COUNTERPART)
    deps = dependencies(engine, connectors, jobs)
    step: str | None = "redeem"
    error_code: str | None = None
    params: tuple[tuple[str, object], ...] = ()
    try:
        # Connect before the barrier, so that the race is about the rows, not the sockets.
        engine.connect().close()
        ready.wait(timeout=WAIT_SECONDS)
        redeemed = services.redeem_code(
            deps, actor_id=contender.user_id, code=code, accepted_terms=True, accepted_costs=True
        )
        step = "start"
        choice = TargetChoice(
            redeemed.items[0].id, contender.connection_id, COUNTERPART.package_admin_id
        )
        services.start_migrations(
            deps, actor_id=contender.user_id, offer_id=redeemed.offer.id, choices=[choice]
        )
    except MigrationError as error:
        error_code, params = error.code, tuple(sorted(error.params.items()))
    except Exception as error:  # reported, so the parent fails with the cause, not a timeout
        error_code = f"unexpected {type(error).__name__}: {error}"
    else:
        step = None
    finally:
        engine.dispose()
    results.put(Outcome(contender, step, error_code, params, jobs.pending))


@attrs.frozen
class Race:
    offer_id: int
    item_id: int
    code: str
    contenders: tuple[Contender, ...]


def seed_race(engine: Engine, *, one_environment: bool) -> Race:
    """Environment A offers one administration; twenty super users stand ready to take it
    in: each in an environment of their own, or all in the same one."""
    with unit_of_work_factory(engine, SECRET)() as uow:
        source_environment = uow.environments.add(
            "Kantoor A", has_subscription=True, archive_store="a"
        )
        sender = uow.users.add(source_environment.id, "a@example.nl", "Super A", Role.SUPER_USER)
        source = uow.connections.add(source_environment.id, PACKAGE, "Exact Online A")
        administration = uow.administrations.add(
            source_environment.id, source.id, CODE, NAME, "bakkerij@inbox.example.nl", "a-1001"
        )
        contenders = []
        environment = connection = None
        for n in range(1, CONTENDERS + 1):
            if environment is None or not one_environment:
                name = "Kantoor Doel" if one_environment else f"Kantoor {n}"
                environment = uow.environments.add(name, has_subscription=True, archive_store="b")
                connection = uow.connections.add(environment.id, PACKAGE, f"Exact Online {n}")
            assert connection is not None
            user = uow.users.add(
                environment.id, f"super{n}@example.nl", f"Super {n}", Role.SUPER_USER
            )
            contenders.append(Contender(user.id, environment.id, connection.id))
        uow.commit()
    receipt = services.offer_administrations(
        dependencies(engine, InMemoryConnectorRegistry(), InProcessQueue()),
        actor_id=sender.id,
        connection_id=source.id,
        administration_ids=[administration.id],
        recipients=["doel@example.nl"],
        accepted_terms=True,
    )
    (item,) = receipt.items
    return Race(receipt.offer.id, item.id, receipt.code, tuple(contenders))


def run_race(url: str, race: Race) -> list[Outcome]:
    """Starts one process per contender, lets them go at once, and collects their outcomes."""
    context = multiprocessing.get_context("forkserver")
    # The server imports the library once; each contender is forked from it, ready to go.
    context.set_forkserver_preload(list(PRELOAD))
    ready = context.Barrier(len(race.contenders))
    results = context.Queue()
    connection_ids = sorted({c.connection_id for c in race.contenders})
    processes = [
        context.Process(
            target=contend, args=(url, race.code, contender, connection_ids, ready, results)
        )
        for contender in race.contenders
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=WAIT_SECONDS) for _ in processes]
    except queue.Empty:
        pytest.fail("a contender did not report back in time")
    finally:
        for process in processes:
            process.join(timeout=WAIT_SECONDS)
            if process.is_alive():
                process.kill()
    return outcomes


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    ("one_environment", "loss"),
    [(False, CODE_USED), (True, ITEM_STARTED)],
    ids=["twenty-environments", "one-environment"],
)
def test_of_twenty_processes_redeeming_and_starting_one_item_exactly_one_wins(
    engine: Engine, one_environment: bool, loss: tuple[str, str, tuple[tuple[str, object], ...]]
) -> None:
    race = seed_race(engine, one_environment=one_environment)

    outcomes = run_race(engine.url.render_as_string(hide_password=False), race)

    (winner,) = [o for o in outcomes if o.lost_at is None]
    losers = [o for o in outcomes if o.lost_at is not None]
    assert len(losers) == CONTENDERS - 1
    assert {(o.lost_at, o.code, o.params) for o in losers} == {loss}
    assert [o.enqueued for o in outcomes if o.enqueued] == [winner.enqueued]
    (migration_id,) = winner.enqueued
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        assert uow.connection.execute(select(func.count()).select_from(migrations)).scalar() == 1
        migration = uow.migrations.get(migration_id)
        item = uow.items.get(race.item_id)
        offer = uow.offers.get(race.offer_id)
        changes = uow.items.status_changes(race.item_id)
        emails = [message.email for message in uow.outbox.list_recent()]
    assert migration is not None
    assert migration.item_id == race.item_id
    assert migration.target_environment_id == winner.contender.environment_id
    assert migration.target.connection_id == winner.contender.connection_id
    assert item is not None
    assert item.status is ItemStatus.QUEUED
    assert [(c.from_status, c.to_status) for c in changes] == [
        (None, ItemStatus.OFFERED),
        (ItemStatus.OFFERED, ItemStatus.QUEUED),
    ]
    assert changes[-1].actor_user_id == winner.contender.user_id
    assert offer is not None
    assert offer.target_environment_id == winner.contender.environment_id
    assert [email.kind for email in emails].count("migration_started") == 1
