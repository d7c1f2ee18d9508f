"""The ports: one Protocol for each outside thing the use cases talk to.

The use cases in ``migrationkit.services`` get these and never a concrete adapter. The
library's own adapters live in ``migrationkit.adapters``; in-memory fakes of every port, for
tests of the library and of the backends that embed it, live in ``migrationkit.testing``.

Repositories return frozen domain values. A write that a rule of the database refuses raises
the matching ``MigrationError`` (for example ``RuleViolation("code_name_taken")`` for R8), so
a race cannot slip past a rule that was checked a moment earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

import attrs

from migrationkit.domain.api_tokens import ApiToken
from migrationkit.domain.audit import AuditAction, AuditEvent, AuditOutcome, AuditRecord
from migrationkit.domain.machine import Event
from migrationkit.domain.manifest import ManifestEntry
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
    PackageAdministration,
    Role,
    TransferOffer,
    User,
)
from migrationkit.domain.overviews import Cursor, SearchWord
from migrationkit.domain.sessions import UserSession


class Clock(Protocol):
    """Tells the time: an aware UTC datetime."""

    def now(self) -> datetime: ...


# --- repositories ----------------------------------------------------------------------------


class EnvironmentRepository(Protocol):
    def add(self, name: str, *, has_subscription: bool, archive_store: str) -> Environment: ...

    def get(self, environment_id: int) -> Environment | None: ...

    def lock(self, environment_id: int) -> Environment | None:
        """Reads the environment and holds it until the transaction ends (``SELECT ... FOR
        UPDATE``): every redemption of a code into the environment takes this lock before it
        counts the wrong codes, so of codes typed at once only as many are looked at as the
        lockout allows (R7)."""
        ...

    def list(self) -> Sequence[Environment]: ...


class UserRepository(Protocol):
    def add(
        self, environment_id: int, email: str, name: str, role: Role, password_hash: str = ""
    ) -> User:
        """Raises ``RuleViolation("email_taken")`` when the address (in any case) is in use."""
        ...

    def get(self, user_id: int) -> User | None: ...

    def lock(self, user_id: int) -> User | None:
        """Reads the user and holds them until the transaction ends (``SELECT ... FOR
        UPDATE``): a sign-in takes this lock to count the refused sign-ins and reserve its
        own, so of passwords typed at once only as many are checked as the lockout allows."""
        ...

    def password_hash(self, user_id: int) -> str | None:
        """The stored password hash, for signing in; ``None`` for an unknown user."""
        ...

    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    def set_language(self, user_id: int, language: str) -> None:
        """The language the user chose ("nl" or "en"): their e-mails are written in it."""
        ...

    def languages(self, emails: Collection[str]) -> Mapping[str, str]:
        """The chosen language of each of these addresses that is a user who chose one, by
        the address lower-cased."""
        ...

    def get_by_email(self, email: str) -> User | None:
        """The user with this address, compared without regard to case."""
        ...

    def list_for_environment(self, environment_id: int) -> Sequence[User]: ...


class ConnectionRepository(Protocol):
    def add(self, environment_id: int, package: AccountingPackage, name: str) -> Connection: ...

    def get(self, connection_id: int) -> Connection | None: ...

    def list_for_environment(self, environment_id: int) -> Sequence[Connection]: ...


class AdministrationRepository(Protocol):
    def add(
        self,
        environment_id: int,
        connection_id: int,
        code: str,
        name: str,
        email: str,
        package_admin_id: str,
    ) -> Administration:
        """Raises ``RuleViolation("code_name_taken")`` (R8) or
        ``RuleViolation("package_administration_linked")`` (R9) when the database refuses."""
        ...

    def get(self, administration_id: int) -> Administration | None: ...

    def get_many(self, administration_ids: Collection[int]) -> Sequence[Administration]:
        """Those of the administrations with these ids that exist, in one query, in no
        particular order."""
        ...

    def lock(self, administration_id: int) -> Administration | None:
        """Reads the administration and holds it until the transaction ends (``SELECT ...
        FOR UPDATE``): an upload and the finish of its move take this lock, so no document
        can arrive between the finish's last look and its commit."""
        ...

    def list_for_environment(self, environment_id: int) -> Sequence[Administration]:
        """Ordered by code, then name."""
        ...

    def list_for_connection(self, connection_id: int) -> Sequence[Administration]: ...

    def find_by_code_name(
        self, environment_id: int, code: str, name: str
    ) -> Administration | None: ...

    def find_by_code_names(
        self, environment_id: int, pairs: Collection[tuple[str, str]]
    ) -> Sequence[Administration]:
        """The environment's administrations that hold any of these (code, name) pairs
        (R8), in one query."""
        ...

    def find_linked(self, connection_id: int, package_admin_id: str) -> Administration | None:
        """The administration linked to this package administration through this
        connection, if any (R9)."""
        ...

    def replace(self, administration: Administration) -> Administration:
        """Stores new environment, connection, code, name and package link of an existing
        administration (a move or a relink). Same errors as ``add``."""
        ...


