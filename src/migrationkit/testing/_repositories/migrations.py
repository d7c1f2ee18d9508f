"""In-memory repositories: each one the contract of its Protocol in ``migrationkit.ports``,
database rules included."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from migrationkit import ports
from migrationkit.domain.api_tokens import USE_RECORDED_EVERY, ApiToken
from migrationkit.domain.audit import AuditEvent, AuditRecord
from migrationkit.domain.errors import Conflict, NotFound, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccessGrant,
    AccountingPackage,
    Administration,
    AuthorizationFlow,
    Charge,
    Connection,
    Document,
    Email,
    Environment,
    ItemStatus,
    Migration,
    MigrationTarget,
    OfferItem,
    Role,
    TransferOffer,
    User,
    document_address,
)
from migrationkit.domain.sessions import UserSession
from migrationkit.ports import (
    ArchiveTotals,
    AuditSearchWord,
    DocumentCopy,
    DocumentRedirect,
    OutboxMessage,
    StatusChange,
)
from migrationkit.testing._database import Source, Table, Transaction

# --- database rules --------------------------------------------------------------------------


def _code_name_taken(source: Source, environment_id: int, code: str, name: str) -> RuleViolation:
    environment = ENVIRONMENTS.get(source, environment_id)
    assert environment is not None  # every write checks its environment exists
    return RuleViolation("code_name_taken", environment=environment.name, code=code, name=name)


def _check_user(source: Source, user: User) -> None:
    """One user per e-mail address, whatever its case (``get_by_email`` finds one)."""
    for other in USERS.rows(source):
        if other.id != user.id and other.email.casefold() == user.email.casefold():
            raise RuleViolation("email_taken", email=user.email)


def _check_administration(source: Source, administration: Administration) -> None:
    """R8: unique (environment, code, name); R9: unique (connection, package admin id)."""
    for other in ADMINISTRATIONS.rows(source):
        if other.id == administration.id:
            continue
        if (other.environment_id, other.code, other.name) == (
            administration.environment_id,
            administration.code,
            administration.name,
        ):
            raise _code_name_taken(
                source, administration.environment_id, administration.code, administration.name
            )
        if (other.connection_id, other.package_admin_id) == (
            administration.connection_id,
            administration.package_admin_id,
        ):
            raise RuleViolation(
                "package_administration_linked",
                code=administration.code,
                name=administration.name,
            )


def _check_migration(source: Source, migration: Migration) -> None:
    """One migration per item; an unfinished one reserves its target (R8, R9)."""
    target = migration.target
    for other in MIGRATIONS.rows(source):
        if other.id == migration.id:
            continue
        if other.item_id == migration.item_id:
            item = ITEMS.get(source, migration.item_id)
            assert item is not None  # the migration's add made sure of it
            raise Conflict("item_started", code=item.code, name=item.name, status=item.status)
        if other.finished_at is not None or migration.finished_at is not None:
            continue
        if (other.target_environment_id, other.target.code, other.target.name) == (
            migration.target_environment_id,
            target.code,
            target.name,
        ):
            raise _code_name_taken(
                source, migration.target_environment_id, target.code, target.name
            )
        if (other.target.connection_id, other.target.package_admin_id) == (
            target.connection_id,
            target.package_admin_id,
        ):
            raise RuleViolation("package_administration_linked", code=target.code, name=target.name)


@attrs.frozen
class _RedeemFailure:
    user_id: int
    environment_id: int
    at: datetime


ENVIRONMENTS: Table[int, Environment] = Table("environments")
USERS: Table[int, User] = Table("users", _check_user)
PASSWORD_HASHES: Table[int, str] = Table("password_hashes")
CONNECTIONS: Table[int, Connection] = Table("connections")
ADMINISTRATIONS: Table[int, Administration] = Table("administrations", _check_administration)
FLOWS: Table[int, AuthorizationFlow] = Table("flows")
DOCUMENTS: Table[int, Document] = Table("documents")
OFFERS: Table[int, TransferOffer] = Table("offers")
ITEMS: Table[int, OfferItem] = Table("items")
STATUS_CHANGES: Table[int, StatusChange] = Table("status_changes")
MIGRATIONS: Table[int, Migration] = Table("migrations", _check_migration)
ACCESS: Table[tuple[int, int], AccessGrant] = Table("access")
REDEEM_FAILURES: Table[int, _RedeemFailure] = Table("redeem_failures")
OUTBOX: Table[int, OutboxMessage] = Table("outbox")
#: Keyed by migration id: one charge per migration (R15).
CHARGES: Table[int, Charge] = Table("charges")
#: Keyed by (migration id, document id): a document's copy is recorded once per migration.
COPIES: Table[tuple[int, int], DocumentCopy] = Table("document_copies")
#: The copies that the target store was seen to hold (``record_verified``).
VERIFIED_COPIES: Table[tuple[int, int], bool] = Table("verified_copies")
#: The blobs a transaction holds (``hold_blobs``), by store and key.
BLOB_HOLDS: Table[tuple[str, str], bool] = Table("blob_holds")
#: Keyed by the old address.
REDIRECTS: Table[str, DocumentRedirect] = Table("document_redirects")
#: API tokens by id, with their keyed digests by id beside them.
API_TOKENS: Table[int, ApiToken] = Table("api_tokens")
API_TOKEN_DIGESTS: Table[int, str] = Table("api_token_digests")
AUDIT_EVENTS: Table[int, AuditEvent] = Table("audit_events")
#: Refused sign-ins by id: (user id, moment).
SIGN_IN_FAILURES: Table[int, tuple[int, datetime]] = Table("sign_in_failures")
#: Sessions by id, with their keyed digests by id beside them.
SESSIONS: Table[int, UserSession] = Table("sessions")
SESSION_DIGESTS: Table[int, str] = Table("session_digests")
#: Calls by (key, start of the window).
RATE_LIMIT_HITS: Table[tuple[str, datetime], int] = Table("rate_limit_hits")


V = TypeVar("V")

# --- repositories ----------------------------------------------------------------------------


class _Repository:
    """Works in the transaction of the unit of work that made it."""

    def __init__(self, transaction: Callable[[], Transaction]) -> None:
        self._transaction = transaction

    @property
    def _tx(self) -> Transaction:
        return self._transaction()


def _existing(source: Source, table: Table[int, Any], key: int, error: str) -> Any:
    """The parent row a new row refers to: a foreign key, as the database holds it."""
    row = table.get(source, key)
    if row is None:
        raise NotFound(error)
    return row


def _lock(transaction: Transaction, table: Table[int, V], key: int) -> V | None:
    row = table.get(transaction, key)
    if row is not None:
        table.put(transaction, key, row)
    return row


class InMemoryEnvironmentRepository(_Repository, ports.EnvironmentRepository):
    def add(self, name: str, *, has_subscription: bool, archive_store: str) -> Environment:
        tx = self._tx
        environment = Environment(
            id=tx.next_id(ENVIRONMENTS.name),
            name=name,
            has_subscription=has_subscription,
            archive_store=archive_store,
        )
        ENVIRONMENTS.put(tx, environment.id, environment)
        return environment

    def get(self, environment_id: int) -> Environment | None:
        return ENVIRONMENTS.get(self._tx, environment_id)

    def lock(self, environment_id: int) -> Environment | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        return _lock(self._tx, ENVIRONMENTS, environment_id)

    def list(self) -> Sequence[Environment]:
        """Ordered by id."""
        return ENVIRONMENTS.rows(self._tx)


class InMemoryUserRepository(_Repository, ports.UserRepository):
    def add(
        self, environment_id: int, email: str, name: str, role: Role, password_hash: str = ""
    ) -> User:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        user = User(
            id=tx.next_id(USERS.name),
            environment_id=environment_id,
            email=email,
            name=name,
            role=role,
        )
        USERS.put(tx, user.id, user)
        PASSWORD_HASHES.put(tx, user.id, password_hash)
        return user

    def get(self, user_id: int) -> User | None:
        return USERS.get(self._tx, user_id)

    def lock(self, user_id: int) -> User | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        return _lock(self._tx, USERS, user_id)

    def password_hash(self, user_id: int) -> str | None:
        return PASSWORD_HASHES.get(self._tx, user_id)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        tx = self._tx
        if USERS.get(tx, user_id) is not None:
            PASSWORD_HASHES.put(tx, user_id, password_hash)

    def get_by_email(self, email: str) -> User | None:
        wanted = email.casefold()
        return next((u for u in USERS.rows(self._tx) if u.email.casefold() == wanted), None)

    def list_for_environment(self, environment_id: int) -> Sequence[User]:
        """Ordered by id."""
        return [u for u in USERS.rows(self._tx) if u.environment_id == environment_id]


class InMemoryConnectionRepository(_Repository, ports.ConnectionRepository):
    def add(self, environment_id: int, package: AccountingPackage, name: str) -> Connection:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        connection = Connection(
            id=tx.next_id(CONNECTIONS.name),
            environment_id=environment_id,
            package=package,
            name=name,
        )
        CONNECTIONS.put(tx, connection.id, connection)
        return connection

    def get(self, connection_id: int) -> Connection | None:
        return CONNECTIONS.get(self._tx, connection_id)

    def list_for_environment(self, environment_id: int) -> Sequence[Connection]:
        """Ordered by id."""
        return [c for c in CONNECTIONS.rows(self._tx) if c.environment_id == environment_id]


def _by_code_name(administrations: list[Administration]) -> list[Administration]:
    return sorted(administrations, key=lambda a: (a.code, a.name, a.id))


class InMemoryAdministrationRepository(_Repository, ports.AdministrationRepository):
    def add(
        self,
        environment_id: int,
        connection_id: int,
        code: str,
        name: str,
        email: str,
        package_admin_id: str,
    ) -> Administration:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        connection: Connection = _existing(tx, CONNECTIONS, connection_id, "unknown_connection")
        administration = Administration(
            id=tx.next_id(ADMINISTRATIONS.name),
            environment_id=environment_id,
            connection_id=connection_id,
            package=connection.package,
            code=code,
            name=name,
            email=email,
            package_admin_id=package_admin_id,
        )
        ADMINISTRATIONS.put(tx, administration.id, administration)
        return administration

    def get(self, administration_id: int) -> Administration | None:
        return ADMINISTRATIONS.get(self._tx, administration_id)

    def lock(self, administration_id: int) -> Administration | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        tx = self._tx
        administration = ADMINISTRATIONS.get(tx, administration_id)
        if administration is not None:
            ADMINISTRATIONS.put(tx, administration_id, administration)
        return administration

    def list_for_environment(self, environment_id: int) -> Sequence[Administration]:
        return _by_code_name(
            [a for a in ADMINISTRATIONS.rows(self._tx) if a.environment_id == environment_id]
        )

    def list_for_connection(self, connection_id: int) -> Sequence[Administration]:
        """Ordered by code, then name."""
        return _by_code_name(
            [a for a in ADMINISTRATIONS.rows(self._tx) if a.connection_id == connection_id]
        )

    def find_by_code_name(self, environment_id: int, code: str, name: str) -> Administration | None:
        return next(
            (
                a
                for a in ADMINISTRATIONS.rows(self._tx)
                if (a.environment_id, a.code, a.name) == (environment_id, code, name)
            ),
            None,
        )

    def find_linked(self, connection_id: int, package_admin_id: str) -> Administration | None:
        return next(
            (
                a
                for a in ADMINISTRATIONS.rows(self._tx)
                if (a.connection_id, a.package_admin_id) == (connection_id, package_admin_id)
            ),
            None,
        )

    def replace(self, administration: Administration) -> Administration:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration.id, "unknown_administration")
        _existing(tx, ENVIRONMENTS, administration.environment_id, "unknown_environment")
        connection: Connection = _existing(
            tx, CONNECTIONS, administration.connection_id, "unknown_connection"
        )
        # The package follows the connection, as the stored row has no package of its own.
        stored = attrs.evolve(administration, package=connection.package)
        ADMINISTRATIONS.put(tx, stored.id, stored)
        return stored


class InMemoryAuthorizationFlowRepository(_Repository, ports.AuthorizationFlowRepository):
    def add(
        self, administration_id: int, name: str, authorizer_user_ids: Sequence[int] = ()
    ) -> AuthorizationFlow:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        flow = AuthorizationFlow(
            id=tx.next_id(FLOWS.name),
            administration_id=administration_id,
            name=name,
            authorizer_user_ids=tuple(authorizer_user_ids),
        )
        FLOWS.put(tx, flow.id, flow)
        return flow

    def list_for_administration(self, administration_id: int) -> Sequence[AuthorizationFlow]:
        """Ordered by id."""
        return [f for f in FLOWS.rows(self._tx) if f.administration_id == administration_id]


class InMemoryDocumentRepository(_Repository, ports.DocumentRepository):
    def add(
        self,
        administration_id: int,
        *,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        archive_store: str,
        blob_key: str,
        received_at: datetime,
    ) -> Document:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        document = Document(
            id=tx.next_id(DOCUMENTS.name),
            administration_id=administration_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            archive_store=archive_store,
            blob_key=blob_key,
            received_at=received_at,
        )
        DOCUMENTS.put(tx, document.id, document)
        return document

    def get(self, document_id: int) -> Document | None:
        return DOCUMENTS.get(self._tx, document_id)

    def list_for_administration(self, administration_id: int) -> Sequence[Document]:
        return [d for d in DOCUMENTS.rows(self._tx) if d.administration_id == administration_id]

    def list_page(
        self, administration_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> Sequence[Document]:
        documents = self.list_for_administration(administration_id)
        return [d for d in documents if d.id > after_id][:limit]

    def totals(self, administration_id: int) -> ArchiveTotals:
        return _totals(self.list_for_administration(administration_id))

    def list_uncopied(
        self,
        administration_id: int,
        migration_id: int,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        limit: int = 1000,
    ) -> Sequence[Document]:
        tx = self._tx
        return [
            d
            for d in self.list_for_administration(administration_id)
            if d.id > after_id
            and (up_to_id is None or d.id <= up_to_id)
            and COPIES.get(tx, (migration_id, d.id)) is None
        ][:limit]

    def point_at_copies(self, administration_id: int, migration_id: int) -> int:
        tx = self._tx
        moved = 0
        for document in self.list_for_administration(administration_id):
            copy = COPIES.get(tx, (migration_id, document.id))
            if copy is not None:
                DOCUMENTS.put(
                    tx,
                    document.id,
                    attrs.evolve(
                        document, archive_store=copy.archive_store, blob_key=copy.blob_key
                    ),
                )
                moved += 1
        return moved

    def referenced_keys(self, archive_store: str, blob_keys: Collection[str]) -> set[str]:
        wanted = set(blob_keys)
        return {
            d.blob_key
            for d in DOCUMENTS.rows(self._tx)
            if d.archive_store == archive_store and d.blob_key in wanted
        }

    def hold_blobs(self, archive_store: str, blob_keys: Collection[str]) -> None:
        """Writes a row per blob: of two units of work that hold one, the later commit
        fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        for key in sorted(set(blob_keys)):
            BLOB_HOLDS.put(self._tx, (archive_store, key), True)


