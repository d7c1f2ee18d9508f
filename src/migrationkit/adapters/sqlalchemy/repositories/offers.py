"""Transfer offers, their items with the status-change log, and refused redemptions."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _escape_like, _Repository
from migrationkit.adapters.sqlalchemy.tables import (
    environments,
    offer_items,
    redeem_failures,
    status_changes,
    transfer_offers,
)
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    OPEN_STATUSES,
    AccountingPackage,
    Administration,
    ItemStatus,
    OfferItem,
    TransferOffer,
)
from migrationkit.domain.overviews import Cursor, incoming_text, outgoing_text
from migrationkit.ports import OFFER_EVENT, OverviewEntry, OverviewQuery, StatusChange
from migrationkit.serialization import from_json, to_json


def offer_from_row(row: Mapping[Any, Any]) -> TransferOffer:
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


def item_from_row(row: Mapping[Any, Any]) -> OfferItem:
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


class SqlAlchemyOfferRepository(_Repository, ports.OfferRepository):
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
        # The overview shows the new expiry and the new code's last group.
        _copy_offer(self._connection, offer_items.c.offer_id == offer_id)

    def bind_target(
        self, offer_id: int, *, environment_id: int, user_id: int, at: datetime
    ) -> bool:
        column = transfer_offers.c
        bound = self._connection.execute(
            select(column.target_environment_id).where(column.id == offer_id)
        ).scalar_one_or_none()
        if bound == environment_id:
            # Redeemed by this environment before: nothing changes, so nothing is written
            # (or locked: a redeem again must not wait on a start of the same items).
            return True
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
        if result.rowcount != 1:
            return False
        _copy_offer(self._connection, offer_items.c.offer_id == offer_id)
        return True

    def mark_reminded(self, offer_id: int, at: datetime) -> None:
        self._update(offer_id, reminder_sent_at=at)

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

    def _update(self, offer_id: int, **values: object) -> None:
        self._connection.execute(
            update(transfer_offers).where(transfer_offers.c.id == offer_id).values(**values)
        )


class SqlAlchemyOfferItemRepository(_Repository, ports.OfferItemRepository):
    def add(self, offer_id: int, administration: Administration, at: datetime) -> OfferItem:
        (item,) = self.add_many(offer_id, [administration], at)
        return item

    def add_many(
        self, offer_id: int, administrations: Sequence[Administration], at: datetime
    ) -> Sequence[OfferItem]:
        if not administrations:
            return []
        # RETURNING in the parameters' order would cost SQLite a statement per row: the
        # rows are put in order here, by their administration (once in an offer, R3).
        rows = (
            self._connection.execute(
                insert(offer_items).returning(*offer_items.c),
                [
                    {
                        "offer_id": offer_id,
                        "administration_id": administration.id,
                        "code": administration.code,
                        "name": administration.name,
                        "email": administration.email,
                        "status": ItemStatus.OFFERED.value,
                        "status_changed_at": at,
                    }
                    for administration in administrations
                ],
            )
            .mappings()
            .all()
        )
        # The offer is each item's first change, made by the offer's sender.
        sender = self._connection.execute(
            select(transfer_offers.c.sender_user_id).where(transfer_offers.c.id == offer_id)
        ).scalar_one()
        self._connection.execute(
            insert(status_changes),
            [
                {
                    "item_id": row["id"],
                    "from_status": None,
                    "to_status": ItemStatus.OFFERED.value,
                    "event": OFFER_EVENT,
                    "actor_user_id": sender,
                    "at": at,
                }
                for row in rows
            ],
        )
        _copy_offer(self._connection, offer_items.c.id.in_([row["id"] for row in rows]))
        by_administration = {row["administration_id"]: item_from_row(row) for row in rows}
        return [by_administration[administration.id] for administration in administrations]

    def get(self, item_id: int) -> OfferItem | None:
        row = self._one(select(offer_items).where(offer_items.c.id == item_id))
        return None if row is None else item_from_row(row)

    def list_for_offer(self, offer_id: int) -> Sequence[OfferItem]:
        return self._list(offer_items.c.offer_id == offer_id)

    def list_open_for_administration(self, administration_id: int) -> Sequence[OfferItem]:
        return self.list_open_for_administrations([administration_id])

    def list_open_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[OfferItem]:
        return self._list(
            offer_items.c.administration_id.in_(list(administration_ids)),
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
        return item.id in self._compare_and_set(
            [item], to, event=event, at=at, actor_user_id=actor_user_id, reason=rejection_reason
        )

    def compare_and_set_many(
        self,
        items: Sequence[OfferItem],
        to: ItemStatus,
        *,
        event: Event,
        at: datetime,
        actor_user_id: int | None = None,
    ) -> Collection[int]:
        return self._compare_and_set(items, to, event=event, at=at, actor_user_id=actor_user_id)

    def _compare_and_set(
        self,
        items: Sequence[OfferItem],
        to: ItemStatus,
        *,
        event: Event,
        at: datetime,
        actor_user_id: int | None,
        reason: str | None = None,
    ) -> set[int]:
        """One UPDATE per status the items are seen in (one, as a rule), one INSERT of the
        log's rows."""
        seen = {item.id: item.status for item in items}
        won: set[int] = set()
        for status in set(seen.values()):
            ids = [item_id for item_id, its in seen.items() if its is status]
            result = self._connection.execute(
                update(offer_items)
                .where(offer_items.c.id.in_(ids), offer_items.c.status == status.value)
                .values(status=to.value, status_changed_at=at, rejection_reason=reason)
                .returning(offer_items.c.id)
            )
            won.update(result.scalars())
        if won:
            self._connection.execute(
                insert(status_changes),
                [
                    {
                        "item_id": item_id,
                        "from_status": seen[item_id].value,
                        "to_status": to.value,
                        "event": event.value,
                        "actor_user_id": actor_user_id,
                        "at": at,
                    }
                    for item_id in sorted(won)
                ],
            )
            reasons = [
                item.id for item in items if item.id in won and item.rejection_reason != reason
            ]
            if reasons:  # the sender's overview shows the reason, and finds it
                _copy_offer(self._connection, offer_items.c.id.in_(reasons))
        return won

    def status_changes(self, item_id: int) -> Sequence[StatusChange]:
        statement = (
            select(status_changes)
            .where(status_changes.c.item_id == item_id)
            .order_by(status_changes.c.id)
        )
        return [status_change_from_row(row) for row in self._all(statement)]

    def outgoing_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        return self._page(
            offer_items.c.source_environment_id == environment_id,
            offer_items.c.outgoing_text,
            query,
        )

    def incoming_page(self, environment_id: int, query: OverviewQuery) -> Sequence[OverviewEntry]:
        return self._page(
            offer_items.c.target_environment_id == environment_id,
            offer_items.c.incoming_text,
            query,
        )

    def _page(
        self, side: ColumnElement[bool], text: ColumnElement[str], query: OverviewQuery
    ) -> Sequence[OverviewEntry]:
        """One statement, one walk down the index (environment, offered at, id) from the
        cursor, newest first (oldest first towards newer rows), until the page is full; the
        words narrow by the items' folded text (a trigram index on PostgreSQL)."""
        offered_at, item_id = offer_items.c.offered_at, offer_items.c.id
        statement = _joined().where(side)
        for word in query.words:
            pattern = "%" + _escape_like(word.text) + "%"
            statement = statement.where(
                or_(
                    text.like(pattern, escape="\\"),
                    *(_shows(status, query.now) for status in sorted(word.statuses, key=_key)),
                )
            )
        if query.statuses is not None:
            statement = statement.where(
                or_(false(), *(_shows(s, query.now) for s in sorted(query.statuses, key=_key)))
            )
        cursor = query.cursor
        if cursor is None or not cursor.newer:
            order = (offered_at.desc(), item_id.desc())
        else:
            order = (offered_at.asc(), item_id.asc())
        if cursor is not None:
            statement = statement.where(_beyond(cursor))
        statement = statement.order_by(*order).limit(query.limit)
        return [_entry_from_row(row) for row in self._all(statement)]

    def _list(self, *where: ColumnElement[bool]) -> Sequence[OfferItem]:
        statement = select(offer_items).where(*where).order_by(offer_items.c.id)
        return [item_from_row(row) for row in self._all(statement)]


