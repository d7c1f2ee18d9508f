"""The repositories of ``migrationkit.ports`` on SQLAlchemy Core.

Each takes the unit of work's ``Connection`` and returns frozen domain values, made from rows
by the small ``*_from_row`` functions. Writes that a unique constraint guards run inside a
SAVEPOINT, so a refusal leaves the transaction usable (PostgreSQL aborts it otherwise), and
the database's refusal becomes the domain's ``RuleViolation``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Executable,
    Index,
    Interval,
    RowMapping,
    ScalarSelect,
    Select,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from migrationkit.adapters.sqlalchemy.tables import (
    UtcDateTime,
    access_grants,
    administration_code_name,
    administration_package_link,
    administrations,
    api_tokens,
    audit_events,
    authorization_flow_authorizers,
    authorization_flows,
    charges,
    connections,
    document_copies,
    document_redirects,
    documents,
    environments,
    migration_code_name,
    migration_item_once,
    migration_package_link,
    migrations,
    offer_items,
    outbox,
    rate_limit_hits,
    redeem_failures,
    sessions,
    sign_in_failures,
    status_changes,
    transfer_offers,
    users,
)
from migrationkit.domain.api_tokens import USE_RECORDED_EVERY, ApiToken
from migrationkit.domain.audit import AuditAction, AuditEvent, AuditOutcome, AuditRecord, Origin
from migrationkit.domain.errors import Conflict, NotFound, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    OPEN_STATUSES,
    AccessGrant,
    AccountingPackage,
    Administration,
    AuthorizationFlow,
    Charge,
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
)
from migrationkit.domain.model import (
    Connection as AccountingConnection,
)
from migrationkit.domain.rules import has_invisible_characters
from migrationkit.domain.sessions import UserSession
from migrationkit.ports import (
    ArchiveTotals,
    AuditSearchWord,
    DocumentCopy,
    DocumentRedirect,
    OutboxMessage,
    StatusChange,
)
from migrationkit.serialization import from_json, to_json

T = TypeVar("T")

log = logging.getLogger(__name__)

# --- rows to domain values -------------------------------------------------------------------


def environment_from_row(row: RowMapping) -> Environment:
    return Environment(
        id=row["id"],
        name=row["name"],
        has_subscription=row["has_subscription"],
        archive_store=row["archive_store"],
    )


def user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        environment_id=row["environment_id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
    )


def connection_from_row(row: RowMapping) -> AccountingConnection:
    return AccountingConnection(
        id=row["id"],
        environment_id=row["environment_id"],
        package=AccountingPackage(row["package"]),
        name=row["name"],
    )


def administration_from_row(row: RowMapping) -> Administration:
    """From a row of ``_ADMINISTRATIONS``: the package is its connection's."""
    return Administration(
        id=row["id"],
        environment_id=row["environment_id"],
        connection_id=row["connection_id"],
        package=AccountingPackage(row["package"]),
        code=row["code"],
        name=row["name"],
        email=row["email"],
        package_admin_id=row["package_admin_id"],
    )