def _totals(rows: Sequence[Document] | Sequence[DocumentCopy]) -> ArchiveTotals:
    return ArchiveTotals(documents=len(rows), bytes=sum(row.size for row in rows))


class InMemoryDocumentCopyRepository(_Repository, ports.DocumentCopyRepository):
    def add_many(self, migration_id: int, copies: Sequence[DocumentCopy], at: datetime) -> int:
        tx = self._tx
        _existing(tx, MIGRATIONS, migration_id, "unknown_migration")
        new = 0
        for copy in copies:
            _existing(tx, DOCUMENTS, copy.document_id, "unknown_document")
            if COPIES.get(tx, (migration_id, copy.document_id)) is None:
                COPIES.put(tx, (migration_id, copy.document_id), copy)
                new += 1
        return new

    def totals(self, migration_id: int) -> ArchiveTotals:
        return _totals(self._of(migration_id))

    def list_page(
        self,
        migration_id: int,
        *,
        after_document_id: int = 0,
        limit: int = 1000,
        unverified: bool = False,
    ) -> Sequence[DocumentCopy]:
        return [
            c
            for c in self._of(migration_id)
            if c.document_id > after_document_id
            and not (unverified and VERIFIED_COPIES.get(self._tx, (migration_id, c.document_id)))
        ][:limit]

    def record_verified(self, migration_id: int, document_ids: Collection[int]) -> None:
        for document_id in document_ids:
            if COPIES.get(self._tx, (migration_id, document_id)) is not None:
                VERIFIED_COPIES.put(self._tx, (migration_id, document_id), True)

    def forget(self, migration_id: int, document_ids: Collection[int]) -> int:
        forgotten = 0
        for document_id in set(document_ids):
            if COPIES.get(self._tx, (migration_id, document_id)) is not None:
                COPIES.delete(self._tx, (migration_id, document_id))
                VERIFIED_COPIES.delete(self._tx, (migration_id, document_id))
                forgotten += 1
        return forgotten

    def list_mismatched(self, migration_id: int, administration_id: int) -> Sequence[int]:
        tx = self._tx
        mismatched = []
        for document in DOCUMENTS.rows(tx):
            if document.administration_id != administration_id:
                continue
            copy = COPIES.get(tx, (migration_id, document.id))
            if copy is None or (copy.size, copy.sha256) != (document.size, document.sha256):
                mismatched.append(document.id)
        return mismatched

    def _of(self, migration_id: int) -> list[DocumentCopy]:
        """The migration's copies, ordered by document id."""
        return [
            copy
            for (copied_in, _), copy in sorted(self._tx.read(COPIES.name).items())
            if copied_in == migration_id
        ]