def _key(status: ItemStatus) -> str:
    return status.value


def _shows(status: ItemStatus, now: datetime) -> ColumnElement[bool]:
    """The item's row shows ``status`` at ``now``: an open item whose code expired reads
    Verlopen (R6, ``displayed_status``)."""
    column = offer_items.c.status
    expired = offer_items.c.expires_at <= literal(now, offer_items.c.expires_at.type)
    recorded: ColumnElement[bool] = column == status.value
    if status is ItemStatus.OFFERED:
        return and_(recorded, ~expired)
    if status is ItemStatus.EXPIRED:
        return or_(recorded, and_(column == ItemStatus.OFFERED.value, expired))
    return recorded


def _beyond(cursor: Cursor) -> ColumnElement[bool]:
    """The rows on the cursor's side of it, in the order (offered at, item id): a row
    value, which both databases seek in the index."""
    place = tuple_(offer_items.c.offered_at, offer_items.c.id)
    mark = tuple_(literal(cursor.offered_at, offer_items.c.offered_at.type), cursor.item_id)
    return place > mark if cursor.newer else place < mark


def _joined() -> Select[Any]:
    """Items with their offer (its columns named ``offer_*``) and the name of the
    environment the offer came from."""
    return (
        select(
            *offer_items.c,
            *(c.label(f"offer_{c.name}") for c in transfer_offers.c if c.name != "id"),
            environments.c.name.label("source_environment_name"),
        )
        .join(transfer_offers, transfer_offers.c.id == offer_items.c.offer_id)
        .join(environments, environments.c.id == transfer_offers.c.source_environment_id)
    )