class AuthorizationFlowRepository(Protocol):
    def add(
        self, administration_id: int, name: str, authorizer_user_ids: Sequence[int] = ()
    ) -> AuthorizationFlow: ...

    def list_for_administration(self, administration_id: int) -> Sequence[AuthorizationFlow]: ...

    def list_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[AuthorizationFlow]:
        """The flows of all these administrations, ordered by id, in a fixed number of
        queries however many there are."""
        ...


class DocumentRepository(Protocol):
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
    ) -> Document: ...

    def get(self, document_id: int) -> Document | None: ...

    def list_for_administration(self, administration_id: int) -> Sequence[Document]:
        """Ordered by id."""
        ...

    def list_page(
        self, administration_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> Sequence[Document]:
        """Up to ``limit`` documents with an id above ``after_id``, ordered by id: an archive
        of any size is read a page at a time, never whole."""
        ...

    def totals(self, administration_id: int) -> ArchiveTotals:
        """How many documents the administration has and their bytes, in one query."""
        ...

    def list_uncopied(
        self,
        administration_id: int,
        migration_id: int,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        limit: int = 1000,
    ) -> Sequence[Document]:
        """Documents of the administration, ordered by id, above ``after_id`` and not above
        ``up_to_id`` (when given), that have no copy recorded for the migration yet (left by
        a crash, or uploaded during it)."""
        ...

    def point_at_copies(self, administration_id: int, migration_id: int) -> int:
        """Points every document of the administration at its recorded copy (store and
        key) in one statement, for the finish of a move across stores; how many moved."""
        ...

    def referenced_keys(self, archive_store: str, blob_keys: Collection[str]) -> set[str]:
        """Those of ``blob_keys`` at which a document still keeps its bytes in this store
        (blobs are content-addressed, so documents can share one), in one query: what is
        not among them may be deleted, under ``hold_blobs``."""
        ...

    def hold_blobs(self, archive_store: str, blob_keys: Collection[str]) -> None:
        """Holds these blobs of the store until the transaction ends, waiting for whoever
        holds one now: an upload holds its blob while it checks that the blob is there and
        adds its document, the release of a move's source while it checks that no document
        refers to a blob and deletes it. So an upload of bytes being released either comes
        first (its document keeps the blob) or after (it finds the blob gone and writes it
        again). PostgreSQL: transaction-level advisory locks, taken in order; SQLite: its
        one writer at a time."""
        ...


@attrs.frozen
class ArchiveTotals:
    """A count of documents and their bytes."""

    documents: int
    bytes: int


@attrs.frozen
class DocumentCopy:
    """A document's verified copy in the target store: one checkpoint row of a move across
    stores, committed with the rest of its batch. It keeps where the bytes came from, so the
    source's blobs can be let go once the move is done."""

    document_id: int
    archive_store: str
    blob_key: str
    sha256: str
    size: int
    source_store: str
    source_key: str


class DocumentCopyRepository(Protocol):
    """The checkpoints of moves across stores: which documents have a verified copy."""

    def add_many(self, migration_id: int, copies: Sequence[DocumentCopy], at: datetime) -> int:
        """Records the copies, skipping documents already recorded for the migration (a
        batch redone after a crash); how many were new. One statement for the batch."""
        ...

    def totals(self, migration_id: int) -> ArchiveTotals:
        """How many documents of the migration have a copy, and their bytes."""
        ...

    def list_page(
        self,
        migration_id: int,
        *,
        after_document_id: int = 0,
        limit: int = 1000,
        unverified: bool = False,
    ) -> Sequence[DocumentCopy]:
        """Up to ``limit`` copies of the migration with a document id above
        ``after_document_id``, ordered by document id; with ``unverified`` only those not
        marked by ``record_verified`` (recorded since the target store was last asked)."""
        ...

    def record_verified(self, migration_id: int, document_ids: Collection[int]) -> None:
        """The target store was seen to hold these copies, each with its size."""
        ...

    def forget(self, migration_id: int, document_ids: Collection[int]) -> int:
        """Removes the records of these copies (their blobs are not in the target store):
        the documents count as uncopied again and are copied anew; how many."""
        ...

    def list_mismatched(self, migration_id: int, administration_id: int) -> Sequence[int]:
        """The integrity check, in the database: ids of the administration's documents with
        no copy, or whose copy's size or SHA-256 differs from the document's."""
        ...


@attrs.frozen
class DocumentRedirect:
    """An old document address and the new one it now leads to."""

    old_address: str
    new_address: str
    document_id: int
    migration_id: int


#: How many redirects ``DocumentRedirectRepository.resolve`` follows before it gives up on a
#: chain: far more moves of one document than anyone makes, and a stop should a chain ever loop.
MAX_REDIRECTS = 100


class DocumentRedirectRepository(Protocol):
    def add_for_migration(self, migration_id: int, administration_id: int, at: datetime) -> int:
        """Writes a redirect from each copied document's old address (its store before the
        move) to its new one, in one statement; how many. Run before ``point_at_copies``."""
        ...

    def resolve(self, old_address: str) -> str | None:
        """The new address of an old one, following a chain of moves to its end (at most
        ``MAX_REDIRECTS`` of them)."""
        ...

    def list_for_migration(self, migration_id: int) -> Sequence[DocumentRedirect]: ...


class ManifestRepository(Protocol):
    """The rows of a Voltooid migration's manifest (the Migratieverslag)."""

    def copied_page(
        self, migration_id: int, *, after_document_id: int = 0, limit: int = 1000
    ) -> Sequence[ManifestEntry]:
        """Up to ``limit`` documents with a verified copy recorded for the migration (a
        move across stores), ids above ``after_document_id``, ordered by id, each with its
        file name and upload time: the old address in the copy's source store, the new one
        in its target store, the size and SHA-256 the copy was verified against."""
        ...


class ReportSigner(Protocol):
    """Signs the Migratieverslag's statements with the server's key (Ed25519)."""

    def sign(self, statement: bytes) -> bytes: ...

    @property
    def public_key(self) -> bytes:
        """The public key's 32 raw bytes, which anyone may have to check a signature."""
        ...


class OfferRepository(Protocol):
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
    ) -> TransferOffer: ...

    def get(self, offer_id: int) -> TransferOffer | None: ...

    def find_by_digest(self, code_digest: str) -> TransferOffer | None: ...

    def replace_code(
        self, offer_id: int, *, code_digest: str, code_hint: str, expires_at: datetime
    ) -> None:
        """A resent code: the old digest stops working at once (R5), the expiry moves, and
        a new reminder will be due."""
        ...

    def bind_target(
        self, offer_id: int, *, environment_id: int, user_id: int, at: datetime
    ) -> bool:
        """Compare-and-set of the one environment that redeemed the code (R3, R7): true when
        the offer had none or had this one already, false when another got it first."""
        ...

    def mark_reminded(self, offer_id: int, at: datetime) -> None: ...

    def list_with_offered_items(self) -> Sequence[TransferOffer]:
        """Every offer that still has an item in OFFERED (for the expiry sweep)."""
        ...


