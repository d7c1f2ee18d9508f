"""The sender's side: offer, withdraw, resend, and the outgoing overview (the dry run is in
``preflight``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from migrationkit.domain import codes
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import InvalidInput, MigrationError, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    Administration,
    ItemStatus,
    OfferItem,
    TransferOffer,
)
from migrationkit.domain.overviews import PAGE_SIZE, fold, searchable
from migrationkit.domain.rules import (
    clean_search,
    displayed_status,
    expiry_of,
    require_sender,
    require_valid_recipients,
)
from migrationkit.services import _emails, _load
from migrationkit.services._pages import OverviewPage, overview_query, paged
from migrationkit.services._transitions import change_status
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.preflight import carrying, offer_report


@attrs.frozen
class OfferReceipt:
    """What the confirmation page shows once: the code in full, and where it went."""

    offer: TransferOffer
    items: tuple[OfferItem, ...]
    code: str


@attrs.frozen
class OutgoingRow:
    """A row of "Administraties die al ter migratie zijn aangeboden"."""

    item_id: int
    offer_id: int
    offered_at: datetime
    administration_code: str
    administration_name: str
    administration_email: str
    recipients: tuple[str, ...]
    expires_at: datetime
    masked_code: str
    status: ItemStatus
    rejection_reason: str | None

    @property
    def can_withdraw(self) -> bool:
        """R12: only while Aangeboden."""
        return self.status is ItemStatus.OFFERED


@audited(AuditAction.OPEN)
def offerable_administrations(
    deps: Dependencies, *, actor_id: int, connection_id: int, search: str | None = None
) -> tuple[Administration, ...]:
    """The administrations of a connection that can be offered now (not in an open offer),
    those with every word of ``search`` in their code or name."""
    term = clean_search(search)
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
        words = fold(term).split()
        listed = [
            administration
            for administration in uow.administrations.list_for_connection(connection.id)
            if _has_every(searchable(administration.code, administration.name), words)
        ]
        offered = {
            item.administration_id
            for item in uow.items.list_open_for_administrations([a.id for a in listed])
        }
        return tuple(a for a in listed if a.id not in offered)


@audited(AuditAction.OFFER)
def offer_administrations(
    deps: Dependencies,
    *,
    actor_id: int,
    connection_id: int,
    administration_ids: Sequence[int],
    recipients: Sequence[str],
    accepted_terms: bool,
) -> OfferReceipt:
    """Offers administrations of one connection to another environment (R1-R5, R10):
    refused with the first refusal of the dry run's report (``preflight_offer``), which a
    refusal after the report carries (``report_of``).

    The code goes to the recipients, with a copy to the sender, through the outbox; the
    receipt holds the full code, which is never stored and never shown again.
    """
    addresses = require_valid_recipients(recipients)
    if not accepted_terms:
        raise InvalidInput("terms_not_accepted")
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
        administrations = _load.administrations(uow, administration_ids, actor.environment_id)
        now = deps.clock.now()
        report = offer_report(
            uow, connection, administrations, now=now, valid_for=deps.policy.offer_valid_for
        )
        error = report.first_error()
        if error is not None:
            raise carrying(error, report)
        # The sender's own address is pre-filled in the form; the sender gets the copy.
        to = tuple(a for a in addresses if a.lower() != actor.email.lower())
        try:
            require_valid_recipients(to)
        except MigrationError as refusal:
            raise carrying(refusal, report) from None
        issued = codes.issue_code(deps.policy.code_secret)
        offer = uow.offers.add(
            source_environment_id=actor.environment_id,
            source_connection_id=connection.id,
            package=connection.package,
            sender_user_id=actor.id,
            sender_email=actor.email,
            recipients=to,
            code_digest=issued.digest,
            code_hint=issued.hint,
            created_at=now,
            expires_at=expiry_of(now, deps.policy.offer_valid_for),
        )
        items = tuple(uow.items.add_many(offer.id, administrations, now))
        _emails.post(
            uow, _emails.offer_code(offer, items, issued.code, deps.policy.portal_url), now
        )
        record(uow, deps, actor, AuditAction.OFFER, ("offer", offer.id))
        uow.commit()
    return OfferReceipt(offer, items, issued.code)


@audited(AuditAction.WITHDRAW)
def withdraw_item(deps: Dependencies, *, actor_id: int, item_id: int) -> OfferItem:
    """Intrekken: the sender takes an item back while it is Aangeboden (R12)."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        item = _load.item(uow, item_id)
        offer = _load.offer(uow, item.offer_id)
        require_sender(offer, actor, "unknown_item")
        now = deps.clock.now()
        item = change_status(uow, item, Event.WITHDRAW, at=now, offer=offer, actor_user_id=actor.id)
        _emails.post(uow, _emails.withdrawn(offer, item), now)
        record(uow, deps, actor, AuditAction.WITHDRAW, ("offer_item", item.id))
        uow.commit()
    return item


@audited(AuditAction.RESEND)
def resend_code(deps: Dependencies, *, actor_id: int, offer_id: int) -> OfferReceipt:
    """A new code for an offer while any of its items is Aangeboden; the old one dies (R5).

    The new code is valid for the full period again, counted from now.
    """
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_sender(offer, actor)
        now = deps.clock.now()
        items = uow.items.list_for_offer(offer.id)
        offered = tuple(
            item for item in items if displayed_status(item, offer, now) is ItemStatus.OFFERED
        )
        if not offered:
            raise RuleViolation("no_open_items")
        issued = codes.issue_code(deps.policy.code_secret)
        expires_at = expiry_of(now, deps.policy.offer_valid_for)
        uow.offers.replace_code(
            offer.id,
            code_digest=issued.digest,
            code_hint=issued.hint,
            expires_at=expires_at,
        )
        offer = _load.offer(uow, offer.id)
        _emails.post(
            uow, _emails.offer_code(offer, offered, issued.code, deps.policy.portal_url), now
        )
        record(uow, deps, actor, AuditAction.RESEND, ("offer", offer.id))
        uow.commit()
    return OfferReceipt(offer, offered, issued.code)


@audited(AuditAction.OPEN)
def outgoing_overview(
    deps: Dependencies,
    *,
    actor_id: int,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> OverviewPage[OutgoingRow]:
    """A page of the administrations the actor's environment offered, newest first, with
    each word of the search somewhere in the row (ignoring case), from ``cursor`` (the
    ``older`` or ``newer`` of a page before) on."""
    query = overview_query(search=search, cursor=cursor, limit=limit, now=deps.clock.now())
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        entries, older, newer = paged(uow.items.outgoing_page(actor.environment_id, query), query)
    rows = tuple(
        OutgoingRow(
            item_id=entry.item.id,
            offer_id=entry.offer.id,
            offered_at=entry.offer.created_at,
            administration_code=entry.item.code,
            administration_name=entry.item.name,
            administration_email=entry.item.email,
            recipients=entry.offer.recipients,
            expires_at=entry.offer.expires_at,
            masked_code=codes.mask_code(entry.offer.code_hint),
            status=displayed_status(entry.item, entry.offer, query.now),
            rejection_reason=entry.item.rejection_reason,
        )
        for entry in entries
    )
    return OverviewPage(rows, older, newer)


def _has_every(text: str, words: Sequence[str]) -> bool:
    """Whether each of ``words`` is somewhere in ``text`` (folded, as ``searchable`` made it)."""
    return all(word in text for word in words)