def document_from_row(row: RowMapping) -> Document:
    return Document(
        id=row["id"],
        administration_id=row["administration_id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        archive_store=row["archive_store"],
        blob_key=row["blob_key"],
        received_at=row["received_at"],
    )


def document_copy_from_row(row: RowMapping) -> DocumentCopy:
    return DocumentCopy(
        document_id=row["document_id"],
        archive_store=row["archive_store"],
        blob_key=row["blob_key"],
        sha256=row["sha256"],
        size=row["size"],
        source_store=row["source_store"],
        source_key=row["source_key"],
    )


def document_redirect_from_row(row: RowMapping) -> DocumentRedirect:
    return DocumentRedirect(
        old_address=row["old_address"],
        new_address=row["new_address"],
        document_id=row["document_id"],
        migration_id=row["migration_id"],
    )


def offer_from_row(row: RowMapping) -> TransferOffer:
    return TransferOffer(
        id=row["id"],
        source_environment_id=row["source_environment_id"],
        source_connection_id=row["source_connection_id"],
        package=AccountingPackage(row["package"]),
        sender_user_id=row["sender_user_id"],
        sender_email=row["sender_email"],
        recipients=from_json(row["recipients"], tuple[str, ...]),
        code_digest=row["code_digest"],
        code_hint=row["code_hint"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        reminder_sent_at=row["reminder_sent_at"],
        target_environment_id=row["target_environment_id"],
        redeemed_by_user_id=row["redeemed_by_user_id"],
        redeemed_at=row["redeemed_at"],
    )


def item_from_row(row: RowMapping) -> OfferItem:
    return OfferItem(
        id=row["id"],
        offer_id=row["offer_id"],
        administration_id=row["administration_id"],
        code=row["code"],
        name=row["name"],
        email=row["email"],
        status=ItemStatus(row["status"]),
        status_changed_at=row["status_changed_at"],
        rejection_reason=row["rejection_reason"],
    )


def status_change_from_row(row: RowMapping) -> StatusChange:
    return StatusChange(
        item_id=row["item_id"],
        from_status=None if row["from_status"] is None else ItemStatus(row["from_status"]),
        to_status=ItemStatus(row["to_status"]),
        event=row["event"],
        actor_user_id=row["actor_user_id"],
        at=row["at"],
    )


def migration_from_row(row: RowMapping) -> Migration:
    return Migration(
        id=row["id"],
        item_id=row["item_id"],
        administration_id=row["administration_id"],
        target_environment_id=row["target_environment_id"],
        target=MigrationTarget(
            connection_id=row["target_connection_id"],
            package_admin_id=row["target_package_admin_id"],
            code=row["target_code"],
            name=row["target_name"],
        ),
        failure_reason=row["failure_reason"],
        failure_code=row["failure_code"],
        failure_params=_params_from_json(row["failure_params"]),
        attempts=row["attempts"],
        documents_total=row["documents_total"],
        documents_done=row["documents_done"],
        bytes_total=row["bytes_total"],
        bytes_done=row["bytes_done"],
        lease_expires_at=row["lease_expires_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        links_rewritten_at=row["links_rewritten_at"],
        links_attempts=row["links_attempts"],
        source_released_at=row["source_released_at"],
    )


def _params_from_json(text: str | None) -> tuple[tuple[str, str], ...]:
    return () if text is None else tuple(from_json(text, dict[str, str]).items())


def charge_from_row(row: RowMapping) -> Charge:
    return Charge(
        migration_id=row["migration_id"],
        environment_id=row["environment_id"],
        administration_id=row["administration_id"],
        charged_at=row["charged_at"],
    )


def api_token_from_row(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        shown=row["shown"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def audit_event_from_row(row: RowMapping) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        record=AuditRecord(
            action=AuditAction(row["action"]),
            outcome=AuditOutcome(row["outcome"]),
            origin=Origin(channel=row["channel"], address=row["address"]),
            actor_user_id=row["actor_user_id"],
            actor_email=row["actor_email"],
            environment_id=row["environment_id"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            error_code=row["error_code"],
            message_nl=row["message_nl"],
            message_en=row["message_en"],
        ),
    )


# --- shared helpers --------------------------------------------------------------------------


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _database_time(self, later: timedelta = timedelta()) -> ColumnElement[datetime]:
        """The database's clock, ``later`` from now, in SQL: leases are set and compared
        with it alone, never with a machine's clock. PostgreSQL's ``clock_timestamp()`` (the
        moment of the statement, not of the transaction's start); SQLite's time of 'now',
        in the text SQLAlchemy keeps datetimes as there (so the two compare)."""
        if self._connection.dialect.name == "sqlite":
            modifier = f"{later.total_seconds():+.6f} seconds"
            return func.strftime("%Y-%m-%d %H:%M:%f000", "now", modifier, type_=UtcDateTime)
        return func.clock_timestamp(type_=DateTime(timezone=True)) + literal(later, Interval())

    def _one(self, statement: Select[Any]) -> RowMapping | None:
        return self._connection.execute(statement).mappings().first()

    def _all(self, statement: Select[Any]) -> Sequence[RowMapping]:
        return self._connection.execute(statement).mappings().all()

    def _insert(self, table: Table, **values: object) -> RowMapping:
        """Inserts one row; the row as stored, with its new id."""
        return (
            self._connection.execute(insert(table).values(**values).returning(*table.c))
            .mappings()
            .one()
        )

    def _guarded(
        self,
        statement: Executable,
        *,
        environment_id: int,
        code: str,
        name: str,
        code_name: UniqueConstraint | Index,
        package_link: UniqueConstraint | Index,
    ) -> Sequence[RowMapping]:
        """Runs a write that R8 and R9 guard, and returns the rows it returns; the database's
        refusal becomes the rule's."""
        try:
            with self._connection.begin_nested():
                return self._connection.execute(statement).mappings().all()
        except IntegrityError as error:
            if _violates(error, code_name):
                environment = self._connection.execute(
                    select(environments.c.name).where(environments.c.id == environment_id)
                ).scalar_one()
                raise RuleViolation(
                    "code_name_taken", environment=environment, code=code, name=name
                ) from error
            if _violates(error, package_link):
                raise RuleViolation(
                    "package_administration_linked", code=code, name=name
                ) from error
            raise


def _violates(error: IntegrityError, constraint: UniqueConstraint | Index) -> bool:
    """Whether the database refused a write because of this unique constraint or index."""
    diagnostics = getattr(error.orig, "diag", None)
    if diagnostics is not None:
        # psycopg names the constraint.
        return bool(diagnostics.constraint_name == constraint.name)
    # SQLite names the columns: "UNIQUE constraint failed: table.a, table.b".
    assert constraint.table is not None
    table = constraint.table.name
    columns = ", ".join(f"{table}.{column.name}" for column in constraint.columns)
    return str(error.orig) == f"UNIQUE constraint failed: {columns}"


def _dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, on the two databases the library supports."""
    match connection.dialect.name:
        case "postgresql":
            return postgresql.insert(table)
        case "sqlite":
            return sqlite.insert(table)
        case other:
            raise NotImplementedError(f"migrationkit does not support {other}")


# --- the repositories ------------------------------------------------------------------------


class SqlAlchemyEnvironmentRepository(_Repository):
    def add(self, name: str, *, has_subscription: bool, archive_store: str) -> Environment:
        row = self._insert(
            environments, name=name, has_subscription=has_subscription, archive_store=archive_store
        )
        return environment_from_row(row)

    def get(self, environment_id: int) -> Environment | None:
        row = self._one(select(environments).where(environments.c.id == environment_id))
        return None if row is None else environment_from_row(row)

    def lock(self, environment_id: int) -> Environment | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        statement = select(environments).where(environments.c.id == environment_id)
        row = self._one(statement.with_for_update())
        return None if row is None else environment_from_row(row)

    def list(self) -> Sequence[Environment]:
        return [
            environment_from_row(row)
            for row in self._all(select(environments).order_by(environments.c.id))
        ]


class SqlAlchemyUserRepository(_Repository):
    def add(
        self, environment_id: int, email: str, name: str, role: Role, password_hash: str = ""
    ) -> User:
        try:
            with self._connection.begin_nested():
                row = self._insert(
                    users,
                    environment_id=environment_id,
                    email=email,
                    email_key=email.lower(),
                    name=name,
                    role=role.value,
                    password_hash=password_hash,
                )
        except IntegrityError as error:
            if self.get_by_email(email) is not None:
                raise RuleViolation("email_taken", email=email) from error
            raise
        return user_from_row(row)

    def password_hash(self, user_id: int) -> str | None:
        return self._connection.execute(
            select(users.c.password_hash).where(users.c.id == user_id)
        ).scalar_one_or_none()

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._connection.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def get(self, user_id: int) -> User | None:
        row = self._one(select(users).where(users.c.id == user_id))
        return None if row is None else user_from_row(row)

    def lock(self, user_id: int) -> User | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        row = self._one(select(users).where(users.c.id == user_id).with_for_update())
        return None if row is None else user_from_row(row)

    def get_by_email(self, email: str) -> User | None:
        row = self._one(select(users).where(users.c.email_key == email.lower()))
        return None if row is None else user_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[User]:
        statement = (
            select(users).where(users.c.environment_id == environment_id).order_by(users.c.id)
        )
        return [user_from_row(row) for row in self._all(statement)]


class SqlAlchemyConnectionRepository(_Repository):
    def add(
        self, environment_id: int, package: AccountingPackage, name: str
    ) -> AccountingConnection:
        row = self._insert(
            connections, environment_id=environment_id, package=package.value, name=name
        )
        return connection_from_row(row)

    def get(self, connection_id: int) -> AccountingConnection | None:
        row = self._one(select(connections).where(connections.c.id == connection_id))
        return None if row is None else connection_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[AccountingConnection]:
        statement = (
            select(connections)
            .where(connections.c.environment_id == environment_id)
            .order_by(connections.c.id)
        )
        return [connection_from_row(row) for row in self._all(statement)]


#: Administrations with the package of their connection.
_ADMINISTRATIONS = select(administrations, connections.c.package).join(
    connections, administrations.c.connection_id == connections.c.id
)


class SqlAlchemyAdministrationRepository(_Repository):
    def add(
        self,
        environment_id: int,
        connection_id: int,
        code: str,
        name: str,
        email: str,
        package_admin_id: str,
    ) -> Administration:
        statement = (
            insert(administrations)
            .values(
                environment_id=environment_id,
                connection_id=connection_id,
                code=code,
                name=name,
                email=email,
                package_admin_id=package_admin_id,
            )
            .returning(administrations.c.id)
        )
        rows = self._guarded(
            statement,
            environment_id=environment_id,
            code=code,
            name=name,
            code_name=administration_code_name,
            package_link=administration_package_link,
        )
        return self._stored(rows)

    def get(self, administration_id: int) -> Administration | None:
        return self._first(administrations.c.id == administration_id)

    def lock(self, administration_id: int) -> Administration | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        statement = _ADMINISTRATIONS.where(administrations.c.id == administration_id)
        row = self._one(statement.with_for_update(of=administrations))
        return None if row is None else administration_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[Administration]:
        return self._list(
            administrations.c.environment_id == environment_id,
        )

    def list_for_connection(self, connection_id: int) -> Sequence[Administration]:
        return self._list(administrations.c.connection_id == connection_id)

    def find_by_code_name(self, environment_id: int, code: str, name: str) -> Administration | None:
        return self._first(
            administrations.c.environment_id == environment_id,
            administrations.c.code == code,
            administrations.c.name == name,
        )

    def find_linked(self, connection_id: int, package_admin_id: str) -> Administration | None:
        if has_invisible_characters(package_admin_id):
            # Typed, not chosen: no row holds such an id, and PostgreSQL cannot compare it.
            return None
        return self._first(
            administrations.c.connection_id == connection_id,
            administrations.c.package_admin_id == package_admin_id,
        )

    def replace(self, administration: Administration) -> Administration:
        statement = (
            update(administrations)
            .where(administrations.c.id == administration.id)
            .values(
                environment_id=administration.environment_id,
                connection_id=administration.connection_id,
                code=administration.code,
                name=administration.name,
                email=administration.email,
                package_admin_id=administration.package_admin_id,
            )
            .returning(administrations.c.id)
        )
        rows = self._guarded(
            statement,
            environment_id=administration.environment_id,
            code=administration.code,
            name=administration.name,
            code_name=administration_code_name,
            package_link=administration_package_link,
        )
        return self._stored(rows)

    def _stored(self, written: Sequence[RowMapping]) -> Administration:
        """The administration that a write returned the id of, read with its package."""
        stored = self.get(written[0]["id"]) if written else None
        if stored is None:
            raise NotFound("unknown_administration")
        return stored

    def _first(self, *where: ColumnElement[bool]) -> Administration | None:
        row = self._one(_ADMINISTRATIONS.where(*where))
        return None if row is None else administration_from_row(row)

    def _list(self, *where: ColumnElement[bool]) -> Sequence[Administration]:
        statement = _ADMINISTRATIONS.where(*where).order_by(
            administrations.c.code, administrations.c.name, administrations.c.id
        )
        return [administration_from_row(row) for row in self._all(statement)]


class SqlAlchemyAuthorizationFlowRepository(_Repository):
    def add(
        self, administration_id: int, name: str, authorizer_user_ids: Sequence[int] = ()
    ) -> AuthorizationFlow:
        flow_id = self._insert(authorization_flows, administration_id=administration_id, name=name)[
            "id"
        ]
        if authorizer_user_ids:
            self._connection.execute(
                insert(authorization_flow_authorizers),
                [
                    {"flow_id": flow_id, "user_id": user_id, "position": position}
                    for position, user_id in enumerate(authorizer_user_ids)
                ],
            )
        return AuthorizationFlow(
            id=flow_id,
            administration_id=administration_id,
            name=name,
            authorizer_user_ids=tuple(authorizer_user_ids),
        )

    def list_for_administration(self, administration_id: int) -> Sequence[AuthorizationFlow]:
        flows = self._all(
            select(authorization_flows)
            .where(authorization_flows.c.administration_id == administration_id)
            .order_by(authorization_flows.c.id)
        )
        authorizers = self._all(
            select(authorization_flow_authorizers)
            .join(authorization_flows)
            .where(authorization_flows.c.administration_id == administration_id)
            .order_by(authorization_flow_authorizers.c.position)
        )
        return [
            AuthorizationFlow(
                id=flow["id"],
                administration_id=flow["administration_id"],
                name=flow["name"],
                authorizer_user_ids=tuple(
                    row["user_id"] for row in authorizers if row["flow_id"] == flow["id"]
                ),
            )
            for flow in flows
        ]


class SqlAlchemyDocumentRepository(_Repository):
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
        row = self._insert(
            documents,
            administration_id=administration_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            archive_store=archive_store,
            blob_key=blob_key,
            received_at=received_at,
        )
        return document_from_row(row)

    def get(self, document_id: int) -> Document | None:
        row = self._one(select(documents).where(documents.c.id == document_id))
        return None if row is None else document_from_row(row)

    def list_for_administration(self, administration_id: int) -> Sequence[Document]:
        statement = (
            select(documents)
            .where(documents.c.administration_id == administration_id)
            .order_by(documents.c.id)
        )
        return [document_from_row(row) for row in self._all(statement)]

    def list_page(
        self, administration_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> Sequence[Document]:
        return self._page(administration_id, after_id, limit)

    def totals(self, administration_id: int) -> ArchiveTotals:
        return _totals(
            self._connection, documents, documents.c.administration_id == administration_id
        )

    def list_uncopied(
        self,
        administration_id: int,
        migration_id: int,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        limit: int = 1000,
    ) -> Sequence[Document]:
        # A page of the archive, then its recorded copies by a range of the copies' key: two
        # plain range scans, whatever the planner believes of tables filled a moment ago.
        up_to = () if up_to_id is None else (documents.c.id <= up_to_id,)
        uncopied: list[Document] = []
        while len(uncopied) < limit and (
            page := self._page(administration_id, after_id, limit, *up_to)
        ):
            copied = set(
                self._connection.execute(
                    select(document_copies.c.document_id).where(
                        document_copies.c.migration_id == migration_id,
                        document_copies.c.document_id.between(page[0].id, page[-1].id),
                    )
                ).scalars()
            )
            uncopied.extend(document for document in page if document.id not in copied)
            after_id = page[-1].id
        return uncopied[:limit]

    def point_at_copies(self, administration_id: int, migration_id: int) -> int:
        result = self._connection.execute(
            update(documents)
            .where(
                documents.c.administration_id == administration_id,
                _copy_of_document(migration_id, document_copies.c.document_id).is_not(None),
            )
            .values(
                archive_store=_copy_of_document(migration_id, document_copies.c.archive_store),
                blob_key=_copy_of_document(migration_id, document_copies.c.blob_key),
            )
        )
        return result.rowcount

    def referenced_keys(self, archive_store: str, blob_keys: Collection[str]) -> set[str]:
        statement = (
            select(documents.c.blob_key)
            .where(documents.c.archive_store == archive_store, documents.c.blob_key.in_(blob_keys))
            .distinct()
        )
        return set(self._connection.execute(statement).scalars())

    def hold_blobs(self, archive_store: str, blob_keys: Collection[str]) -> None:
        # SQLite: the unit of work took the one write lock when it began (BEGIN IMMEDIATE).
        if self._connection.dialect.name != "postgresql" or not blob_keys:
            return
        holds = sorted({_blob_hold(archive_store, key) for key in blob_keys})
        self._connection.execute(_HOLD_BLOBS, {"space": BLOB_HOLDS, "holds": holds})

    def _page(
        self, administration_id: int, after_id: int, limit: int, *where: ColumnElement[bool]
    ) -> Sequence[Document]:
        statement = (
            select(documents)
            .where(
                documents.c.administration_id == administration_id,
                documents.c.id > after_id,
                *where,
            )
            .order_by(documents.c.id)
            .limit(limit)
        )
        return [document_from_row(row) for row in self._all(statement)]


#: The first key of the advisory locks of ``hold_blobs``, apart from any other use of them.
BLOB_HOLDS = 0x6D6B_0B10
#: Takes the advisory locks in the order of their keys (PostgreSQL evaluates a volatile
#: function of the select list after the sort), so two releases never wait on each other.
_HOLD_BLOBS = text(
    "SELECT pg_advisory_xact_lock(:space, hold)"
    " FROM unnest(CAST(:holds AS integer[])) AS hold ORDER BY hold"
)


def _blob_hold(archive_store: str, blob_key: str) -> int:
    """A blob's advisory lock key: 32 bits of a hash of its store and key (blobs that share
    one take turns, which does no harm)."""
    digest = hashlib.sha256(f"{archive_store}\0{blob_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _copy_of_document(
    migration_id: int, column: ColumnElement[T], *where: ColumnElement[bool]
) -> ScalarSelect[T]:
    """``column`` of the current document's copy in the migration, or NULL.

    The engine's queries pair documents with their copies this way, never with a join: a
    correlated scalar subquery is run per document as one probe of the copies' primary key,
    so its cost grows with the archive whatever the planner believes of the tables. (A join
    planned on the statistics of a table just filled, before PostgreSQL analysed it, can
    compare every document with every copy.)"""
    return (
        select(column)
        .where(
            document_copies.c.migration_id == migration_id,
            document_copies.c.document_id == documents.c.id,
            *where,
        )
        .scalar_subquery()
    )


def _totals(connection: Connection, table: Table, where: ColumnElement[bool]) -> ArchiveTotals:
    """How many rows of ``table`` match and the sum of their ``size``, in one query."""
    count, size = connection.execute(
        select(func.count(), func.coalesce(func.sum(table.c.size), 0)).where(where)
    ).one()
    return ArchiveTotals(documents=count, bytes=int(size))


def _address(store: ColumnElement[str], document_id: ColumnElement[int]) -> ColumnElement[str]:
    """``document_address`` in SQL: ``<store>/<id>``."""
    return store + "/" + cast(document_id, String)


#: The columns of a ``DocumentCopy`` row that come from the copy itself.
_COPY_COLUMNS = (
    "document_id",
    "archive_store",
    "blob_key",
    "sha256",
    "size",
    "source_store",
    "source_key",
)


def _copies_from_arrays(
    migration_id: int, copies: Sequence[DocumentCopy], at: datetime
) -> Executable:
    """PostgreSQL's insert of the copies that are new, from one array per column."""
    arrays = [
        bindparam(
            f"{column}s",
            [getattr(copy, column) for copy in copies],
            type_=postgresql.ARRAY(document_copies.c[column].type),
        )
        for column in _COPY_COLUMNS
    ]
    rows = func.unnest(*arrays).table_valued(*_COPY_COLUMNS).render_derived()
    values = select(
        literal(migration_id, document_copies.c.migration_id.type),
        literal(at, document_copies.c.copied_at.type),
        *(rows.c[column] for column in _COPY_COLUMNS),
    )
    return (
        postgresql.insert(document_copies)
        .from_select(["migration_id", "copied_at", *_COPY_COLUMNS], values)
        .on_conflict_do_nothing(
            index_elements=[document_copies.c.migration_id, document_copies.c.document_id]
        )
    )


class SqlAlchemyDocumentCopyRepository(_Repository):
    def add_many(self, migration_id: int, copies: Sequence[DocumentCopy], at: datetime) -> int:
        """No RETURNING of a row per copy: the count of new rows is the statement's row
        count. On PostgreSQL one ``INSERT ... SELECT FROM unnest(arrays)``, a parameter per
        column, not per value (psycopg parses a statement of thousands of parameters in
        Python); on SQLite one statement run for each copy."""
        if not copies:
            return 0
        counted = {"preserve_rowcount": True}
        if self._connection.dialect.name == "postgresql":
            statement = _copies_from_arrays(migration_id, copies, at)
            return self._connection.execute(statement, execution_options=counted).rowcount
        statement = _dialect_insert(self._connection, document_copies).on_conflict_do_nothing(
            index_elements=[document_copies.c.migration_id, document_copies.c.document_id]
        )
        rows = [
            {"migration_id": migration_id, "copied_at": at}
            | {column: getattr(copy, column) for column in _COPY_COLUMNS}
            for copy in copies
        ]
        return self._connection.execute(statement, rows, execution_options=counted).rowcount

    def totals(self, migration_id: int) -> ArchiveTotals:
        return _totals(
            self._connection, document_copies, document_copies.c.migration_id == migration_id
        )

    def list_page(
        self,
        migration_id: int,
        *,
        after_document_id: int = 0,
        limit: int = 1000,
        unverified: bool = False,
    ) -> Sequence[DocumentCopy]:
        copy = document_copies.c
        statement = (
            select(document_copies)
            .where(
                copy.migration_id == migration_id,
                copy.document_id > after_document_id,
                *([copy.verified.is_(False)] if unverified else []),
            )
            .order_by(copy.document_id)
            .limit(limit)
        )
        return [document_copy_from_row(row) for row in self._all(statement)]

    def record_verified(self, migration_id: int, document_ids: Collection[int]) -> None:
        if document_ids:
            self._connection.execute(
                update(document_copies)
                .where(*self._of(migration_id, document_ids))
                .values(verified=True)
            )

    def forget(self, migration_id: int, document_ids: Collection[int]) -> int:
        if not document_ids:
            return 0
        counted = {"preserve_rowcount": True}
        statement = delete(document_copies).where(*self._of(migration_id, document_ids))
        return self._connection.execute(statement, execution_options=counted).rowcount

    @staticmethod
    def _of(migration_id: int, document_ids: Collection[int]) -> list[ColumnElement[bool]]:
        copy = document_copies.c
        return [copy.migration_id == migration_id, copy.document_id.in_(sorted(document_ids))]

    def list_mismatched(self, migration_id: int, administration_id: int) -> Sequence[int]:
        copy = document_copies.c
        matching = _copy_of_document(
            migration_id,
            copy.document_id,
            copy.size == documents.c.size,
            copy.sha256 == documents.c.sha256,
        )
        statement = (
            select(documents.c.id)
            .where(documents.c.administration_id == administration_id, matching.is_(None))
            .order_by(documents.c.id)
        )
        return list(self._connection.execute(statement).scalars())


#: How many redirects ``resolve`` follows before it gives up on a chain: far more moves of
#: one document than anyone makes, and a stop should a chain ever loop.
MAX_REDIRECTS = 100


class SqlAlchemyDocumentRedirectRepository(_Repository):
    def add_for_migration(self, migration_id: int, administration_id: int, at: datetime) -> int:
        copy_store = _copy_of_document(migration_id, document_copies.c.archive_store)
        moved = select(
            _address(documents.c.archive_store, documents.c.id).label("old_address"),
            _address(copy_store, documents.c.id).label("new_address"),
            documents.c.id.label("document_id"),
            literal(migration_id).label("migration_id"),
            literal(at, document_redirects.c.created_at.type).label("created_at"),
        ).where(
            documents.c.administration_id == administration_id,
            copy_store.is_not(None),
            copy_store != documents.c.archive_store,
        )
        # A document that comes back to a store it once left lives at its old address again.
        live_again = select(moved.subquery().c.new_address)
        self._connection.execute(
            delete(document_redirects).where(document_redirects.c.old_address.in_(live_again))
        )
        statement = _dialect_insert(self._connection, document_redirects).from_select(
            ["old_address", "new_address", "document_id", "migration_id", "created_at"], moved
        )
        excluded = statement.excluded
        # Counted by the database, not by returning a row per redirect: the finish of a big
        # archive would hold them all in the worker's memory.
        written = self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[document_redirects.c.old_address],
                set_={
                    "new_address": excluded.new_address,
                    "document_id": excluded.document_id,
                    "migration_id": excluded.migration_id,
                    "created_at": excluded.created_at,
                },
            ),
            execution_options={"preserve_rowcount": True},
        )
        return written.rowcount

    def resolve(self, old_address: str) -> str | None:
        address = old_address
        for _ in range(MAX_REDIRECTS):
            new_address = self._connection.execute(
                select(document_redirects.c.new_address).where(
                    document_redirects.c.old_address == address
                )
            ).scalar_one_or_none()
            if new_address is None:
                break
            address = new_address
        return None if address == old_address else address

    def list_for_migration(self, migration_id: int) -> Sequence[DocumentRedirect]:
        statement = (
            select(document_redirects)
            .where(document_redirects.c.migration_id == migration_id)
            .order_by(document_redirects.c.document_id)
        )
        return [document_redirect_from_row(row) for row in self._all(statement)]


class SqlAlchemyOfferRepository(_Repository):
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
        row = self._insert(
            transfer_offers,
            source_environment_id=source_environment_id,
            source_connection_id=source_connection_id,
            package=package.value,
            sender_user_id=sender_user_id,
            sender_email=sender_email,
            recipients=to_json(tuple(recipients)),
            code_digest=code_digest,
            code_hint=code_hint,
            created_at=created_at,
            expires_at=expires_at,
        )
        return offer_from_row(row)

    def get(self, offer_id: int) -> TransferOffer | None:
        return self._first(transfer_offers.c.id == offer_id)

    def find_by_digest(self, code_digest: str) -> TransferOffer | None:
        return self._first(transfer_offers.c.code_digest == code_digest)

    def replace_code(
        self, offer_id: int, *, code_digest: str, code_hint: str, expires_at: datetime
    ) -> None:
        # A new code has a new expiry, so its reminder is still to be sent.
        self._update(
            offer_id,
            code_digest=code_digest,
            code_hint=code_hint,
            expires_at=expires_at,
            reminder_sent_at=None,
        )

    def bind_target(
        self, offer_id: int, *, environment_id: int, user_id: int, at: datetime
    ) -> bool:
        column = transfer_offers.c
        result = self._connection.execute(
            update(transfer_offers)
            .where(
                column.id == offer_id,
                column.target_environment_id.is_(None)
                | (column.target_environment_id == environment_id),
            )
            # The first redeemer and moment stay when the same environment redeems again.
            .values(
                target_environment_id=environment_id,
                redeemed_by_user_id=func.coalesce(column.redeemed_by_user_id, user_id),
                # Typed, or the moment would skip the column type's conversion to UTC.
                redeemed_at=func.coalesce(column.redeemed_at, literal(at, column.redeemed_at.type)),
            )
        )
        return result.rowcount == 1

    def mark_reminded(self, offer_id: int, at: datetime) -> None:
        self._update(offer_id, reminder_sent_at=at)

    def list_outgoing(self, environment_id: int) -> Sequence[TransferOffer]:
        return self._newest_first(transfer_offers.c.source_environment_id == environment_id)

    def list_incoming(self, environment_id: int) -> Sequence[TransferOffer]:
        return self._newest_first(transfer_offers.c.target_environment_id == environment_id)

    def list_with_offered_items(self) -> Sequence[TransferOffer]:
        offered = exists().where(
            offer_items.c.offer_id == transfer_offers.c.id,
            offer_items.c.status == ItemStatus.OFFERED.value,
        )
        statement = select(transfer_offers).where(offered).order_by(transfer_offers.c.id)
        return [offer_from_row(row) for row in self._all(statement)]

    def _first(self, where: ColumnElement[bool]) -> TransferOffer | None:
        row = self._one(select(transfer_offers).where(where))
        return None if row is None else offer_from_row(row)

    def _newest_first(self, where: ColumnElement[bool]) -> Sequence[TransferOffer]:
        statement = (
            select(transfer_offers)
            .where(where)
            .order_by(transfer_offers.c.created_at.desc(), transfer_offers.c.id.desc())
        )
        return [offer_from_row(row) for row in self._all(statement)]

    def _update(self, offer_id: int, **values: object) -> None:
        self._connection.execute(
            update(transfer_offers).where(transfer_offers.c.id == offer_id).values(**values)
        )


class SqlAlchemyOfferItemRepository(_Repository):
    def add(self, offer_id: int, administration: Administration, at: datetime) -> OfferItem:
        row = self._insert(
            offer_items,
            offer_id=offer_id,
            administration_id=administration.id,
            code=administration.code,
            name=administration.name,
            email=administration.email,
            status=ItemStatus.OFFERED.value,
            status_changed_at=at,
        )
        # The offer is the item's first change, made by the offer's sender.
        sender = (
            select(transfer_offers.c.sender_user_id)
            .where(transfer_offers.c.id == offer_id)
            .scalar_subquery()
        )
        self._log(row["id"], None, ItemStatus.OFFERED, OFFER_EVENT, sender, at)
        return item_from_row(row)

    def get(self, item_id: int) -> OfferItem | None:
        row = self._one(select(offer_items).where(offer_items.c.id == item_id))
        return None if row is None else item_from_row(row)

    def list_for_offer(self, offer_id: int) -> Sequence[OfferItem]:
        return self._list(offer_items.c.offer_id == offer_id)

    def list_open_for_administration(self, administration_id: int) -> Sequence[OfferItem]:
        return self._list(
            offer_items.c.administration_id == administration_id,
            offer_items.c.status.in_([status.value for status in OPEN_STATUSES]),
        )

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
        result = self._connection.execute(
            update(offer_items)
            .where(offer_items.c.id == item.id, offer_items.c.status == item.status.value)
            .values(status=to.value, status_changed_at=at, rejection_reason=rejection_reason)
        )
        if result.rowcount != 1:
            return False
        self._log(item.id, item.status, to, event.value, actor_user_id, at)
        return True

    def status_changes(self, item_id: int) -> Sequence[StatusChange]:
        statement = (
            select(status_changes)
            .where(status_changes.c.item_id == item_id)
            .order_by(status_changes.c.id)
        )
        return [status_change_from_row(row) for row in self._all(statement)]

    def _list(self, *where: ColumnElement[bool]) -> Sequence[OfferItem]:
        statement = select(offer_items).where(*where).order_by(offer_items.c.id)
        return [item_from_row(row) for row in self._all(statement)]

    def _log(
        self,
        item_id: int,
        from_status: ItemStatus | None,
        to_status: ItemStatus,
        event: str,
        actor_user_id: int | ScalarSelect[Any] | None,
        at: datetime,
    ) -> None:
        self._connection.execute(
            insert(status_changes).values(
                item_id=item_id,
                from_status=None if from_status is None else from_status.value,
                to_status=to_status.value,
                event=event,
                actor_user_id=actor_user_id,
                at=at,
            )
        )


#: The event of an item's first row in the status-change log: it was offered.
OFFER_EVENT = "offer"


class SqlAlchemyMigrationRepository(_Repository):
    def add(
        self,
        item: OfferItem,
        *,
        target_environment_id: int,
        target: MigrationTarget,
        at: datetime,
    ) -> Migration:
        """Also raises ``Conflict("item_started")`` when the item has a migration already."""
        statement = (
            insert(migrations)
            .values(
                item_id=item.id,
                administration_id=item.administration_id,
                target_environment_id=target_environment_id,
                target_connection_id=target.connection_id,
                target_package_admin_id=target.package_admin_id,
                target_code=target.code,
                target_name=target.name,
                attempts=0,
                documents_total=0,
                documents_done=0,
                bytes_total=0,
                bytes_done=0,
                started_at=at,
                links_attempts=0,
            )
            .returning(*migrations.c)
        )
        try:
            rows = self._guarded(
                statement,
                environment_id=target_environment_id,
                code=target.code,
                name=target.name,
                code_name=migration_code_name,
                package_link=migration_package_link,
            )
        except IntegrityError as error:
            if not _violates(error, migration_item_once):
                raise
            raise self._started(item) from error
        return migration_from_row(rows[0])

    def get(self, migration_id: int) -> Migration | None:
        return self._first(migrations.c.id == migration_id)

    def get_for_item(self, item_id: int) -> Migration | None:
        return self._first(migrations.c.item_id == item_id)

    def list_unfinished_into(self, environment_id: int) -> Sequence[Migration]:
        statement = (
            select(migrations)
            .where(
                migrations.c.target_environment_id == environment_id,
                migrations.c.finished_at.is_(None),
            )
            .order_by(migrations.c.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def finished_into(self, administration_id: int, environment_id: int) -> bool:
        statement = (
            select(migrations.c.id)
            .where(
                migrations.c.administration_id == administration_id,
                migrations.c.target_environment_id == environment_id,
                migrations.c.finished_at.is_not(None),
            )
            .limit(1)
        )
        return self._one(statement) is not None

    def record_claim(self, migration_id: int, *, lease_for: timedelta) -> None:
        self._update(
            migration_id,
            attempts=migrations.c.attempts + 1,
            lease_expires_at=self._database_time(lease_for),
            failure_reason=None,
            failure_code=None,
            failure_params=None,
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
        self._update(
            migration_id,
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
        self._update(
            migration_id,
            failure_reason=reason,
            failure_code=code,
            failure_params=None if code is None else to_json(dict(params)),
        )

    def record_finish(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, finished_at=at)

    def start_links_attempt(self, migration_id: int, *, attempts_seen: int) -> bool:
        result = self._connection.execute(
            update(migrations)
            .where(
                migrations.c.id == migration_id,
                migrations.c.links_rewritten_at.is_(None),
                migrations.c.links_attempts == attempts_seen,
            )
            .values(links_attempts=attempts_seen + 1)
        )
        return result.rowcount == 1

    def record_links_rewritten(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, links_rewritten_at=at)

    def record_source_released(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, source_released_at=at)

    def list_after_finish(
        self, *, link_attempts: int, released_before: datetime
    ) -> Sequence[Migration]:
        column = migrations.c
        statement = (
            select(migrations)
            .where(
                column.finished_at.is_not(None),
                or_(
                    column.links_rewritten_at.is_(None) & (column.links_attempts < link_attempts),
                    column.source_released_at.is_(None) & (column.finished_at < released_before),
                ),
            )
            .order_by(column.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def heartbeat(self, migration_id: int, *, lease_for: timedelta) -> bool:
        processing = exists().where(
            offer_items.c.id == migrations.c.item_id,
            offer_items.c.status == ItemStatus.PROCESSING.value,
        )
        result = self._connection.execute(
            update(migrations)
            .where(migrations.c.id == migration_id, processing)
            .values(lease_expires_at=self._database_time(lease_for))
        )
        return result.rowcount == 1

    def list_to_run(self) -> Sequence[Migration]:
        status = offer_items.c.status
        lease = migrations.c.lease_expires_at
        statement = (
            select(migrations)
            .join(offer_items, offer_items.c.id == migrations.c.item_id)
            .where(
                or_(
                    status == ItemStatus.QUEUED.value,
                    (status == ItemStatus.PROCESSING.value)
                    & (lease.is_(None) | (lease < self._database_time())),
                )
            )
            .order_by(migrations.c.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def _started(self, item: OfferItem) -> Conflict:
        """The refusal of a second migration of one item, with the item's status now."""
        status = self._connection.execute(
            select(offer_items.c.status).where(offer_items.c.id == item.id)
        ).scalar_one()
        return Conflict("item_started", code=item.code, name=item.name, status=ItemStatus(status))

    def _first(self, where: ColumnElement[bool]) -> Migration | None:
        row = self._one(select(migrations).where(where))
        return None if row is None else migration_from_row(row)

    def _update(self, migration_id: int, **values: object) -> None:
        self._connection.execute(
            update(migrations).where(migrations.c.id == migration_id).values(**values)
        )


class SqlAlchemyAccessRepository(_Repository):
    def set(self, administration_id: int, user_id: int, *, granted: bool) -> None:
        statement = _dialect_insert(self._connection, access_grants).values(
            administration_id=administration_id, user_id=user_id, granted=granted
        )
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[access_grants.c.administration_id, access_grants.c.user_id],
                set_={"granted": granted},
            )
        )

    def list_for_administration(self, administration_id: int) -> Sequence[AccessGrant]:
        statement = (
            select(access_grants)
            .where(access_grants.c.administration_id == administration_id)
            .order_by(access_grants.c.user_id)
        )
        return [
            AccessGrant(
                administration_id=row["administration_id"],
                user_id=row["user_id"],
                granted=row["granted"],
            )
            for row in self._all(statement)
        ]

    def clear_for_administration(self, administration_id: int) -> None:
        self._connection.execute(
            delete(access_grants).where(access_grants.c.administration_id == administration_id)
        )


class SqlAlchemyRedeemAttemptRepository(_Repository):
    def add_failure(self, *, user_id: int, environment_id: int, at: datetime) -> None:
        self._insert(redeem_failures, user_id=user_id, environment_id=environment_id, at=at)

    def failures_for_user(self, user_id: int, since: datetime) -> Sequence[datetime]:
        return self._since(redeem_failures.c.user_id == user_id, since)

    def failures_for_environment(self, environment_id: int, since: datetime) -> Sequence[datetime]:
        return self._since(redeem_failures.c.environment_id == environment_id, since)

    def _since(self, where: ColumnElement[bool], since: datetime) -> Sequence[datetime]:
        statement = (
            select(redeem_failures.c.at)
            .where(where, redeem_failures.c.at >= since)
            .order_by(redeem_failures.c.at)
        )
        return list(self._connection.execute(statement).scalars())


#: The HKDF label of the key that seals the outbox's secrets (``adapters.sealing``).
OUTBOX_KEY_LABEL = b"migrationkit outbox secrets v1"


class SqlAlchemyOutboxRepository(_Repository):
    """The outbox; an e-mail's secret (a transfer code) is sealed at rest with ``sealer``
    (the key of ``OUTBOX_KEY_LABEL``), so a dump of the database shows no code even before
    the e-mail is sent, and it is forgotten once sent (R5)."""

    def __init__(self, connection: Connection, sealer: Fernet) -> None:
        super().__init__(connection)
        self._sealer = sealer

    def add(self, email: Email, at: datetime) -> OutboxMessage:
        sealed = None if email.secret is None else self._sealer.encrypt(email.secret.encode())
        row = self._insert(
            outbox,
            email=to_json(email.without_secret()),
            sealed_secret=None if sealed is None else sealed.decode(),
            created_at=at,
        )
        return self._message(row)

    def list_pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        statement = (
            select(outbox)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        return [self._message(row) for row in self._all(statement)]

    def claim_pending(
        self, limit: int, *, now: datetime, until: datetime
    ) -> Sequence[OutboxMessage]:
        column = outbox.c
        # Rows another dispatcher is claiming right now are locked: skipped, not waited for.
        # (SQLite renders no FOR UPDATE: its units of work take the write lock when they open.)
        claimable = (
            select(column.id)
            .where(
                column.sent_at.is_(None),
                column.claimed_until.is_(None) | (column.claimed_until <= now),
            )
            .order_by(column.created_at, column.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = self._connection.execute(
            update(outbox)
            .where(column.id.in_(claimable.scalar_subquery()))
            .values(claimed_until=until)
            .returning(*outbox.c)
        ).mappings()
        messages = [self._message(row) for row in claimed]
        return sorted(messages, key=lambda message: (message.created_at, message.id))

    def release(self, message_ids: Collection[int], *, until: datetime) -> None:
        if not message_ids:
            return
        self._connection.execute(
            update(outbox)
            .where(
                outbox.c.id.in_(message_ids),
                outbox.c.sent_at.is_(None),
                outbox.c.claimed_until == until,
            )
            .values(claimed_until=None)
        )

    def list_recent(self, limit: int = 100) -> Sequence[OutboxMessage]:
        statement = (
            select(outbox).order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit)
        )
        return [self._message(row) for row in self._all(statement)]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        stored = self._connection.execute(
            select(outbox.c.email).where(outbox.c.id == message_id)
        ).scalar_one_or_none()
        if stored is None:
            return
        # A row from before the secret was sealed holds it in the JSON: dropped there too.
        forgotten = from_json(stored, Email).without_secret()
        self._connection.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(sent_at=at, email=to_json(forgotten), sealed_secret=None)
        )

    def _message(self, row: RowMapping) -> OutboxMessage:
        email = from_json(row["email"], Email)
        if row["sealed_secret"] is not None:
            email = attrs.evolve(email, secret=self._unseal(row["id"], row["sealed_secret"]))
        return OutboxMessage(
            id=row["id"],
            email=email,
            created_at=row["created_at"],
            sent_at=row["sent_at"],
            claimed_until=row["claimed_until"],
        )

    def _unseal(self, message_id: int, sealed: str) -> str | None:
        try:
            return self._sealer.decrypt(sealed.encode()).decode()
        except InvalidToken:
            # Sealed under another secret: the e-mail goes out saying the code is not kept.
            log.warning(
                "the secret of outbox message %s cannot be opened with this server's secret",
                message_id,
            )
            return None


class SqlAlchemyChargeRepository(_Repository):
    def add(self, charge: Charge) -> bool:
        statement = _dialect_insert(self._connection, charges).values(
            migration_id=charge.migration_id,
            environment_id=charge.environment_id,
            administration_id=charge.administration_id,
            charged_at=charge.charged_at,
        )
        # R15: a second charge for the same migration is not an error, just not new.
        inserted = self._connection.execute(
            statement.on_conflict_do_nothing(index_elements=[charges.c.migration_id]).returning(
                charges.c.id
            )
        ).first()
        return inserted is not None

    def list_for_environment(self, environment_id: int) -> Sequence[Charge]:
        statement = (
            select(charges)
            .where(charges.c.environment_id == environment_id)
            .order_by(charges.c.migration_id)
        )
        return [charge_from_row(row) for row in self._all(statement)]


class SqlAlchemyApiTokenRepository(_Repository):
    def add(self, *, user_id: int, name: str, digest: str, shown: str, at: datetime) -> ApiToken:
        return api_token_from_row(
            self._insert(
                api_tokens, user_id=user_id, name=name, digest=digest, shown=shown, created_at=at
            )
        )

    def find_active(self, digest: str) -> ApiToken | None:
        row = self._one(
            select(api_tokens).where(
                api_tokens.c.digest == digest, api_tokens.c.revoked_at.is_(None)
            )
        )
        return None if row is None else api_token_from_row(row)

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        statement = (
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
        )
        return [api_token_from_row(row) for row in self._all(statement)]

    def revoke(self, token_id: int, at: datetime) -> bool:
        result = self._connection.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    def mark_used(self, token_id: int, at: datetime) -> None:
        column = api_tokens.c
        self._connection.execute(
            update(api_tokens)
            .where(
                column.id == token_id,
                column.last_used_at.is_(None) | (column.last_used_at <= at - USE_RECORDED_EVERY),
            )
            .values(last_used_at=at)
        )


class SqlAlchemyAuditRepository(_Repository):
    def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        return audit_event_from_row(
            self._insert(
                audit_events,
                at=at,
                action=record.action.value,
                outcome=record.outcome.value,
                channel=record.origin.channel,
                address=record.origin.address,
                actor_user_id=record.actor_user_id,
                actor_email=record.actor_email,
                environment_id=record.environment_id,
                subject_type=record.subject_type,
                subject_id=record.subject_id,
                error_code=record.error_code,
                message_nl=record.message_nl,
                message_en=record.message_en,
            )
        )

    def search(
        self,
        environment_id: int,
        words: Sequence[AuditSearchWord],
        *,
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[AuditEvent]:
        column = audit_events.c
        statement = select(audit_events).where(column.environment_id == environment_id)
        if before_id is not None:
            statement = statement.where(column.id < before_id)
        texts = (
            column.actor_email,
            column.address,
            column.channel,
            column.subject_type,
            cast(column.subject_id, String),
            column.error_code,
            column.message_nl,
            column.message_en,
        )
        for word in words:
            pattern = "%" + _escape_like(word.text.lower()) + "%"
            alternatives: list[ColumnElement[bool]] = [
                func.lower(text_column).like(pattern, escape="\\") for text_column in texts
            ]
            if word.actions:
                alternatives.append(column.action.in_([a.value for a in word.actions]))
            if word.outcomes:
                alternatives.append(column.outcome.in_([o.value for o in word.outcomes]))
            if word.subject_types:
                alternatives.append(column.subject_type.in_(sorted(word.subject_types)))
            if word.channels:
                alternatives.append(column.channel.in_(sorted(word.channels)))
            statement = statement.where(or_(*alternatives))
        statement = statement.order_by(column.id.desc()).limit(limit)
        return [audit_event_from_row(row) for row in self._all(statement)]


def _escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def session_from_row(row: RowMapping) -> UserSession:
    return UserSession(
        id=row["id"],
        user_id=row["user_id"],
        started_at=row["started_at"],
        last_seen_at=row["last_seen_at"],
        user_agent=row["user_agent"],
    )


class SqlAlchemySignInFailureRepository(_Repository):
    def add(self, *, user_id: int, at: datetime) -> int:
        return int(self._insert(sign_in_failures, user_id=user_id, at=at)["id"])

    def since(self, user_id: int, since: datetime) -> Sequence[datetime]:
        column = sign_in_failures.c
        statement = (
            select(column.at)
            .where(column.user_id == user_id, column.at >= since)
            .order_by(column.at)
        )
        return list(self._connection.execute(statement).scalars())

    def remove(self, failure_id: int) -> None:
        self._connection.execute(
            delete(sign_in_failures).where(sign_in_failures.c.id == failure_id)
        )


class SqlAlchemySessionRepository(_Repository):
    def add(self, *, user_id: int, digest: str, user_agent: str, at: datetime) -> UserSession:
        row = self._insert(
            sessions,
            user_id=user_id,
            digest=digest,
            user_agent=user_agent,
            started_at=at,
            last_seen_at=at,
        )
        return session_from_row(row)

    def find(self, digest: str) -> UserSession | None:
        row = self._one(select(sessions).where(sessions.c.digest == digest))
        return None if row is None else session_from_row(row)

    def touch(self, session_id: int, at: datetime) -> None:
        self._connection.execute(
            update(sessions).where(sessions.c.id == session_id).values(last_seen_at=at)
        )

    def list_for_user(self, user_id: int) -> Sequence[UserSession]:
        statement = (
            select(sessions)
            .where(sessions.c.user_id == user_id)
            .order_by(sessions.c.started_at.desc(), sessions.c.id.desc())
        )
        return [session_from_row(row) for row in self._all(statement)]

    def end(self, session_id: int) -> bool:
        result = self._connection.execute(delete(sessions).where(sessions.c.id == session_id))
        return result.rowcount == 1

    def end_for_user(self, user_id: int, *, keep: int | None = None) -> int:
        statement = delete(sessions).where(sessions.c.user_id == user_id)
        if keep is not None:
            statement = statement.where(sessions.c.id != keep)
        return int(self._connection.execute(statement).rowcount)

    def end_over(self, *, started_by: datetime, seen_by: datetime) -> int:
        statement = delete(sessions).where(
            or_(sessions.c.started_at <= started_by, sessions.c.last_seen_at <= seen_by)
        )
        return int(self._connection.execute(statement).rowcount)


class SqlAlchemyRateLimitRepository(_Repository):
    def hit(self, key: str, window_start: datetime) -> int:
        statement = _dialect_insert(self._connection, rate_limit_hits).values(
            key=key, window_start=window_start, hits=1
        )
        counted = self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[rate_limit_hits.c.key, rate_limit_hits.c.window_start],
                set_={"hits": rate_limit_hits.c.hits + 1},
            ).returning(rate_limit_hits.c.hits)
        ).scalar_one()
        return int(counted)

    def purge(self, before: datetime) -> int:
        statement = delete(rate_limit_hits).where(rate_limit_hits.c.window_start < before)
        return int(self._connection.execute(statement).rowcount)