@attrs.frozen
class OverviewQuery:
    """One page of an overview: the rows that have every word, on the cursor's side (from
    the start, newest first, without one), nearest to the cursor first."""

    words: tuple[SearchWord, ...]
    #: The moment whose statuses are shown (an open item whose code expired reads Verlopen).
    now: datetime
    limit: int
    cursor: Cursor | None = None
    #: Only rows that show one of these statuses; every row when None.
    statuses: frozenset[ItemStatus] | None = None


@attrs.frozen
class OverviewEntry:
    """A row of an overview: an item, its offer, and the name of the environment it came
    from."""

    item: OfferItem
    offer: TransferOffer
    source_environment_name: str


class OfferItemRepository(Protocol):
    def add(self, offer_id: int, administration: Administration, at: datetime) -> OfferItem:
        """A new item in OFFERED, with the administration's code, name and e-mail."""
        ...

    def add_many(
        self, offer_id: int, administrations: Sequence[Administration], at: datetime
    ) -> Sequence[OfferItem]:
        """``add`` for each administration, in their order, in a fixed number of
        statements however many there are."""
        ...

    def get(self, item_id: int) -> OfferItem | None: ...

    def list_for_offer(self, offer_id: int) -> Sequence[OfferItem]:
        """Ordered by id."""
        ...

    def list_open_for_administration(self, administration_id: int) -> Sequence[OfferItem]:
        """Items of the administration in an open status (R4)."""
        ...

    def list_open_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[OfferItem]:
        """Items of any of these administrations in an open status (R4), ordered by id, in
        one query."""
        ...

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
        """``UPDATE ... WHERE id = :id AND status = :item.status``; on success it also
        appends one row to the status-change log. False when the row was not in the
        expected status any more: the caller reads it again to tell the loser why."""
        ...

    def compare_and_set_many(
        self,
        items: Sequence[OfferItem],
        to: ItemStatus,
        *,
        event: Event,
        at: datetime,
        actor_user_id: int | None = None,
    ) -> Collection[int]:
        """``compare_and_set`` of each item (from its own status) to ``to``, in a fixed
        number of statements however many there are; the ids of the items that changed."""
        ...

    def status_changes(self, item_id: int) -> Sequence[StatusChange]:
        """The log of the item's changes, oldest first."""
        ...

    def outgoing_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        """The items the environment offered, as ``query`` asks, in a fixed number of
        statements: the sender's search (``overviews.outgoing_text``)."""
        ...

    def incoming_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        """The items of the offers the environment redeemed, as ``query`` asks, in a fixed
        number of statements: the recipient's search (``overviews.incoming_text``)."""
        ...