def _entry_from_row(row: RowMapping) -> OverviewEntry:
    offer = offer_from_row(
        {"id": row["offer_id"]}
        | {c.name: row[f"offer_{c.name}"] for c in transfer_offers.c if c.name != "id"}
    )
    return OverviewEntry(item_from_row(row), offer, row["source_environment_name"])


def _copy_offer(connection: Connection, which: ColumnElement[bool]) -> None:
    """Writes what the items ``which`` names keep of their offers for the overviews (see
    ``tables.offer_items``), from what they and their offers hold now: once per offered
    item, and again when the offer or what the lists show changes."""
    copies = [
        {
            "item_id": entry.item.id,
            "source": entry.offer.source_environment_id,
            "target": entry.offer.target_environment_id,
            "offered": entry.offer.created_at,
            "expires": entry.offer.expires_at,
            "outgoing": outgoing_text(entry.offer, entry.item),
            "incoming": incoming_text(entry.offer, entry.item, entry.source_environment_name),
        }
        for entry in map(_entry_from_row, connection.execute(_joined().where(which)).mappings())
    ]
    if copies:
        moment = offer_items.c.offered_at.type
        connection.execute(
            update(offer_items)
            .where(offer_items.c.id == bindparam("item_id"))
            .values(
                source_environment_id=bindparam("source"),
                target_environment_id=bindparam("target"),
                offered_at=bindparam("offered", type_=moment),
                expires_at=bindparam("expires", type_=moment),
                outgoing_text=bindparam("outgoing"),
                incoming_text=bindparam("incoming"),
            ),
            copies,
        )


class SqlAlchemyRedeemAttemptRepository(_Repository, ports.RedeemAttemptRepository):
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