#: How many redirects ``resolve`` follows before it gives up on a chain.
MAX_REDIRECTS = 100


class InMemoryDocumentRedirectRepository(_Repository, ports.DocumentRedirectRepository):
    def add_for_migration(self, migration_id: int, administration_id: int, at: datetime) -> int:
        tx = self._tx
        moved = []
        for document in DOCUMENTS.rows(tx):
            copy = COPIES.get(tx, (migration_id, document.id))
            if (
                document.administration_id == administration_id
                and copy is not None
                and copy.archive_store != document.archive_store
            ):
                moved.append(
                    DocumentRedirect(
                        old_address=document.address,
                        new_address=document_address(copy.archive_store, document.id),
                        document_id=document.id,
                        migration_id=migration_id,
                    )
                )
        # A document that comes back to a store it once left lives at its old address again.
        for redirect in moved:
            REDIRECTS.delete(tx, redirect.new_address)
        for redirect in moved:
            REDIRECTS.put(tx, redirect.old_address, redirect)
        return len(moved)

    def resolve(self, old_address: str) -> str | None:
        address = old_address
        for _ in range(MAX_REDIRECTS):
            redirect = REDIRECTS.get(self._tx, address)
            if redirect is None:
                break
            address = redirect.new_address
        return None if address == old_address else address

    def list_for_migration(self, migration_id: int) -> Sequence[DocumentRedirect]:
        """Ordered by document id."""
        return sorted(
            (r for r in REDIRECTS.rows(self._tx) if r.migration_id == migration_id),
            key=lambda r: r.document_id,
        )