#: The event of an item's first row in the status-change log: it was offered.
OFFER_EVENT = "offer"


@attrs.frozen
class StatusChange:
    """One row of the status-change log."""

    item_id: int
    from_status: ItemStatus | None
    to_status: ItemStatus
    event: str
    actor_user_id: int | None
    at: datetime


class MigrationRepository(Protocol):
    def add(
        self,
        item: OfferItem,
        *,
        target_environment_id: int,
        target: MigrationTarget,
        at: datetime,
    ) -> Migration:
        """Raises ``RuleViolation("code_name_taken")`` when an unfinished migration already
        reserves the (code, name) in the target environment, and
        ``RuleViolation("package_administration_linked")`` when one reserves the package
        administration (R8, R9)."""
        ...

    def add_many(
        self,
        starts: Sequence[tuple[OfferItem, MigrationTarget]],
        *,
        target_environment_id: int,
        at: datetime,
    ) -> Sequence[Migration]:
        """``add`` for each item with its target, in their order, in a fixed number of
        statements however many there are; the same refusals, naming the one refused."""
        ...

    def get(self, migration_id: int) -> Migration | None: ...

    def get_for_item(self, item_id: int) -> Migration | None: ...

    def list_for_items(self, item_ids: Collection[int]) -> Sequence[Migration]:
        """The migrations of these items, in one statement."""
        ...

    def list_for_offer(self, offer_id: int) -> Sequence[Migration]:
        """The migrations of an offer's items, in one query whatever their number."""
        ...

    def list_unfinished_into(self, environment_id: int) -> Sequence[Migration]:
        """The unfinished migrations into an environment: each reserves its target's (code,
        name) and package administration there (R8, R9), as ``add`` holds."""
        ...

    def finished_into(self, administration_id: int, environment_id: int) -> bool:
        """Whether the administration arrived in the environment by a finished move: there
        only a grant opens it, to a super user too (R14)."""
        ...

    def record_claim(self, migration_id: int, *, lease_for: timedelta) -> None:
        """A worker took it: one more attempt, a lease until ``lease_for`` from now by the
        database's clock, the failure reason cleared."""
        ...

    def record_progress(
        self,
        migration_id: int,
        *,
        documents_total: int,
        documents_done: int,
        bytes_total: int,
        bytes_done: int,
    ) -> None: ...

    def record_failure(
        self,
        migration_id: int,
        reason: str,
        *,
        code: str | None = None,
        params: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Mislukt's reason: the Dutch text, and the code and params of the error it came
        from (none for a reason given as text), so that it can be read in any language."""
        ...

    def record_finish(self, migration_id: int, at: datetime) -> None:
        """Finished: releases the reservation of its target."""
        ...

    def start_links_attempt(self, migration_id: int, *, attempts_seen: int) -> bool:
        """Compare-and-set of one more try at the package's links: true when the links were
        not rewritten yet and ``attempts_seen`` tries were made, so of two workers that try
        at once only one holds each try."""
        ...

    def record_links_rewritten(self, migration_id: int, at: datetime) -> None: ...

    def record_source_released(self, migration_id: int, at: datetime) -> None: ...

    def list_after_finish(
        self, *, link_attempts: int, released_before: datetime
    ) -> Sequence[Migration]:
        """Finished migrations with a step after the finish still due, ordered by id: links
        not rewritten in fewer than ``link_attempts`` tries, or source blobs not released
        of a migration finished before ``released_before``."""
        ...

    def heartbeat(self, migration_id: int, *, lease_for: timedelta) -> bool:
        """Extends the lease of a migration that is still Aan het verwerken to ``lease_for``
        from now by the database's clock; false when it is not (it failed, finished, or its
        lease ran out and the sweeper took it back), so the worker stops."""
        ...

    def list_to_run(self) -> Sequence[Migration]:
        """What the sweeper must see running: migrations In de wachtrij, and those Aan het
        verwerken whose lease ran out by the database's clock (no live worker holds them).

        Leases are set and compared with the database's clock only (``now()`` in SQL), so
        the machines' clocks may disagree: a slow or fast clock of a worker or a sweeper
        can neither cut a lease short nor stretch it."""
        ...


class AccessRepository(Protocol):
    def set(self, administration_id: int, user_id: int, *, granted: bool) -> None: ...

    def list_for_administration(self, administration_id: int) -> Sequence[AccessGrant]: ...

    def clear_for_administration(self, administration_id: int) -> None:
        """Nobody keeps access: a moved administration starts closed in the target (R14)."""
        ...


class RedeemAttemptRepository(Protocol):
    def add_failure(self, *, user_id: int, environment_id: int, at: datetime) -> None: ...

    def failures_for_user(self, user_id: int, since: datetime) -> Sequence[datetime]: ...

    def failures_for_environment(
        self, environment_id: int, since: datetime
    ) -> Sequence[datetime]: ...


class SignInFailureRepository(Protocol):
    """Refused sign-ins, counted for the sign-in lockout. A sign-in records its attempt here
    before the password is checked, and takes it back when the password was right."""

    def add(self, *, user_id: int, at: datetime) -> int:
        """Records an attempt as refused; its id."""
        ...

    def since(self, user_id: int, since: datetime) -> Sequence[datetime]:
        """The moments of the user's refused sign-ins since ``since``, oldest first."""
        ...

    def remove(self, failure_id: int) -> None:
        """Takes back an attempt that turned out right."""
        ...


