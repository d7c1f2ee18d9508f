"""Moving an item through the status machine, stored as a compare-and-set."""

from __future__ import annotations

from datetime import datetime

import attrs

from migrationkit.domain.machine import Event, lost_race, next_status
from migrationkit.domain.model import OfferItem, TransferOffer
from migrationkit.domain.rules import displayed_status
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load


def change_status(
    uow: UnitOfWork,
    item: OfferItem,
    event: Event,
    *,
    at: datetime,
    offer: TransferOffer | None = None,
    actor_user_id: int | None = None,
    rejection_reason: str | None = None,
) -> OfferItem:
    """The item after ``event``. With ``offer`` given, an item whose code expired counts as
    Verlopen (R6). Whoever loses the compare-and-set hears what the item became meanwhile."""
    seen = item.status if offer is None else displayed_status(item, offer, at)
    to = next_status(seen, event, code=item.code, name=item.name)
    won = uow.items.compare_and_set(
        item,
        to,
        event=event,
        at=at,
        actor_user_id=actor_user_id,
        rejection_reason=rejection_reason,
    )
    if not won:
        actual = _load.item(uow, item.id).status
        raise lost_race(actual, event, code=item.code, name=item.name)
    return attrs.evolve(
        item,
        status=to,
        status_changed_at=at,
        rejection_reason=rejection_reason
        if rejection_reason is not None
        else item.rejection_reason,
    )
