"""Instellingen > Logboek: the environment's audit trail for its super users (R1), newest
first, with a search over every column and "Oudere gebeurtenissen" a page at a time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request, url_for

from migrationkit import services
from migrationkit.domain.audit import (
    CHANNELS,
    SUBJECT_KINDS,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    label,
)
from migrationkit.domain.errors import MigrationError
from portal.auth import super_user_required
from portal.errors import on_page
from portal.forms import AuditSearchForm, field_error, id_number
from portal.i18n import current_language
from portal.runtime import deps

bp = Blueprint("audit", __name__, url_prefix="/instellingen/logboek")


@bp.get("")
@super_user_required
def index() -> str:
    """A page of the trail; ``before`` is the id where the page before it ended."""
    form = AuditSearchForm(request.args)
    page = None
    try:
        page = services.audit_trail(
            deps(),
            actor_id=g.user.id,
            search=form.zoeken.data,
            before_id=request.args.get("before", type=id_number),
        )
    except MigrationError as error:
        field_error(form, form.zoeken, on_page(error))
    return render_template("audit/index.html", form=form, page=page)


@bp.context_processor
def presenting() -> dict[str, Any]:
    return {
        "refusal_message": refusal_message,
        "subject_kind": subject_kind,
        "subject_link": subject_link,
        "channel_label": channel_label,
        "refused": refused,
    }


def refusal_message(event: AuditEvent) -> str:
    """What the user was told when refused, in the language of the reader."""
    record = event.record
    return (record.message_en if current_language() == "en" else record.message_nl) or ""


def subject_kind(kind: str) -> str:
    """The kind of an object in the user's language; an unknown kind as it was stored."""
    return label(SUBJECT_KINDS, kind, current_language())


def subject_link(event: AuditEvent) -> str | None:
    """The portal page of the event's object, where there is one for this reader: a
    migration's status (either side may open it), an administration's archive, the
    connections, the reader's own tokens, and an offer the reader's environment redeemed."""
    record = event.record
    kind, subject_id = record.subject_type, record.subject_id
    if subject_id is None:
        return None
    if kind == "migration":
        return url_for("migrations.status", migration_id=subject_id)
    if kind == "administration":
        return url_for("archive.index", administration_id=subject_id)
    if kind == "connection":
        return url_for("connections.index")
    if kind == "api_token" and record.actor_user_id == g.user.id and not refused(event):
        return url_for("tokens.index")
    if kind == "offer" and record.action in (AuditAction.REDEEM, AuditAction.REJECT):
        return url_for("migrations.offered", offer_id=subject_id)
    return None


def refused(event: AuditEvent) -> bool:
    return event.record.outcome is AuditOutcome.REFUSED


def channel_label(channel: str) -> str:
    """Where the event came from: portaal, API, ..."""
    return label(CHANNELS, channel, current_language())