class SessionRepository(Protocol):
    """Sign-in sessions, stored under the keyed digest of their id; an ended session is
    removed."""

    def add(self, *, user_id: int, digest: str, user_agent: str, at: datetime) -> UserSession: ...

    def find(self, digest: str) -> UserSession | None: ...

    def touch(self, session_id: int, at: datetime) -> None:
        """Records a request of the session at ``at``."""
        ...

    def list_for_user(self, user_id: int) -> Sequence[UserSession]:
        """The user's stored sessions, the last started first."""
        ...

    def end(self, session_id: int) -> bool:
        """False when the session had ended already."""
        ...

    def end_for_user(self, user_id: int, *, keep: int | None = None) -> int:
        """Ends every session of the user but ``keep``; how many ended."""
        ...

    def end_over(self, *, started_by: datetime, seen_by: datetime) -> int:
        """Removes the sessions that started at or before ``started_by`` or were last seen
        at or before ``seen_by`` (they are over); how many."""
        ...


class RateLimitRepository(Protocol):
    """Calls counted per key in fixed windows, for the API's rate limit."""

    def hit(self, key: str, window_start: datetime) -> int:
        """Counts one call of ``key`` in the window that starts at ``window_start``, and
        returns the window's count with it. Atomic: of any number of calls at once, on any
        number of processes, each gets a count of its own (``INSERT ... ON CONFLICT DO
        UPDATE ... RETURNING``)."""
        ...

    def purge(self, before: datetime) -> int:
        """Forgets the windows that started before ``before``; how many."""
        ...


