"""The API's response bodies, made from the use cases' results by plain functions.

Each function names exactly the fields it gives, so nothing new or secret (a code's digest,
a blob's key, a token) reaches an answer by accident. Moments are ISO 8601 in UTC; a status
is its stable value with a label in the request's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from migrationkit import services
from migrationkit.domain import codes
from migrationkit.domain.audit import AuditEvent
from migrationkit.domain.dates import utc
from migrationkit.domain.model import (
    AccessGrant,
    Administration,
    Connection,
    Document,
    ItemStatus,
    Migration,
    OfferItem,
    PackageAdministration,
    TransferOffer,
    User,
)

Json = dict[str, Any]
Row = TypeVar("Row")


def moment(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, with Z."""
    if value is None:
        return None
    return utc(value).isoformat().replace("+00:00", "Z")


def label(value: Any, language: str) -> str:
    """The label of a status, verdict, action or outcome in ``language``."""
    return str(value.label_en if language == "en" else value.label_nl)


def status(value: ItemStatus, language: str) -> Json:
    return {"status": value.value, "status_label": label(value, language)}


def user(found: User) -> Json:
    return {
        "id": found.id,
        "email": found.email,
        "name": found.name,
        "role": found.role.value,
        "environment_id": found.environment_id,
    }


def connection(found: Connection) -> Json:
    return {
        "id": found.id,
        "name": found.name,
        "package": found.package.value,
        "package_label": found.package.label,
    }


def connection_row(row: services.ConnectionRow) -> Json:
    return {
        **connection(row.connection),
        "configured": row.configured,
        "needs_authorization": row.needs_authorization,
        "authorized": row.authorized,
        "can_rewrite_links": row.can_rewrite_links,
    }


def administration(found: Administration) -> Json:
    return {
        "id": found.id,
        "code": found.code,
        "name": found.name,
        "email": found.email,
        "package": found.package.value,
        "connection_id": found.connection_id,
        "package_admin_id": found.package_admin_id,
    }


def administration_row(row: services.AdministrationRow, language: str) -> Json:
    offer_status = row.offer_status
    return {
        **administration(row.administration),
        "connection": connection(row.connection),
        "offer_status": None if offer_status is None else offer_status.value,
        "offer_status_label": None if offer_status is None else label(offer_status, language),
        "moving": row.is_moving,
    }


def package_administration(found: PackageAdministration) -> Json:
    return {"package_admin_id": found.package_admin_id, "code": found.code, "name": found.name}


def document(found: Document) -> Json:
    return {
        "id": found.id,
        "address": found.address,
        "filename": found.filename,
        "content_type": found.content_type,
        "size": found.size,
        "sha256": found.sha256,
        "received_at": moment(found.received_at),
    }


def documents(page: tuple[Document, ...], limit: int) -> Json:
    """A page of an archive; ``next_after`` is where the next page starts, when this one is
    full."""
    return {
        "documents": [document(found) for found in page],
        "next_after": page[-1].id if page and len(page) == limit else None,
    }


def access(row: services.UserAccess) -> Json:
    return {"user": user(row.user), "granted": row.granted}


def access_grant(grant: AccessGrant) -> Json:
    return {
        "administration_id": grant.administration_id,
        "user_id": grant.user_id,
        "granted": grant.granted,
    }


def offer(found: TransferOffer) -> Json:
    """An offer as both sides may see it: the code only masked."""
    return {
        "id": found.id,
        "package": found.package.value,
        "package_label": found.package.label,
        "source_connection_id": found.source_connection_id,
        "sender_email": found.sender_email,
        "recipients": list(found.recipients),
        "masked_code": codes.mask_code(found.code_hint),
        "created_at": moment(found.created_at),
        "expires_at": moment(found.expires_at),
        "redeemed_at": moment(found.redeemed_at),
    }


def item(found: OfferItem, language: str) -> Json:
    return {
        "id": found.id,
        "offer_id": found.offer_id,
        "administration_id": found.administration_id,
        "code": found.code,
        "name": found.name,
        "email": found.email,
        **status(found.status, language),
        "status_changed_at": moment(found.status_changed_at),
        "rejection_reason": found.rejection_reason,
    }


def items(found: tuple[OfferItem, ...], language: str) -> Json:
    return {"items": [item(each, language) for each in found]}


def receipt(found: services.OfferReceipt, language: str) -> Json:
    """The one answer that holds a transfer code in full."""
    return {
        "offer": offer(found.offer),
        **items(found.items, language),
        "code": found.code,
    }


