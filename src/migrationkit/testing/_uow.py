"""The fake unit of work: one transaction over the in-memory repositories."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from migrationkit.ports import (
    AccessRepository,
    AdministrationRepository,
    ApiTokenRepository,
    AuditRepository,
    AuthorizationFlowRepository,
    ChargeRepository,
    ConnectionRepository,
    DocumentCopyRepository,
    DocumentRedirectRepository,
    DocumentRepository,
    EnvironmentRepository,
    ManifestRepository,
    MigrationRepository,
    OfferItemRepository,
    OfferRepository,
    OutboxRepository,
    RateLimitRepository,
    RedeemAttemptRepository,
    SessionRepository,
    SignInFailureRepository,
    UnitOfWork,
    UserRepository,
)
from migrationkit.testing._database import InMemoryDatabase, Transaction
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
from migrationkit.testing._repositories.manifests import InMemoryManifestRepository


class FakeUnitOfWork(UnitOfWork):
    """A ``UnitOfWork`` over an ``InMemoryDatabase`` that behaves like a real transaction.

    Inside ``with uow:`` the repositories see what is committed plus this unit's own
    changes; other units see none of those changes until ``commit()``. ``rollback()``, or
    leaving the block without ``commit()``, discards them. After a commit the block may go
    on and commit again, as with a database session. Database rules (R8, R9, the
    reservations of unfinished migrations, one charge per migration) are checked on each
    write and again at commit. ``commit()`` raises ``ConcurrentUpdate`` when another unit
    committed a change to a row that this one changed as well.

    ``FakeUnitOfWork()`` makes its own database; pass one to share it between units.
    """

    def __init__(self, database: InMemoryDatabase | None = None) -> None:
        self.database = database if database is not None else InMemoryDatabase()
        #: How many times ``commit()`` was called: lets a test see that a use case committed.
        self.commits = 0
        self._transaction: Transaction | None = None
        current = self._current
        # Typed as the ports: the UnitOfWork protocol's attributes are settable, so they
        # admit no narrower type.
        self.environments: EnvironmentRepository = InMemoryEnvironmentRepository(current)
        self.users: UserRepository = InMemoryUserRepository(current)
        self.connections: ConnectionRepository = InMemoryConnectionRepository(current)
        self.administrations: AdministrationRepository = InMemoryAdministrationRepository(current)
        self.flows: AuthorizationFlowRepository = InMemoryAuthorizationFlowRepository(current)
        self.documents: DocumentRepository = InMemoryDocumentRepository(current)
        self.offers: OfferRepository = InMemoryOfferRepository(current)
        self.items: OfferItemRepository = InMemoryOfferItemRepository(current)
        self.migrations: MigrationRepository = InMemoryMigrationRepository(current)
        self.access: AccessRepository = InMemoryAccessRepository(current)
        self.redeem_attempts: RedeemAttemptRepository = InMemoryRedeemAttemptRepository(current)
        self.outbox: OutboxRepository = InMemoryOutboxRepository(current)
        self.charges: ChargeRepository = InMemoryChargeRepository(current)
        self.copies: DocumentCopyRepository = InMemoryDocumentCopyRepository(current)
        self.redirects: DocumentRedirectRepository = InMemoryDocumentRedirectRepository(current)
        self.manifests: ManifestRepository = InMemoryManifestRepository(current)
        self.api_tokens: ApiTokenRepository = InMemoryApiTokenRepository(current)
        self.audit: AuditRepository = InMemoryAuditRepository(current)
        self.sign_in_failures: SignInFailureRepository = InMemorySignInFailureRepository(current)
        self.sessions: SessionRepository = InMemorySessionRepository(current)
        self.rate_limits: RateLimitRepository = InMemoryRateLimitRepository(current)

    def __enter__(self) -> Self:
        if self._transaction is not None:
            raise RuntimeError("this unit of work is in use already; make another one")
        self._transaction = Transaction(self.database)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._transaction is not None:
            self._transaction.discard()
        self._transaction = None

    def commit(self) -> None:
        self._current().commit()
        self.commits += 1

    def rollback(self) -> None:
        self._current().discard()

    def _current(self) -> Transaction:
        if self._transaction is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._transaction


def fake_uow_factory(database: InMemoryDatabase | None = None) -> Callable[[], FakeUnitOfWork]:
    """A ``UnitOfWorkFactory`` whose units all share ``database`` (a new one if not given)."""
    shared = database if database is not None else InMemoryDatabase()
    return lambda: FakeUnitOfWork(shared)