@attrs.frozen
class OutboxMessage:
    """An e-mail in the outbox, with its stable id (the dispatcher's Message-ID)."""

    id: int
    email: Email
    created_at: datetime
    sent_at: datetime | None = None
    #: Until when a dispatcher holds it (``claim_pending``).
    claimed_until: datetime | None = None


class OutboxRepository(Protocol):
    """The transactional outbox: an e-mail is written in the same transaction as the change
    that causes it, and sent later by a dispatcher."""

    def add(self, email: Email, at: datetime) -> OutboxMessage: ...

    def list_pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        """Unsent messages, oldest first."""
        ...

    def claim_pending(
        self, limit: int, *, now: datetime, until: datetime
    ) -> Sequence[OutboxMessage]:
        """Up to ``limit`` unsent messages, oldest first, that no dispatcher holds at
        ``now``, each held from now ``until`` then; committed, the claim outlives the
        transaction, and a crashed dispatcher's claim runs out. Of dispatchers that claim at
        once, each gets other messages (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: its
        one writer at a time)."""
        ...

    def release(self, message_ids: Collection[int], *, until: datetime) -> None:
        """Gives up the claims made ``until`` that moment on these messages, if still
        unsent and not claimed again by another dispatcher: the next may take them at once."""
        ...

    def list_recent(self, limit: int = 100) -> Sequence[OutboxMessage]:
        """All messages, newest first (the demo's Mailbox page)."""
        ...

    def mark_sent(self, message_id: int, at: datetime) -> None:
        """Sent: the message leaves the pending list and its secret is forgotten (R5)."""
        ...


class ChargeRepository(Protocol):
    def add(self, charge: Charge) -> bool:
        """True when the charge is new; false when this migration was charged already (R15)."""
        ...

    def list_for_environment(self, environment_id: int) -> Sequence[Charge]: ...


class ApiTokenRepository(Protocol):
    def add(
        self, *, user_id: int, name: str, digest: str, shown: str, at: datetime
    ) -> ApiToken: ...

    def find_active(self, digest: str) -> ApiToken | None:
        """The unrevoked token stored under this keyed digest."""
        ...

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        """The user's tokens, revoked ones too, newest first."""
        ...

    def revoke(self, token_id: int, at: datetime) -> bool:
        """False when the token was revoked already."""
        ...

    def mark_used(self, token_id: int, at: datetime) -> None:
        """Records the last use; writes at most once a minute per token."""
        ...


@attrs.frozen
class AuditSearchWord:
    """One word of an audit search: it matches an event when it occurs in one of the
    event's texts, or when the event's action, outcome, object kind or channel is among
    those whose label holds the word."""

    text: str
    actions: frozenset[AuditAction] = frozenset()
    outcomes: frozenset[AuditOutcome] = frozenset()
    subject_types: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()