def outgoing_row(row: services.OutgoingRow, language: str) -> Json:
    return {
        "item_id": row.item_id,
        "offer_id": row.offer_id,
        "offered_at": moment(row.offered_at),
        "administration_code": row.administration_code,
        "administration_name": row.administration_name,
        "administration_email": row.administration_email,
        "recipients": list(row.recipients),
        "expires_at": moment(row.expires_at),
        "masked_code": row.masked_code,
        **status(row.status, language),
        "rejection_reason": row.rejection_reason,
        "can_withdraw": row.can_withdraw,
    }


def overview_page(
    page: services.OverviewPage[Row], row: Callable[[Row, str], Json], language: str
) -> Json:
    """A page of an overview; ``older`` and ``newer`` go back as ``cursor``."""
    return {
        "rows": [row(found, language) for found in page.rows],
        "older": page.older,
        "newer": page.newer,
    }


def incoming_row(row: services.IncomingRow, language: str) -> Json:
    return {
        "item_id": row.item_id,
        "offer_id": row.offer_id,
        "offered_at": moment(row.offered_at),
        "administration_code": row.administration_code,
        "administration_name": row.administration_name,
        "package": row.package.value,
        "package_label": row.package.label,
        "source_environment_name": row.source_environment_name,
        **status(row.status, language),
        "migration_id": None if row.migration is None else row.migration.id,
        "rejection_reason": row.rejection_reason,
        "can_retry": row.can_retry,
    }


def redeemed(found: services.RedeemedOffer, language: str) -> Json:
    return {
        "offer": offer(found.offer),
        **items(found.items, language),
        "source_environment_name": found.source_environment_name,
    }


def migration(found: Migration) -> Json:
    """A migration as started: its target; its progress is ``progress``'s."""
    target = found.target
    return {
        "id": found.id,
        "item_id": found.item_id,
        "administration_id": found.administration_id,
        "target_environment_id": found.target_environment_id,
        "target": {
            "connection_id": target.connection_id,
            "package_admin_id": target.package_admin_id,
            "code": target.code,
            "name": target.name,
        },
    }


def progress(found: services.Progress, language: str) -> Json:
    moved = found.migration
    return {
        **migration(moved),
        "administration_name": found.administration_name,
        **status(found.status, language),
        "documents_done": moved.documents_done,
        "documents_total": moved.documents_total,
        "bytes_done": moved.bytes_done,
        "bytes_total": moved.bytes_total,
        "percent": found.percent,
        "attempts": moved.attempts,
        "started_at": moment(moved.started_at),
        "finished_at": moment(moved.finished_at),
        "failure_code": moved.failure_code,
        "failure": moved.failure_message(language),
    }


def audit_event(event: AuditEvent, language: str) -> Json:
    record = event.record
    message = record.message_en if language == "en" else record.message_nl
    return {
        "id": event.id,
        "at": moment(event.at),
        "action": record.action.value,
        "action_label": label(record.action, language),
        "outcome": record.outcome.value,
        "outcome_label": label(record.outcome, language),
        "channel": record.origin.channel,
        "address": record.origin.address,
        "actor_user_id": record.actor_user_id,
        "actor_email": record.actor_email,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "error_code": record.error_code,
        "message": message,
    }


def audit_page(page: services.AuditPage, language: str) -> Json:
    return {
        "events": [audit_event(event, language) for event in page.events],
        "older": page.older,
    }


def check(found: services.Check, language: str) -> Json:
    return {
        "rule": found.rule,
        "title": found.title(language),
        "verdict": found.verdict.value,
        "verdict_label": label(found.verdict, language),
        "code": None if found.error is None else found.error.code,
        "explanation": found.explanation(language),
    }


def offer_preflight(report: services.OfferPreflight, language: str) -> Json:
    return {
        "passed": report.passed,
        "connection": connection(report.connection),
        "valid_until": moment(report.valid_until),
        "administrations": [
            {
                "administration": administration(entry.administration),
                "passed": entry.passed,
                "checks": [check(each, language) for each in entry.checks],
            }
            for entry in report.administrations
        ],
    }


def start_preflight(report: services.StartPreflight, language: str) -> Json:
    return {
        "passed": report.passed,
        "offer_id": report.offer.id,
        "items": [
            {
                "item": item(entry.item, language),
                "connection_id": entry.choice.connection_id,
                "package_admin_id": entry.choice.package_admin_id,
                "package_administration": None
                if entry.package_administration is None
                else package_administration(entry.package_administration),
                "passed": entry.passed,
                "checks": [check(each, language) for each in entry.checks],
            }
            for entry in report.items
        ],
    }
