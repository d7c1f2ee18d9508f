"""In-memory fakes of every port in ``migrationkit.ports``, for tests.

For the library's own tests and for backends that embed it::

    from datetime import timedelta

    from migrationkit.testing import make_world

    world = make_world()
    with world.deps.uow() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
    world.clock.advance(timedelta(days=16))

``FakeUnitOfWork`` keeps the database's rules (R8, R9, the reservations of unfinished
migrations, compare-and-set of statuses, one charge per migration) and behaves like a
transaction: nothing is seen by other units of work before ``commit()``.
"""

from migrationkit.adapters.connectors.memory import InMemoryConnector
from migrationkit.testing._database import ConcurrentUpdate, InMemoryDatabase
from migrationkit.testing._databases import throwaway_database
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
from migrationkit.testing._repositories import (
    InMemoryAccessRepository,
    InMemoryAdministrationRepository,
    InMemoryApiTokenRepository,
    InMemoryAuditRepository,
    InMemoryAuthorizationFlowRepository,
    InMemoryChargeRepository,
    InMemoryConnectionRepository,
    InMemoryDocumentCopyRepository,
    InMemoryDocumentRedirectRepository,
    InMemoryDocumentRepository,
    InMemoryEnvironmentRepository,
    InMemoryMigrationRepository,
    InMemoryOfferItemRepository,
    InMemoryOfferRepository,
    InMemoryOutboxRepository,
    InMemoryRateLimitRepository,
    InMemoryRedeemAttemptRepository,
    InMemorySessionRepository,
    InMemorySignInFailureRepository,
    InMemoryUserRepository,
)
from migrationkit.testing._uow import FakeUnitOfWork, fake_uow_factory
from migrationkit.testing._world import (
    TEST_CODE_SECRET,
    FakeWorld,
    make_dependencies,
    make_world,
)

__all__ = [
    "DEFAULT_NOW",
    "TEST_CODE_SECRET",
    "ConcurrentUpdate",
    "FakeArchiveStore",
    "FakeArchiveStores",
    "FakeBilling",
    "FakeClock",
    "FakeConnectorRegistry",
    "FakeJobQueue",
    "FakeMailer",
    "FakeUnitOfWork",
    "FakeWorld",
    "InMemoryAccessRepository",
    "InMemoryAdministrationRepository",
    "InMemoryApiTokenRepository",
    "InMemoryAuditRepository",
    "InMemoryAuthorizationFlowRepository",
    "InMemoryChargeRepository",
    "InMemoryConnectionRepository",
    "InMemoryConnector",
    "InMemoryDatabase",
    "InMemoryDocumentCopyRepository",
    "InMemoryDocumentRedirectRepository",
    "InMemoryDocumentRepository",
    "InMemoryEnvironmentRepository",
    "InMemoryMigrationRepository",
    "InMemoryOfferItemRepository",
    "InMemoryOfferRepository",
    "InMemoryOutboxRepository",
    "InMemoryRateLimitRepository",
    "InMemoryRedeemAttemptRepository",
    "InMemorySessionRepository",
    "InMemorySignInFailureRepository",
    "InMemoryUserRepository",
    "fake_uow_factory",
    "make_dependencies",
    "make_world",
    "throwaway_database",
]