class AuditRepository(Protocol):
    """The audit trail: append and read, nothing else (the database refuses updates and
    deletes of its rows as well)."""

    def append(self, record: AuditRecord, at: datetime) -> AuditEvent: ...

    def append_many(self, records: Sequence[AuditRecord], at: datetime) -> None:
        """``append`` of each record, in their order, in one statement."""
        ...

    def search(
        self,
        environment_id: int,
        words: Sequence[AuditSearchWord],
        *,
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[AuditEvent]:
        """The environment's events matching every word, newest first, at most ``limit``,
        only those older than ``before_id`` when it is given."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the ``with`` block without
    ``commit()`` rolls back."""

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

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


#: Makes a fresh unit of work; the use cases open one per action.
UnitOfWorkFactory = Callable[[], UnitOfWork]


# --- the outside world -----------------------------------------------------------------------


class AccountingConnector(Protocol):
    """The link to one accounting package's web API."""

    package: AccountingPackage
    #: Whether the package can hold links to outside documents that a move can rewrite.
    can_rewrite_links: bool

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        """Every administration of the connected account, all pages followed."""
        ...

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        """The administration with this package-side id, or ``None`` (R9)."""
        ...

    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        """Points the package's links from old document addresses to new ones; the number
        rewritten. Only called when ``can_rewrite_links``."""
        ...


@runtime_checkable
class ConnectsByOAuth(Protocol):
    """What a connector may add when the package asks the user's consent (OAuth2) before
    it answers: Instellingen > Boekhoudsysteemkoppelingen uses it to (re)connect. A
    connector without it needs no consent and counts as connected."""

    #: Whether the package asks the user's consent at all (false: always connected).
    needs_authorization: bool

    def authorization_url(self, connection: Connection, state: str) -> str:
        """The package's consent page to send the user to; it sends the user back to the
        app's registered address with ``state`` and a one-use code."""
        ...

    def authorize(self, connection: Connection, code: str) -> None:
        """Trades the code from the consent for the connection's tokens and keeps them.
        Raises ``PackageError("package_auth_expired")`` when the package refuses the code."""
        ...

    def is_authorized(self, connection: Connection) -> bool:
        """Whether the connection holds a consent, without asking the package (one that
        the package revoked shows at the next call, as ``package_auth_expired``)."""
        ...


class ConnectorRegistry(Protocol):
    """Picks the connector for a connection's package."""

    def connector_for(self, connection: Connection) -> AccountingConnector: ...


@attrs.frozen
class OAuthTokens:
    """A connection's OAuth2 tokens. Never printed: the repr hides both tokens."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_at: datetime
    #: What the connection needs besides its tokens, as (name, value) pairs kept with them:
    #: Twinfield's ``cluster_url`` and ``company_code``, AccountView's ``company``. Nothing
    #: secret goes here; it is shown in the repr.
    account: tuple[tuple[str, str], ...] = ()

    def account_value(self, name: str) -> str | None:
        """The value of one ``account`` pair, or ``None`` when the connection has none."""
        return next((value for key, value in self.account if key == name), None)


class TokenStore(Protocol):
    """Keeps each connection's OAuth2 tokens, so a rotated refresh token is never lost and
    never spent twice."""

    def load(self, connection_id: int) -> OAuthTokens | None: ...

    def save(self, connection_id: int, tokens: OAuthTokens) -> None:
        """Stores tokens from a new authorization (the OAuth2 consent)."""
        ...

    def rotate(
        self,
        connection_id: int,
        spent: OAuthTokens,
        refresh: Callable[[OAuthTokens], OAuthTokens],
    ) -> OAuthTokens:
        """Holding a lock on the connection's tokens for the whole call: when the stored
        tokens are still ``spent``, calls ``refresh`` (the package's token endpoint) and
        stores what it returns; when another worker rotated them meanwhile, returns the
        stored ones without calling ``refresh``. So two workers never spend one refresh
        token."""
        ...


@attrs.frozen
class StoredBlob:
    """What an archive store reports after writing a file."""

    key: str
    sha256: str
    size: int


class ArchiveStore(Protocol):
    """Where an environment's document files live."""

    name: str

    def write(self, stream: BinaryIO) -> StoredBlob:
        """Stores the stream's bytes, read in chunks, and reports their digest. When reading
        the stream raises, the error passes through and nothing of it stays in the store."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def sizes(self, keys: Collection[str]) -> Mapping[str, int]:
        """The size of each of these blobs that the store holds now, asked of the store
        itself and cheaply (a ``stat`` per file, a ``HEAD`` per object; no byte is read):
        a key it does not hold is left out. What the engine checks before it trusts a
        record of a copy."""
        ...

    def delete(self, key: str) -> None: ...

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        """Copies the blob at ``key`` of ``source`` into this store the cheapest way the two
        allow (a link on one filesystem, ``copy_file_range``, a server-side copy on one
        object store, a stream otherwise) and checks its SHA-256 against ``sha256``; a copy
        that shares the source's own bytes (a hard link: one inode) may be checked by its
        ``size`` instead, when given. Writing the same bytes twice stores them once. Raises
        ``ArchiveError("checksum_mismatch")``, leaving nothing behind, when the bytes
        differ; ``FileNotFoundError`` when the source has no such key."""
        ...


class ArchiveStores(Protocol):
    """The archive stores by name (an environment names the one it uses)."""

    def store(self, name: str) -> ArchiveStore: ...


class Mailer(Protocol):
    """Sends one e-mail; ``message_id`` is stable, so a resend is recognised as the same."""

    def send(self, email: Email, *, message_id: str) -> None: ...


class Billing(Protocol):
    """Bills a charge to the platform's invoicing; must accept the same charge twice."""

    def charge(self, charge: Charge) -> None: ...


@attrs.frozen
class DocumentBatch:
    """One batch job of a move across stores: the documents with ids from ``first_id`` to
    ``last_id``, both included, copied and committed ``Policy.batch_size`` at a time."""

    migration_id: int
    first_id: int
    last_id: int


class JobQueue(Protocol):
    """Wakes a worker for a migration. The database is the truth: losing a wake-up costs
    time, not data, and enqueuing the same migration twice runs it once."""

    def enqueue_migration(self, migration_id: int) -> None: ...

    def enqueue_batches(self, migration_id: int, batches: Sequence[DocumentBatch]) -> None:
        """Fans a big archive out: one job per ``DocumentBatch``, which any worker may take,
        and one finishing job that runs once after all of them."""
        ...


class Metrics(Protocol):
    """What the use cases count, for an operator's dashboard: a Prometheus adapter
    (``adapters/metrics.py``) or nothing (``services.dependencies.NoMetrics``). What the
    database already knows (moves per status, the outbox's backlog) is read from it when
    asked, not counted here."""

    def move_claimed(self) -> None:
        """A worker claimed a migration (In de wachtrij -> Aan het verwerken)."""

    def batch_committed(self, *, documents: int, bytes_copied: int, seconds: float) -> None:
        """A batch of copies was committed, ``seconds`` after its copying began."""

    def move_ended(self, *, status: str, seconds: float | None, error_code: str | None) -> None:
        """A move ended ``completed`` or ``failed`` (with its error's code), ``seconds``
        after it started (``None`` when unknown)."""

    def sweep_ran(self, *, requeued: int) -> None:
        """The sweeper ran once and woke ``requeued`` migrations again."""

    def locked_out(self, what: str) -> None:
        """A lockout refused an attempt: ``transfer_code`` (R7) or ``sign_in``."""

    def sign_in_refused(self) -> None:
        """A sign-in was refused (a wrong address or password, or a locked account)."""


# The operator's status (``migrationkit status``, ``services.status``).


@attrs.frozen
class StaleLease:
    """A move Aan het verwerken whose worker stopped beating: the sweeper takes it back."""

    migration_id: int
    #: ``None``: a move claimed without a lease (none is since the leases came).
    expired_at: datetime | None


@attrs.frozen
class Failure:
    """A move Mislukt, with the stable code of its reason."""

    migration_id: int
    failed_at: datetime
    error_code: str | None


@attrs.frozen
class DatabaseStatus:
    """What the database says, read at one moment of its own clock."""

    at: datetime
    moves: Mapping[ItemStatus, int]
    stale_leases: int
    oldest_stale_lease: StaleLease | None
    outbox_unsent: int
    oldest_unsent_at: datetime | None
    oldest_failure: Failure | None


@attrs.frozen
class QueueDepth:
    """One job queue's jobs: waiting, running, waiting for others, for a time, failed."""

    name: str
    queued: int
    started: int
    deferred: int
    scheduled: int
    failed: int


class StatusReader(Protocol):
    def read(self) -> DatabaseStatus:
        """The database's part of the status, by the database's clock."""
        ...


class QueueInspector(Protocol):
    def depths(self) -> Sequence[QueueDepth]:
        """Every job queue's depth, the deployment's own queue first."""
        ...
