"""The clock's part: expire offers (R6) and remind recipients before a code expires."""

from __future__ import annotations

import attrs

from migrationkit.domain.errors import Conflict
from migrationkit.domain.machine import Event
from migrationkit.domain.model import ItemStatus
from migrationkit.domain.rules import is_expired
from migrationkit.services import _emails
from migrationkit.services._transitions import change_status
from migrationkit.services.dependencies import Dependencies


@attrs.frozen
class SweepReport:
    expired_items: int
    reminded_offers: int


def sweep_offers(deps: Dependencies) -> SweepReport:
    """Aangeboden -> Verlopen for every expired item (sender e-mailed once per offer), and a
    reminder to the recipients of offers that expire within the reminder period.

    Each offer is its own transaction; an item that a start took a moment earlier is left
    alone (whichever compare-and-set lands first wins).
    """
    expired_items = reminded = 0
    with deps.uow() as uow:
        offer_ids = [offer.id for offer in uow.offers.list_with_offered_items()]
    for offer_id in offer_ids:
        with deps.uow() as uow:
            offer = uow.offers.get(offer_id)
            if offer is None:
                continue
            now = deps.clock.now()
            offered = [
                item
                for item in uow.items.list_for_offer(offer.id)
                if item.status is ItemStatus.OFFERED
            ]
            if is_expired(offer, now):
                expired = []
                for item in offered:
                    try:
                        expired.append(change_status(uow, item, Event.EXPIRE, at=now))
                    except Conflict:
                        continue
                if expired:
                    _emails.post(uow, _emails.expired(offer, expired), now)
                expired_items += len(expired)
            elif (
                offered
                and offer.reminder_sent_at is None
                and now >= offer.expires_at - deps.policy.reminder_before
            ):
                uow.offers.mark_reminded(offer.id, now)
                _emails.post(uow, _emails.expiry_reminder(offer, offered), now)
                reminded += 1
            uow.commit()
    return SweepReport(expired_items, reminded)
