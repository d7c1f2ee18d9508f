"""The database schema as SQLAlchemy Core tables, all on one ``MetaData``.

The domain classes stay plain attrs values: the repositories turn rows into them. The
schema itself is made only by the Alembic migrations in ``migrations/``; a test checks that
they produce exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)

from migrationkit.domain.rules import MAX_EMAIL

#: Constraint names that Alembic can find again on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Lengths of the short strings; free text is Text.
CODE_NAME = 200
EMAIL = MAX_EMAIL
KEY = 500
STATUS = 40


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every database.

    SQLite keeps no time zone, so the value is stored as naive UTC there (which also keeps
    its text comparable) and marked UTC again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _reference(name: str, target: str, *, nullable: bool = False) -> Column[int]:
    return Column(name, Integer, ForeignKey(target), nullable=nullable)


environments = Table(
    "environments",
    metadata,
    _id(),
    Column("name", String(CODE_NAME), nullable=False),
    Column("has_subscription", Boolean, nullable=False),
    Column("archive_store", String(CODE_NAME), nullable=False),
)

users = Table(
    "users",
    metadata,
    _id(),
    _reference("environment_id", "environments.id"),
    Column("email", String(EMAIL), nullable=False),
    # The address lower-cased: one user per address, whatever its case.
    Column("email_key", String(EMAIL), nullable=False, unique=True),
    Column("name", String(CODE_NAME), nullable=False),
    Column("role", String(STATUS), nullable=False),
    Column("password_hash", String(KEY), nullable=False),
    # The language chosen in the portal ("nl", "en"); their e-mails are written in it.
    Column("language", String(2)),
    Index(None, "environment_id"),
)

connections = Table(
    "connections",
    metadata,
    _id(),
    _reference("environment_id", "environments.id"),
    Column("package", String(STATUS), nullable=False),
    Column("name", String(CODE_NAME), nullable=False),
    Index(None, "environment_id"),
)

#: R8: one administration per (code, name) in an environment.
administration_code_name = UniqueConstraint("environment_id", "code", "name")
#: R9: a package administration is linked once through a connection.
administration_package_link = UniqueConstraint("connection_id", "package_admin_id")

administrations = Table(
    "administrations",
    metadata,
    _id(),
    _reference("environment_id", "environments.id"),
    _reference("connection_id", "connections.id"),
    Column("code", String(CODE_NAME), nullable=False),
    Column("name", String(CODE_NAME), nullable=False),
    Column("email", String(EMAIL), nullable=False),
    Column("package_admin_id", String(CODE_NAME), nullable=False),
    administration_code_name,
    administration_package_link,
)

authorization_flows = Table(
    "authorization_flows",
    metadata,
    _id(),
    _reference("administration_id", "administrations.id"),
    Column("name", String(CODE_NAME), nullable=False),
    Index(None, "administration_id"),
)

authorization_flow_authorizers = Table(
    "authorization_flow_authorizers",
    metadata,
    _reference("flow_id", "authorization_flows.id"),
    _reference("user_id", "users.id"),
    # The authorizer's place in the chain.
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("flow_id", "user_id"),
)

documents = Table(
    "documents",
    metadata,
    _id(),
    _reference("administration_id", "administrations.id"),
    Column("filename", String(KEY), nullable=False),
    Column("content_type", String(CODE_NAME), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("archive_store", String(CODE_NAME), nullable=False),
    Column("blob_key", String(KEY), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # An administration's archive is read a page at a time, in order of id.
    Index(None, "administration_id", "id"),
    # Whether anything still keeps its bytes at a blob, before the blob is let go.
    Index(None, "archive_store", "blob_key"),
)

transfer_offers = Table(
    "transfer_offers",
    metadata,
    _id(),
    _reference("source_environment_id", "environments.id"),
    _reference("source_connection_id", "connections.id"),
    Column("package", String(STATUS), nullable=False),
    _reference("sender_user_id", "users.id"),
    Column("sender_email", String(EMAIL), nullable=False),
    # The recipients' addresses as a JSON list.
    Column("recipients", Text, nullable=False),
    Column("code_digest", String(64), nullable=False, unique=True, index=True),
    Column("code_hint", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("reminder_sent_at", UtcDateTime),
    _reference("target_environment_id", "environments.id", nullable=True),
    _reference("redeemed_by_user_id", "users.id", nullable=True),
    Column("redeemed_at", UtcDateTime),
    Index(None, "source_environment_id"),
    Index(None, "target_environment_id"),
)

offer_items = Table(
    "offer_items",
    metadata,
    _id(),
    _reference("offer_id", "transfer_offers.id"),
    _reference("administration_id", "administrations.id"),
    Column("code", String(CODE_NAME), nullable=False),
    Column("name", String(CODE_NAME), nullable=False),
    Column("email", String(EMAIL), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("status_changed_at", UtcDateTime, nullable=False),
    Column("rejection_reason", Text),
    # What the overviews read, kept on the item so that a page is one walk down one index
    # (domain.overviews): its offer's environments, moment and expiry, and the texts the
    # search looks in, folded, of the sender's row and of the recipient's, but the status.
    # Written by the repository with the item and again when the offer changes them; the
    # moments and environments may be NULL only because SQLite adds a column in place so.
    Column("source_environment_id", Integer),
    Column("target_environment_id", Integer),
    Column("offered_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("outgoing_text", Text, nullable=False, server_default=""),
    Column("incoming_text", Text, nullable=False, server_default=""),
    Index(None, "offer_id"),
    Index(None, "administration_id"),
    Index(None, "status"),
    Index(None, "source_environment_id", "offered_at", "id"),
    Index(None, "target_environment_id", "offered_at", "id"),
    # On PostgreSQL a trigram index serves "each word anywhere" (LIKE '%word%'), below;
    # SQLite reads the environment's rows down the index above.
)

#: Indexes that only PostgreSQL has (SQLite makes no other table the same way).
POSTGRESQL_ONLY = frozenset(
    Index(
        f"ix_offer_items_{column}_trigram",
        offer_items.c[column],
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
    for column in ("outgoing_text", "incoming_text")
)

#: The one transition log: every status change of every item is one row.
status_changes = Table(
    "status_changes",
    metadata,
    _id(),
    _reference("item_id", "offer_items.id"),
    Column("from_status", String(STATUS)),
    Column("to_status", String(STATUS), nullable=False),
    Column("event", String(STATUS), nullable=False),
    _reference("actor_user_id", "users.id", nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "item_id"),
)

_unfinished = text("finished_at IS NULL")
# While unfinished, a migration reserves its target's (code, name) (R8) and its package
# administration (R9); finishing releases both.
migration_code_name = Index(
    "ux_migrations_open_target_code_name",
    "target_environment_id",
    "target_code",
    "target_name",
    unique=True,
    sqlite_where=_unfinished,
    postgresql_where=_unfinished,
)
migration_package_link = Index(
    "ux_migrations_open_target_package_admin",
    "target_connection_id",
    "target_package_admin_id",
    unique=True,
    sqlite_where=_unfinished,
    postgresql_where=_unfinished,
)

#: An item is moved by one migration; a retry resumes it.
migration_item_once = UniqueConstraint("item_id")

migrations = Table(
    "migrations",
    metadata,
    _id(),
    _reference("item_id", "offer_items.id"),
    _reference("administration_id", "administrations.id"),
    _reference("target_environment_id", "environments.id"),
    _reference("target_connection_id", "connections.id"),
    Column("target_package_admin_id", String(CODE_NAME), nullable=False),
    Column("target_code", String(CODE_NAME), nullable=False),
    Column("target_name", String(CODE_NAME), nullable=False),
    Column("failure_reason", Text),
    # The error behind the reason: its code, and its params as a JSON object of strings.
    Column("failure_code", String(CODE_NAME)),
    Column("failure_params", Text),
    Column("attempts", Integer, nullable=False),
    Column("documents_total", BigInteger, nullable=False),
    Column("documents_done", BigInteger, nullable=False),
    Column("bytes_total", BigInteger, nullable=False),
    Column("bytes_done", BigInteger, nullable=False),
    Column("lease_expires_at", UtcDateTime),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # The steps after the finish, each recorded once done (the sweeper looks for the rest).
    Column("links_rewritten_at", UtcDateTime),
    Column("links_attempts", Integer, nullable=False),
    Column("source_released_at", UtcDateTime),
    migration_item_once,
    migration_code_name,
    migration_package_link,
    Index(None, "administration_id"),
)

access_grants = Table(
    "access_grants",
    metadata,
    _reference("administration_id", "administrations.id"),
    _reference("user_id", "users.id"),
    Column("granted", Boolean, nullable=False),
    PrimaryKeyConstraint("administration_id", "user_id"),
)

#: Wrong transfer codes, counted for the lockout (R7).
redeem_failures = Table(
    "redeem_failures",
    metadata,
    _id(),
    _reference("user_id", "users.id"),
    _reference("environment_id", "environments.id"),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "user_id", "at"),
    Index(None, "environment_id", "at"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    # The e-mail as JSON: to, cc, subject, body, kind.
    Column("email", Text, nullable=False),
    # Its secret (a transfer code) sealed until it is sent, then forgotten (R5).
    Column("sealed_secret", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    # Until when a dispatcher holds the message: another one skips it till then.
    Column("claimed_until", UtcDateTime),
    Index(None, "sent_at"),
)

charges = Table(
    "charges",
    metadata,
    _id(),
    # R15: one charge per moved administration.
    Column("migration_id", Integer, ForeignKey("migrations.id"), nullable=False, unique=True),
    _reference("environment_id", "environments.id"),
    _reference("administration_id", "administrations.id"),
    Column("charged_at", UtcDateTime, nullable=False),
    Index(None, "environment_id"),
)

#: The checkpoints of moves across stores: a document's verified copy in the target store,
#: committed with its batch. The key makes a redone batch record each document once.
document_copies = Table(
    "document_copies",
    metadata,
    _reference("migration_id", "migrations.id"),
    _reference("document_id", "documents.id"),
    Column("archive_store", String(CODE_NAME), nullable=False),
    Column("blob_key", String(KEY), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    # Where the bytes came from, to let them go once the move is done.
    Column("source_store", String(CODE_NAME), nullable=False),
    Column("source_key", String(KEY), nullable=False),
    Column("copied_at", UtcDateTime, nullable=False),
    # Whether the finish's look at the target store saw the copy there (with its size);
    # a copy recorded since is looked at again inside the finishing transaction.
    Column("verified", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("migration_id", "document_id"),
)

#: Old document addresses and where they lead now.
document_redirects = Table(
    "document_redirects",
    metadata,
    Column("old_address", String(KEY), primary_key=True),
    Column("new_address", String(KEY), nullable=False),
    _reference("document_id", "documents.id"),
    _reference("migration_id", "migrations.id"),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "migration_id"),
)

#: Each connection's OAuth2 tokens, sealed (encrypted) by the token store: a database dump
#: holds no token in plain text. ``version`` counts rotations.
connector_tokens = Table(
    "connector_tokens",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id"), primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Personal API tokens, kept only as a keyed digest (HMAC-SHA256 with the server's secret).
api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _reference("user_id", "users.id"),
    Column("name", String(CODE_NAME), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    # The token's first characters, so its owner can tell tokens apart.
    Column("shown", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Index(None, "user_id"),
)

#: The audit trail: appended, never changed (triggers refuse UPDATE and DELETE). It keeps
#: the actor's address and e-mail as they were, and no foreign keys, so it outlives what it
#: names.
audit_events = Table(
    "audit_events",
    metadata,
    _id(),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(STATUS), nullable=False),
    Column("outcome", String(STATUS), nullable=False),
    Column("channel", String(STATUS), nullable=False),
    Column("address", String(64)),
    Column("actor_user_id", Integer),
    Column("actor_email", String(EMAIL)),
    Column("environment_id", Integer),
    Column("subject_type", String(STATUS)),
    Column("subject_id", Integer),
    Column("error_code", String(CODE_NAME)),
    Column("message_nl", Text),
    Column("message_en", Text),
    Index(None, "environment_id", "id"),
)

#: Refused sign-ins, counted for the sign-in lockout. A sign-in writes its row before the
#: password is checked (under a lock on the user's row) and removes it when the password
#: was right, so a burst of guesses cannot all be checked before the first is counted.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "user_id", "at"),
)

#: Sign-in sessions, by the keyed digest of the id in the browser's cookie (never the id).
#: A user's removal removes their sessions.
sessions = Table(
    "sessions",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_agent", String(KEY), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Index(None, "user_id"),
)

#: The API's rate limit: calls per key (a token, a client address) in each fixed window,
#: counted by one atomic upsert per call, so every process and machine shares the count.
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("key", String(CODE_NAME), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("key", "window_start"),
    Index(None, "window_start"),
)
