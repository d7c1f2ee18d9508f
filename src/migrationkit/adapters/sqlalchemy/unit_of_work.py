"""The unit of work on SQLAlchemy: one connection, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from migrationkit.adapters.sealing import sealing_key
from migrationkit.adapters.sqlalchemy.repositories import (
    OUTBOX_KEY_LABEL,
    SqlAlchemyAccessRepository,
    SqlAlchemyAdministrationRepository,
    SqlAlchemyApiTokenRepository,
    SqlAlchemyAuditRepository,
    SqlAlchemyAuthorizationFlowRepository,
    SqlAlchemyChargeRepository,
    SqlAlchemyConnectionRepository,
    SqlAlchemyDocumentCopyRepository,
    SqlAlchemyDocumentRedirectRepository,
    SqlAlchemyDocumentRepository,
    SqlAlchemyEnvironmentRepository,
    SqlAlchemyMigrationRepository,
    SqlAlchemyOfferItemRepository,
    SqlAlchemyOfferRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyRateLimitRepository,
    SqlAlchemyRedeemAttemptRepository,
    SqlAlchemySessionRepository,
    SqlAlchemySignInFailureRepository,
    SqlAlchemyUserRepository,
)
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
    MigrationRepository,
    OfferItemRepository,
    OfferRepository,
    OutboxRepository,
    RateLimitRepository,
    RedeemAttemptRepository,
    SessionRepository,
    SignInFailureRepository,
    UnitOfWorkFactory,
    UserRepository,
)


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. The repositories exist inside the ``with`` block;
    leaving it without ``commit()`` rolls back. After a commit the same unit of work may
    go on: the next statement begins a new transaction.

    ``secret`` is the server's secret: the outbox seals its e-mails' secrets (transfer
    codes) with a key derived from it, so none is kept in plain text (R5)."""

    environments: EnvironmentRepository
    users: UserRepository
    connections: ConnectionRepository
    administrations: AdministrationRepository
    flows: AuthorizationFlowRepository
    documents: DocumentRepository
    offers: OfferRepository
    items: OfferItemRepository
    migrations: MigrationRepository
    access: AccessRepository
    redeem_attempts: RedeemAttemptRepository
    outbox: OutboxRepository
    charges: ChargeRepository
    copies: DocumentCopyRepository
    redirects: DocumentRedirectRepository
    api_tokens: ApiTokenRepository
    audit: AuditRepository
    sign_in_failures: SignInFailureRepository
    sessions: SessionRepository
    rate_limits: RateLimitRepository

    def __init__(self, engine: Engine, secret: bytes) -> None:
        self._engine = engine
        self._outbox_key = sealing_key(secret, OUTBOX_KEY_LABEL)
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is open already")
        connection = self._engine.connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        self.environments = SqlAlchemyEnvironmentRepository(connection)
        self.users = SqlAlchemyUserRepository(connection)
        self.connections = SqlAlchemyConnectionRepository(connection)
        self.administrations = SqlAlchemyAdministrationRepository(connection)
        self.flows = SqlAlchemyAuthorizationFlowRepository(connection)
        self.documents = SqlAlchemyDocumentRepository(connection)
        self.offers = SqlAlchemyOfferRepository(connection)
        self.items = SqlAlchemyOfferItemRepository(connection)
        self.migrations = SqlAlchemyMigrationRepository(connection)
        self.access = SqlAlchemyAccessRepository(connection)
        self.redeem_attempts = SqlAlchemyRedeemAttemptRepository(connection)
        self.outbox = SqlAlchemyOutboxRepository(connection, self._outbox_key)
        self.charges = SqlAlchemyChargeRepository(connection)
        self.copies = SqlAlchemyDocumentCopyRepository(connection)
        self.redirects = SqlAlchemyDocumentRedirectRepository(connection)
        self.api_tokens = SqlAlchemyApiTokenRepository(connection)
        self.audit = SqlAlchemyAuditRepository(connection)
        self.sign_in_failures = SqlAlchemySignInFailureRepository(connection)
        self.sessions = SqlAlchemySessionRepository(connection)
        self.rate_limits = SqlAlchemyRateLimitRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._open(), None
        try:
            connection.rollback()
        finally:
            connection.close()

    @property
    def connection(self) -> Connection:
        """The open connection, for what the repositories do not cover (tests, tools)."""
        return self._open()

    def commit(self) -> None:
        self._open().commit()

    def rollback(self) -> None:
        self._open().rollback()

    def _open(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside a with block")
        return self._connection


def unit_of_work_factory(engine: Engine, secret: bytes) -> UnitOfWorkFactory:
    """What ``Dependencies.uow`` wants: a fresh unit of work on ``engine`` per call;
    ``secret`` is the server's secret (``Settings.code_secret()``)."""

    def make() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, secret)

    return make