def _newest_first(offers: list[TransferOffer]) -> list[TransferOffer]:
    return sorted(offers, key=lambda o: (o.created_at, o.id), reverse=True)


class InMemoryOfferRepository(_Repository, ports.OfferRepository):
    def add(
        self,
        *,
        source_environment_id: int,
        source_connection_id: int,
        package: AccountingPackage,
        sender_user_id: int,
        sender_email: str,
        recipients: Sequence[str],
        code_digest: str,
        code_hint: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> TransferOffer:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, source_environment_id, "unknown_environment")
        _existing(tx, CONNECTIONS, source_connection_id, "unknown_connection")
        _existing(tx, USERS, sender_user_id, "unknown_user")
        offer = TransferOffer(
            id=tx.next_id(OFFERS.name),
            source_environment_id=source_environment_id,
            source_connection_id=source_connection_id,
            package=package,
            sender_user_id=sender_user_id,
            sender_email=sender_email,
            recipients=tuple(recipients),
            code_digest=code_digest,
            code_hint=code_hint,
            created_at=created_at,
            expires_at=expires_at,
        )
        OFFERS.put(tx, offer.id, offer)
        return offer

    def get(self, offer_id: int) -> TransferOffer | None:
        return OFFERS.get(self._tx, offer_id)

    def find_by_digest(self, code_digest: str) -> TransferOffer | None:
        return next((o for o in OFFERS.rows(self._tx) if o.code_digest == code_digest), None)

    def replace_code(
        self, offer_id: int, *, code_digest: str, code_hint: str, expires_at: datetime
    ) -> None:
        # A new code has a new expiry, so its reminder is still to be sent.
        self._change(
            offer_id,
            code_digest=code_digest,
            code_hint=code_hint,
            expires_at=expires_at,
            reminder_sent_at=None,
        )

    def bind_target(
        self, offer_id: int, *, environment_id: int, user_id: int, at: datetime
    ) -> bool:
        offer = self._offer(offer_id)
        if offer.target_environment_id is not None:
            return offer.target_environment_id == environment_id
        self._change(
            offer_id,
            target_environment_id=environment_id,
            redeemed_by_user_id=user_id,
            redeemed_at=at,
        )
        return True

    def mark_reminded(self, offer_id: int, at: datetime) -> None:
        self._change(offer_id, reminder_sent_at=at)

    def list_outgoing(self, environment_id: int) -> Sequence[TransferOffer]:
        return _newest_first(
            [o for o in OFFERS.rows(self._tx) if o.source_environment_id == environment_id]
        )

    def list_incoming(self, environment_id: int) -> Sequence[TransferOffer]:
        return _newest_first(
            [o for o in OFFERS.rows(self._tx) if o.target_environment_id == environment_id]
        )

    def list_with_offered_items(self) -> Sequence[TransferOffer]:
        """Ordered by id."""
        tx = self._tx
        offered = {i.offer_id for i in ITEMS.rows(tx) if i.status is ItemStatus.OFFERED}
        return [o for o in OFFERS.rows(tx) if o.id in offered]

    def _offer(self, offer_id: int) -> TransferOffer:
        offer: TransferOffer = _existing(self._tx, OFFERS, offer_id, "unknown_offer")
        return offer

    def _change(self, offer_id: int, **changes: Any) -> None:
        OFFERS.put(self._tx, offer_id, attrs.evolve(self._offer(offer_id), **changes))


