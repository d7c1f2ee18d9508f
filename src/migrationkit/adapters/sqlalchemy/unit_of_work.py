"""The unit of work on SQLAlchemy: one connection, one transaction, every repository."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

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
from migrationkit.adapters.sqlalchemy.repositories.manifests import SqlAlchemyManifestRepository
from migrationkit.domain.errors import Unavailable
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
    UnitOfWorkFactory,
    UserRepository,
)

#: SQLSTATEs of a wait for another session that PostgreSQL gave up: lock_not_available
#: (``lock_timeout``), deadlock_detected.
_BUSY_STATES = frozenset({"55P03", "40P01"})
#: SQLite's names of a lock it could not get within its busy timeout.
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
#: SQLSTATEs (and their classes) of a session lost or ended by the server: a connection
#: exception (08), a shutdown or restart (57P), ``idle_in_transaction_session_timeout``.
_GONE_STATES = ("08", "57P", "25P03")


def transient(error: DBAPIError, *, connecting: bool = False) -> Unavailable | None:
    """What a database error means when it is one that passes: ``database_busy`` (a lock
    not had in time, a deadlock) or ``database_unavailable`` (no connection could be made,
    or the session was lost or ended by the server); ``None`` for any other."""
    state = getattr(error.orig, "sqlstate", None) or ""
    if state in _BUSY_STATES or getattr(error.orig, "sqlite_errorname", "").startswith(
        _SQLITE_BUSY
    ):
        return Unavailable("database_busy")
    if connecting or error.connection_invalidated or state.startswith(_GONE_STATES):
        return Unavailable("database_unavailable")
    return None


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. The repositories exist inside the ``with`` block;
    leaving it without ``commit()`` rolls back. After a commit the same unit of work may
    go on: the next statement begins a new transaction.

    ``secret`` is the server's secret: the outbox seals its e-mails' secrets (transfer
    codes) with a key derived from it, so none is kept in plain text (R5).

    An error of the database that passes (``transient``) leaves the ``with`` block as
    ``Unavailable``, caused by the database's own error; nothing of it was committed."""

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
    manifests: ManifestRepository
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
        with _translated(connecting=True):
            connection = self._engine.connect()
        try:
            with _translated():  # SQLite takes its write lock here
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
        self.manifests = SqlAlchemyManifestRepository(connection)
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
            with _translated():
                connection.rollback()
        except (DBAPIError, Unavailable):
            if exc is None:
                raise
            # The session is gone already: what went wrong first is what is told.
        finally:
            connection.close()
        if isinstance(exc, DBAPIError) and (unavailable := transient(exc)) is not None:
            raise unavailable from exc

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


@contextmanager
def _translated(*, connecting: bool = False) -> Iterator[None]:
    """Raises a database error that passes as ``Unavailable``."""
    try:
        yield
    except DBAPIError as error:
        unavailable = transient(error, connecting=connecting)
        if unavailable is None:
            raise
        raise unavailable from error


def unit_of_work_factory(engine: Engine, secret: bytes) -> UnitOfWorkFactory:
    """What ``Dependencies.uow`` wants: a fresh unit of work on ``engine`` per call;
    ``secret`` is the server's secret (``Settings.code_secret()``)."""

    def make() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, secret)

    return make
