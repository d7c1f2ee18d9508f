"""In-memory fakes of every port in ``migrationkit.ports``, for tests.

For the library's own tests and for backends that embed it::

    from datetime import timedelta

    from migrationkit.testing import make_world

    world = make_world()
    with world.deps.uow() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
    world.clock.advance(timedelta(days=16))

It exports what an embedder's tests need: ``make_world`` (every port faked, ``FakeWorld``)
and ``make_dependencies`` (the fakes around a unit of work of one's own), the fakes of the
outside world (archive stores, connectors, job queue, mailer, billing, the database's unit
of work) and the clock (``FakeClock``, starting at ``DEFAULT_NOW``). The in-memory
repositories and the other helpers are private (``migrationkit.testing._*``).

``FakeUnitOfWork`` keeps the database's rules (R8, R9, the reservations of unfinished
migrations, compare-and-set of statuses, one charge per migration) and behaves like a
transaction: nothing is seen by other units of work before ``commit()``.
"""

from migrationkit.testing._outside import (
    DEFAULT_NOW,
    FakeArchiveStore,
    FakeArchiveStores,
    FakeBilling,
    FakeClock,
    FakeConnectorRegistry,
    FakeJobQueue,
    FakeMailer,
)
from migrationkit.testing._uow import FakeUnitOfWork, fake_uow_factory
from migrationkit.testing._world import FakeWorld, make_dependencies, make_world

__all__ = [
    "DEFAULT_NOW",
    "FakeArchiveStore",
    "FakeArchiveStores",
    "FakeBilling",
    "FakeClock",
    "FakeConnectorRegistry",
    "FakeJobQueue",
    "FakeMailer",
    "FakeUnitOfWork",
    "FakeWorld",
    "fake_uow_factory",
    "make_dependencies",
    "make_world",
]