class InMemoryOfferItemRepository(_Repository, ports.OfferItemRepository):
    def add(self, offer_id: int, administration: Administration, at: datetime) -> OfferItem:
        """Logs the offer as the item's first status change, by the sender."""
        tx = self._tx
        offer: TransferOffer = _existing(tx, OFFERS, offer_id, "unknown_offer")
        _existing(tx, ADMINISTRATIONS, administration.id, "unknown_administration")
        item = OfferItem(
            id=tx.next_id(ITEMS.name),
            offer_id=offer_id,
            administration_id=administration.id,
            code=administration.code,
            name=administration.name,
            email=administration.email,
            status=ItemStatus.OFFERED,
            status_changed_at=at,
        )
        ITEMS.put(tx, item.id, item)
        self._log(item.id, None, ItemStatus.OFFERED, "offer", offer.sender_user_id, at)
        return item

    def get(self, item_id: int) -> OfferItem | None:
        return ITEMS.get(self._tx, item_id)

    def list_for_offer(self, offer_id: int) -> Sequence[OfferItem]:
        return [i for i in ITEMS.rows(self._tx) if i.offer_id == offer_id]

    def list_open_for_administration(self, administration_id: int) -> Sequence[OfferItem]:
        """Ordered by id."""
        return [
            i
            for i in ITEMS.rows(self._tx)
            if i.administration_id == administration_id and i.status.is_open
        ]

    def compare_and_set(
        self,
        item: OfferItem,
        to: ItemStatus,
        *,
        event: Event,
        at: datetime,
        actor_user_id: int | None = None,
        rejection_reason: str | None = None,
    ) -> bool:
        tx = self._tx
        stored = ITEMS.get(tx, item.id)
        if stored is None or stored.status is not item.status:
            return False
        changed = attrs.evolve(
            stored,
            status=to,
            status_changed_at=at,
            rejection_reason=rejection_reason,
        )
        ITEMS.put(tx, item.id, changed)
        self._log(item.id, stored.status, to, event.value, actor_user_id, at)
        return True

    def status_changes(self, item_id: int) -> Sequence[StatusChange]:
        return [c for c in STATUS_CHANGES.rows(self._tx) if c.item_id == item_id]

    def _log(
        self,
        item_id: int,
        from_status: ItemStatus | None,
        to_status: ItemStatus,
        event: str,
        actor_user_id: int | None,
        at: datetime,
    ) -> None:
        tx = self._tx
        change = StatusChange(
            item_id=item_id,
            from_status=from_status,
            to_status=to_status,
            event=event,
            actor_user_id=actor_user_id,
            at=at,
        )
        STATUS_CHANGES.put(tx, tx.next_id(STATUS_CHANGES.name), change)


