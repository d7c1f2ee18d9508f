"""The in-memory database's tables, with the rules its constraints hold (R8, R9, the
reservations of unfinished migrations, one user per e-mail address)."""

from __future__ import annotations

from datetime import datetime

import attrs

from migrationkit.domain.api_tokens import ApiToken
from migrationkit.domain.audit import AuditEvent
from migrationkit.domain.errors import Conflict, RuleViolation
from migrationkit.domain.model import (
    AccessGrant,
    Administration,
    AuthorizationFlow,
    Charge,
    Connection,
    Document,
    Environment,
    Migration,
    OfferItem,
    TransferOffer,
    User,
)
from migrationkit.domain.sessions import UserSession
from migrationkit.ports import DocumentCopy, DocumentRedirect, OutboxMessage, StatusChange
from migrationkit.testing._database import Source, Table


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
