"""Every fake wired together: ``make_dependencies`` and ``make_world``."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from migrationkit.ports import Clock, ConnectorRegistry, JobQueue, UnitOfWorkFactory
from migrationkit.services.dependencies import Dependencies, Policy
from migrationkit.testing._database import InMemoryDatabase
from migrationkit.testing._outside import (
    DEFAULT_NOW,
    FakeArchiveStores,
    FakeBilling,
    FakeClock,
    FakeConnectorRegistry,
    FakeJobQueue,
    FakeMailer,
)
from migrationkit.testing._uow import FakeUnitOfWork, fake_uow_factory

#: The transfer-code secret of the fakes. Known to everyone: never use it outside tests.
TEST_CODE_SECRET: Final = b"test-only-code-secret-" + b"x" * 16


def make_dependencies(
    *,
    uow: UnitOfWorkFactory | None = None,
    connectors: ConnectorRegistry | None = None,
    queue: JobQueue | None = None,
    clock: Clock | None = None,
    policy: Policy | None = None,
) -> Dependencies:
    """``Dependencies`` of fakes, each replaceable: a fresh in-memory database on the same
    clock, a ``FakeClock`` at ``DEFAULT_NOW`` and a policy with ``TEST_CODE_SECRET``."""
    clock = clock if clock is not None else FakeClock()
    return Dependencies(
        uow=uow if uow is not None else fake_uow_factory(InMemoryDatabase(clock)),
        connectors=connectors if connectors is not None else FakeConnectorRegistry(),
        queue=queue if queue is not None else FakeJobQueue(),
        clock=clock,
        policy=policy if policy is not None else Policy(code_secret=TEST_CODE_SECRET),
    )


@attrs.frozen
class FakeWorld:
    """The use cases' ``deps`` and the fakes behind them, for a test to arrange and
    inspect: the database, the clock, the connectors and the job queue, plus the mailer,
    billing and archive stores that the dispatcher and the worker take."""

    deps: Dependencies
    database: InMemoryDatabase
    clock: FakeClock
    connectors: FakeConnectorRegistry
    queue: FakeJobQueue
    mailer: FakeMailer
    billing: FakeBilling
    archives: FakeArchiveStores

    def uow(self) -> FakeUnitOfWork:
        """A unit of work on the world's database, typed as the fake."""
        return FakeUnitOfWork(self.database)


def make_world(*, now: datetime = DEFAULT_NOW, policy: Policy | None = None) -> FakeWorld:
    """A fresh world of fakes, with its clock at ``now`` (the database's clock too)."""
    clock = FakeClock(now)
    database = InMemoryDatabase(clock)
    connectors = FakeConnectorRegistry()
    queue = FakeJobQueue()
    deps = make_dependencies(
        uow=fake_uow_factory(database),
        connectors=connectors,
        queue=queue,
        clock=clock,
        policy=policy,
    )
    return FakeWorld(
        deps=deps,
        database=database,
        clock=clock,
        connectors=connectors,
        queue=queue,
        mailer=FakeMailer(),
        billing=FakeBilling(),
        archives=FakeArchiveStores(),
    )