class InMemoryMigrationRepository(_Repository, ports.MigrationRepository):
    def add(
        self,
        item: OfferItem,
        *,
        target_environment_id: int,
        target: MigrationTarget,
        at: datetime,
    ) -> Migration:
        """Also raises ``Conflict("item_started")`` when the item has a migration already."""
        tx = self._tx
        _existing(tx, ITEMS, item.id, "unknown_item")
        _existing(tx, ENVIRONMENTS, target_environment_id, "unknown_environment")
        _existing(tx, CONNECTIONS, target.connection_id, "unknown_connection")
        migration = Migration(
            id=tx.next_id(MIGRATIONS.name),
            item_id=item.id,
            administration_id=item.administration_id,
            target_environment_id=target_environment_id,
            target=target,
            started_at=at,
        )
        MIGRATIONS.put(tx, migration.id, migration)
        return migration

    def get(self, migration_id: int) -> Migration | None:
        return MIGRATIONS.get(self._tx, migration_id)

    def get_for_item(self, item_id: int) -> Migration | None:
        return next((m for m in MIGRATIONS.rows(self._tx) if m.item_id == item_id), None)

    def list_unfinished_into(self, environment_id: int) -> Sequence[Migration]:
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if m.target_environment_id == environment_id and m.finished_at is None
        ]

    def finished_into(self, administration_id: int, environment_id: int) -> bool:
        return any(
            m.administration_id == administration_id
            and m.target_environment_id == environment_id
            and m.finished_at is not None
            for m in MIGRATIONS.rows(self._tx)
        )

    def record_claim(self, migration_id: int, *, lease_for: timedelta) -> None:
        migration = self._migration(migration_id)
        self._store(
            migration,
            attempts=migration.attempts + 1,
            lease_expires_at=self._tx.database.clock.now() + lease_for,
            failure_reason=None,
            failure_code=None,
            failure_params=(),
        )

    def record_progress(
        self,
        migration_id: int,
        *,
        documents_total: int,
        documents_done: int,
        bytes_total: int,
        bytes_done: int,
    ) -> None:
        self._store(
            self._migration(migration_id),
            documents_total=documents_total,
            documents_done=documents_done,
            bytes_total=bytes_total,
            bytes_done=bytes_done,
        )

    def record_failure(
        self,
        migration_id: int,
        reason: str,
        *,
        code: str | None = None,
        params: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._store(
            self._migration(migration_id),
            failure_reason=reason,
            failure_code=code,
            failure_params=() if code is None else tuple(params),
        )

    def record_finish(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), finished_at=at)

    def start_links_attempt(self, migration_id: int, *, attempts_seen: int) -> bool:
        migration = self._migration(migration_id)
        if migration.links_rewritten_at is not None or migration.links_attempts != attempts_seen:
            return False
        self._store(migration, links_attempts=attempts_seen + 1)
        return True

    def record_links_rewritten(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), links_rewritten_at=at)

    def record_source_released(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), source_released_at=at)

    def list_after_finish(
        self, *, link_attempts: int, released_before: datetime
    ) -> Sequence[Migration]:
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if m.finished_at is not None
            and (
                (m.links_rewritten_at is None and m.links_attempts < link_attempts)
                or (m.source_released_at is None and m.finished_at < released_before)
            )
        ]

    def heartbeat(self, migration_id: int, *, lease_for: timedelta) -> bool:
        tx = self._tx
        migration = MIGRATIONS.get(tx, migration_id)
        if migration is None or self._status(migration) is not ItemStatus.PROCESSING:
            return False
        self._store(migration, lease_expires_at=tx.database.clock.now() + lease_for)
        return True

    def list_to_run(self) -> Sequence[Migration]:
        """Ordered by id; leases compared with the database's clock."""
        now = self._tx.database.clock.now()
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if self._status(m) is ItemStatus.QUEUED
            or (
                self._status(m) is ItemStatus.PROCESSING
                and (m.lease_expires_at is None or m.lease_expires_at < now)
            )
        ]

    def _status(self, migration: Migration) -> ItemStatus:
        item: OfferItem = _existing(self._tx, ITEMS, migration.item_id, "unknown_item")
        return item.status

    def _migration(self, migration_id: int) -> Migration:
        migration: Migration = _existing(self._tx, MIGRATIONS, migration_id, "unknown_migration")
        return migration

    def _store(self, migration: Migration, **changes: Any) -> None:
        MIGRATIONS.put(self._tx, migration.id, attrs.evolve(migration, **changes))


class InMemoryAccessRepository(_Repository, ports.AccessRepository):
    def set(self, administration_id: int, user_id: int, *, granted: bool) -> None:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        _existing(tx, USERS, user_id, "unknown_user")
        grant = AccessGrant(administration_id=administration_id, user_id=user_id, granted=granted)
        ACCESS.put(tx, (administration_id, user_id), grant)

    def list_for_administration(self, administration_id: int) -> Sequence[AccessGrant]:
        """Ordered by user id."""
        return [g for g in ACCESS.rows(self._tx) if g.administration_id == administration_id]

    def clear_for_administration(self, administration_id: int) -> None:
        tx = self._tx
        for grant in self.list_for_administration(administration_id):
            ACCESS.delete(tx, (administration_id, grant.user_id))


