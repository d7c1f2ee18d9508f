"""Transfer offers, their items with the status-change log, and refused redemptions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import attrs

from migrationkit import ports
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Environment,
    ItemStatus,
    OfferItem,
    TransferOffer,
)
from migrationkit.domain.overviews import found, incoming_text, outgoing_text
from migrationkit.domain.rules import displayed_status
from migrationkit.ports import OFFER_EVENT, OverviewEntry, OverviewQuery, StatusChange
from migrationkit.testing._repositories._base import _existing, _Repository
from migrationkit.testing._repositories.tables import (
    ADMINISTRATIONS,
    CONNECTIONS,
    ENVIRONMENTS,
    ITEMS,
    OFFERS,
    REDEEM_FAILURES,
    STATUS_CHANGES,
    USERS,
    _RedeemFailure,
)


class InMemoryOfferRepository(_Repository, ports.OfferRepository):
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
        tx = self._tx
        _existing(tx, ENVIRONMENTS, source_environment_id, "unknown_environment")
        _existing(tx, CONNECTIONS, source_connection_id, "unknown_connection")
        _existing(tx, USERS, sender_user_id, "unknown_user")
        offer = TransferOffer(
            id=tx.next_id(OFFERS.name),
            source_environment_id=source_environment_id,
            source_connection_id=source_connection_id,
            package=package,
            sender_user_id=sender_user_id,
            sender_email=sender_email,
            recipients=tuple(recipients),
            code_digest=code_digest,
            code_hint=code_hint,
            created_at=created_at,
            expires_at=expires_at,
        )
        OFFERS.put(tx, offer.id, offer)
        return offer

    def get(self, offer_id: int) -> TransferOffer | None:
        return OFFERS.get(self._tx, offer_id)

    def find_by_digest(self, code_digest: str) -> TransferOffer | None:
        return next((o for o in OFFERS.rows(self._tx) if o.code_digest == code_digest), None)

    def replace_code(
        self, offer_id: int, *, code_digest: str, code_hint: str, expires_at: datetime
    ) -> None:
        # A new code has a new expiry, so its reminder is still to be sent.
        self._change(
            offer_id,
            code_digest=code_digest,
            code_hint=code_hint,
            expires_at=expires_at,
            reminder_sent_at=None,
        )

    def bind_target(
        self, offer_id: int, *, environment_id: int, user_id: int, at: datetime
    ) -> bool:
        offer = self._offer(offer_id)
        if offer.target_environment_id is not None:
            return offer.target_environment_id == environment_id
        self._change(
            offer_id,
            target_environment_id=environment_id,
            redeemed_by_user_id=user_id,
            redeemed_at=at,
        )
        return True

    def mark_reminded(self, offer_id: int, at: datetime) -> None:
        self._change(offer_id, reminder_sent_at=at)

    def list_with_offered_items(self) -> Sequence[TransferOffer]:
        """Ordered by id."""
        tx = self._tx
        offered = {i.offer_id for i in ITEMS.rows(tx) if i.status is ItemStatus.OFFERED}
        return [o for o in OFFERS.rows(tx) if o.id in offered]

    def _offer(self, offer_id: int) -> TransferOffer:
        offer: TransferOffer = _existing(self._tx, OFFERS, offer_id, "unknown_offer")
        return offer

    def _change(self, offer_id: int, **changes: Any) -> None:
        OFFERS.put(self._tx, offer_id, attrs.evolve(self._offer(offer_id), **changes))


class InMemoryOfferItemRepository(_Repository, ports.OfferItemRepository):
    def add(self, offer_id: int, administration: Administration, at: datetime) -> OfferItem:
        """Logs the offer as the item's first status change, by the sender."""
        tx = self._tx
        offer: TransferOffer = _existing(tx, OFFERS, offer_id, "unknown_offer")
        _existing(tx, ADMINISTRATIONS, administration.id, "unknown_administration")
        item = OfferItem(
            id=tx.next_id(ITEMS.name),
            offer_id=offer_id,
            administration_id=administration.id,
            code=administration.code,
            name=administration.name,
            email=administration.email,
            status=ItemStatus.OFFERED,
            status_changed_at=at,
        )
        ITEMS.put(tx, item.id, item)
        self._log(item.id, None, ItemStatus.OFFERED, OFFER_EVENT, offer.sender_user_id, at)
        return item

    def add_many(
        self, offer_id: int, administrations: Sequence[Administration], at: datetime
    ) -> Sequence[OfferItem]:
        return [self.add(offer_id, administration, at) for administration in administrations]

    def get(self, item_id: int) -> OfferItem | None:
        return ITEMS.get(self._tx, item_id)

    def list_for_offer(self, offer_id: int) -> Sequence[OfferItem]:
        return [i for i in ITEMS.rows(self._tx) if i.offer_id == offer_id]

    def list_open_for_administration(self, administration_id: int) -> Sequence[OfferItem]:
        """Ordered by id."""
        return self.list_open_for_administrations([administration_id])

    def list_open_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[OfferItem]:
        """Ordered by id."""
        wanted = set(administration_ids)
        return [
            i for i in ITEMS.rows(self._tx) if i.administration_id in wanted and i.status.is_open
        ]

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
        tx = self._tx
        stored = ITEMS.get(tx, item.id)
        if stored is None or stored.status is not item.status:
            return False
        changed = attrs.evolve(
            stored,
            status=to,
            status_changed_at=at,
            rejection_reason=rejection_reason,
        )
        ITEMS.put(tx, item.id, changed)
        self._log(item.id, stored.status, to, event.value, actor_user_id, at)
        return True

    def compare_and_set_many(
        self,
        items: Sequence[OfferItem],
        to: ItemStatus,
        *,
        event: Event,
        at: datetime,
        actor_user_id: int | None = None,
    ) -> Collection[int]:
        return {
            item.id
            for item in items
            if self.compare_and_set(item, to, event=event, at=at, actor_user_id=actor_user_id)
        }

    def status_changes(self, item_id: int) -> Sequence[StatusChange]:
        return [c for c in STATUS_CHANGES.rows(self._tx) if c.item_id == item_id]

    def outgoing_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        return self._page(
            lambda offer: offer.source_environment_id == environment_id,
            lambda entry: outgoing_text(entry.offer, entry.item),
            query,
        )

    def incoming_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        return self._page(
            lambda offer: offer.target_environment_id == environment_id,
            lambda entry: incoming_text(entry.offer, entry.item, entry.source_environment_name),
            query,
        )

    def _page(
        self,
        side: Callable[[TransferOffer], bool],
        text: Callable[[OverviewEntry], str],
        query: OverviewQuery,
    ) -> Sequence[OverviewEntry]:
        """As the database's page: the texts written as the SQL repository writes them."""
        tx = self._tx
        offers = {o.id: o for o in OFFERS.rows(tx) if side(o)}
        cursor = query.cursor
        chosen = []
        for item in ITEMS.rows(tx):
            offer = offers.get(item.offer_id)
            if offer is None:
                continue
            source: Environment = _existing(
                tx, ENVIRONMENTS, offer.source_environment_id, "unknown_environment"
            )
            entry = OverviewEntry(item, offer, source.name)
            shown = displayed_status(item, offer, query.now)
            if (
                found(text(entry), shown, query.words)
                and (query.statuses is None or shown in query.statuses)
                and (cursor is None or cursor.before(offer.created_at, item.id))
            ):
                chosen.append(entry)
        chosen.sort(
            key=lambda entry: (entry.offer.created_at, entry.item.id),
            reverse=cursor is None or not cursor.newer,
        )
        return chosen[: query.limit]

    def _log(
        self,
        item_id: int,
        from_status: ItemStatus | None,
        to_status: ItemStatus,
        event: str,
        actor_user_id: int | None,
        at: datetime,
    ) -> None:
        tx = self._tx
        change = StatusChange(
            item_id=item_id,
            from_status=from_status,
            to_status=to_status,
            event=event,
            actor_user_id=actor_user_id,
            at=at,
        )
        STATUS_CHANGES.put(tx, tx.next_id(STATUS_CHANGES.name), change)


class InMemoryRedeemAttemptRepository(_Repository, ports.RedeemAttemptRepository):
    def add_failure(self, *, user_id: int, environment_id: int, at: datetime) -> None:
        tx = self._tx
        failure = _RedeemFailure(user_id=user_id, environment_id=environment_id, at=at)
        REDEEM_FAILURES.put(tx, tx.next_id(REDEEM_FAILURES.name), failure)

    def failures_for_user(self, user_id: int, since: datetime) -> Sequence[datetime]:
        """Oldest first."""
        return sorted(f.at for f in self._failures(since) if f.user_id == user_id)

    def failures_for_environment(self, environment_id: int, since: datetime) -> Sequence[datetime]:
        """Oldest first."""
        return sorted(f.at for f in self._failures(since) if f.environment_id == environment_id)

    def _failures(self, since: datetime) -> list[_RedeemFailure]:
        return [f for f in REDEEM_FAILURES.rows(self._tx) if f.at >= since]
