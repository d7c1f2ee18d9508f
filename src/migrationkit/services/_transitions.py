"""Moving an item through the status machine, stored as a compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from migrationkit.domain.machine import Event, lost_race, next_status
from migrationkit.domain.model import ItemStatus, OfferItem, TransferOffer
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


def change_statuses(
    uow: UnitOfWork,
    items: Sequence[OfferItem],
    event: Event,
    *,
    at: datetime,
    offer: TransferOffer,
    actor_user_id: int,
) -> list[OfferItem]:
    """``change_status`` of each item of one offer by one actor, stored in a fixed number
    of statements however many there are: all or, for the first loser, the same refusal."""
    changed: list[OfferItem] = []
    by_status: dict[ItemStatus, list[OfferItem]] = {}
    for item in items:
        to = next_status(displayed_status(item, offer, at), event, code=item.code, name=item.name)
        changed.append(attrs.evolve(item, status=to, status_changed_at=at))
        by_status.setdefault(to, []).append(item)
    won: set[int] = set()
    for to, group in by_status.items():
        won.update(
            uow.items.compare_and_set_many(
                group, to, event=event, at=at, actor_user_id=actor_user_id
            )
        )
    lost = next((item for item in items if item.id not in won), None)
    if lost is not None:
        actual = _load.item(uow, lost.id).status
        raise lost_race(actual, event, code=lost.code, name=lost.name)
    return changed