class InMemoryRedeemAttemptRepository(_Repository, ports.RedeemAttemptRepository):
    def add_failure(self, *, user_id: int, environment_id: int, at: datetime) -> None:
        tx = self._tx
        failure = _RedeemFailure(user_id=user_id, environment_id=environment_id, at=at)
        REDEEM_FAILURES.put(tx, tx.next_id(REDEEM_FAILURES.name), failure)

    def failures_for_user(self, user_id: int, since: datetime) -> Sequence[datetime]:
        """Oldest first."""
        return sorted(f.at for f in self._failures(since) if f.user_id == user_id)

    def failures_for_environment(self, environment_id: int, since: datetime) -> Sequence[datetime]:
        """Oldest first."""
        return sorted(f.at for f in self._failures(since) if f.environment_id == environment_id)

    def _failures(self, since: datetime) -> list[_RedeemFailure]:
        return [f for f in REDEEM_FAILURES.rows(self._tx) if f.at >= since]


def _oldest_first(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    return sorted(messages, key=lambda m: (m.created_at, m.id))


class InMemoryOutboxRepository(_Repository, ports.OutboxRepository):
    def add(self, email: Email, at: datetime) -> OutboxMessage:
        tx = self._tx
        message = OutboxMessage(id=tx.next_id(OUTBOX.name), email=email, created_at=at)
        OUTBOX.put(tx, message.id, message)
        return message

    def list_pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        return [m for m in _oldest_first(OUTBOX.rows(self._tx)) if m.sent_at is None][:limit]

    def claim_pending(
        self, limit: int, *, now: datetime, until: datetime
    ) -> Sequence[OutboxMessage]:
        """Holds the database's claim lock until the transaction ends, as SQLite's one
        writer would: a dispatcher claiming at the same moment waits, then sees this one's
        claims."""
        tx = self._tx
        tx.hold_claims()
        claimable = [
            message
            for message in _oldest_first(OUTBOX.rows(tx))
            if message.sent_at is None
            and (message.claimed_until is None or message.claimed_until <= now)
        ]
        claimed = [attrs.evolve(message, claimed_until=until) for message in claimable[:limit]]
        for message in claimed:
            OUTBOX.put(tx, message.id, message)
        return claimed

    def release(self, message_ids: Collection[int], *, until: datetime) -> None:
        tx = self._tx
        for message_id in message_ids:
            message = OUTBOX.get(tx, message_id)
            if message is not None and message.sent_at is None and message.claimed_until == until:
                OUTBOX.put(tx, message_id, attrs.evolve(message, claimed_until=None))

    def list_recent(self, limit: int = 100) -> Sequence[OutboxMessage]:
        return _oldest_first(OUTBOX.rows(self._tx))[::-1][:limit]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        tx = self._tx
        message = OUTBOX.get(tx, message_id)
        if message is None:
            raise KeyError(f"no outbox message {message_id}")
        OUTBOX.put(
            tx, message_id, attrs.evolve(message, sent_at=at, email=message.email.without_secret())
        )


class InMemoryChargeRepository(_Repository, ports.ChargeRepository):
    def add(self, charge: Charge) -> bool:
        tx = self._tx
        if CHARGES.get(tx, charge.migration_id) is not None:
            return False
        CHARGES.put(tx, charge.migration_id, charge)
        return True

    def list_for_environment(self, environment_id: int) -> Sequence[Charge]:
        """Ordered by migration id."""
        return [c for c in CHARGES.rows(self._tx) if c.environment_id == environment_id]


class InMemoryApiTokenRepository(_Repository, ports.ApiTokenRepository):
    def add(self, *, user_id: int, name: str, digest: str, shown: str, at: datetime) -> ApiToken:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        if digest in API_TOKEN_DIGESTS.rows(tx):
            raise ValueError("an API token with this digest exists already")
        token = ApiToken(
            id=tx.next_id(API_TOKENS.name), user_id=user_id, name=name, shown=shown, created_at=at
        )
        API_TOKENS.put(tx, token.id, token)
        API_TOKEN_DIGESTS.put(tx, token.id, digest)
        return token

    def find_active(self, digest: str) -> ApiToken | None:
        tx = self._tx
        for token in API_TOKENS.rows(tx):
            if API_TOKEN_DIGESTS.get(tx, token.id) == digest and token.active:
                return token
        return None

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        tokens = [t for t in API_TOKENS.rows(self._tx) if t.user_id == user_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    def revoke(self, token_id: int, at: datetime) -> bool:
        tx = self._tx
        token = API_TOKENS.get(tx, token_id)
        if token is None or not token.active:
            return False
        API_TOKENS.put(tx, token_id, attrs.evolve(token, revoked_at=at))
        return True

    def mark_used(self, token_id: int, at: datetime) -> None:
        tx = self._tx
        token = API_TOKENS.get(tx, token_id)
        if token is None:
            return
        if token.last_used_at is None or token.last_used_at <= at - USE_RECORDED_EVERY:
            API_TOKENS.put(tx, token_id, attrs.evolve(token, last_used_at=at))


def _matches_word(event: AuditEvent, word: AuditSearchWord) -> bool:
    """As the database's search: the word in any of the event's texts, ignoring case, or
    the event's action, outcome, object kind or channel among those the word names."""
    record = event.record
    texts = (
        record.actor_email,
        record.origin.address,
        record.origin.channel,
        record.subject_type,
        None if record.subject_id is None else str(record.subject_id),
        record.error_code,
        record.message_nl,
        record.message_en,
    )
    needle = word.text.lower()
    return (
        any(text is not None and needle in text.lower() for text in texts)
        or record.action in word.actions
        or record.outcome in word.outcomes
        or record.subject_type in word.subject_types
        or record.origin.channel in word.channels
    )


class InMemoryAuditRepository(_Repository, ports.AuditRepository):
    """Append-only: it has no way to change or remove an event."""

    def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        tx = self._tx
        event = AuditEvent(id=tx.next_id(AUDIT_EVENTS.name), at=at, record=record)
        AUDIT_EVENTS.put(tx, event.id, event)
        return event

    def search(
        self,
        environment_id: int,
        words: Sequence[AuditSearchWord],
        *,
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[AuditEvent]:
        found = [
            event
            for event in AUDIT_EVENTS.rows(self._tx)
            if event.record.environment_id == environment_id
            and (before_id is None or event.id < before_id)
            and all(_matches_word(event, word) for word in words)
        ]
        return sorted(found, key=lambda event: event.id, reverse=True)[:limit]


class InMemorySignInFailureRepository(_Repository, ports.SignInFailureRepository):
    def add(self, *, user_id: int, at: datetime) -> int:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        failure_id = tx.next_id(SIGN_IN_FAILURES.name)
        SIGN_IN_FAILURES.put(tx, failure_id, (user_id, at))
        return failure_id

    def since(self, user_id: int, since: datetime) -> Sequence[datetime]:
        return sorted(
            at for owner, at in SIGN_IN_FAILURES.rows(self._tx) if owner == user_id and at >= since
        )

    def remove(self, failure_id: int) -> None:
        SIGN_IN_FAILURES.delete(self._tx, failure_id)


class InMemorySessionRepository(_Repository, ports.SessionRepository):
    def add(self, *, user_id: int, digest: str, user_agent: str, at: datetime) -> UserSession:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        if digest in SESSION_DIGESTS.rows(tx):
            raise ValueError("a session with this digest exists already")
        session = UserSession(
            id=tx.next_id(SESSIONS.name),
            user_id=user_id,
            started_at=at,
            last_seen_at=at,
            user_agent=user_agent,
        )
        SESSIONS.put(tx, session.id, session)
        SESSION_DIGESTS.put(tx, session.id, digest)
        return session

    def find(self, digest: str) -> UserSession | None:
        tx = self._tx
        return next((s for s in SESSIONS.rows(tx) if SESSION_DIGESTS.get(tx, s.id) == digest), None)

    def touch(self, session_id: int, at: datetime) -> None:
        tx = self._tx
        session = SESSIONS.get(tx, session_id)
        if session is not None:
            SESSIONS.put(tx, session_id, attrs.evolve(session, last_seen_at=at))

    def list_for_user(self, user_id: int) -> Sequence[UserSession]:
        found = [s for s in SESSIONS.rows(self._tx) if s.user_id == user_id]
        return sorted(found, key=lambda s: (s.started_at, s.id), reverse=True)

    def end(self, session_id: int) -> bool:
        tx = self._tx
        if SESSIONS.get(tx, session_id) is None:
            return False
        SESSIONS.delete(tx, session_id)
        SESSION_DIGESTS.delete(tx, session_id)
        return True

    def end_for_user(self, user_id: int, *, keep: int | None = None) -> int:
        return self._end_where(lambda s: s.user_id == user_id and s.id != keep)

    def end_over(self, *, started_by: datetime, seen_by: datetime) -> int:
        return self._end_where(lambda s: s.started_at <= started_by or s.last_seen_at <= seen_by)

    def _end_where(self, over: Callable[[UserSession], bool]) -> int:
        return sum(self.end(s.id) for s in SESSIONS.rows(self._tx) if over(s))


class InMemoryRateLimitRepository(_Repository, ports.RateLimitRepository):
    def hit(self, key: str, window_start: datetime) -> int:
        tx = self._tx
        hits = (RATE_LIMIT_HITS.get(tx, (key, window_start)) or 0) + 1
        RATE_LIMIT_HITS.put(tx, (key, window_start), hits)
        return hits

    def purge(self, before: datetime) -> int:
        tx = self._tx
        old = [key for key in tx.read(RATE_LIMIT_HITS.name) if key[1] < before]
        for key in old:
            RATE_LIMIT_HITS.delete(tx, key)
        return len(old)
