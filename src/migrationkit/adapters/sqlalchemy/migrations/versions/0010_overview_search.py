"""The overviews at office scale: each item keeps what the overviews read of its offer (its
environments, moment and expiry) and the texts their search looks in, folded
(``domain.overviews``), so that a page is one walk down one index, newest first. On
PostgreSQL a trigram index (the ``pg_trgm`` extension, which a database owner may create
since PostgreSQL 13) serves "each word anywhere"; SQLite reads the environment's rows down
its index with LIKE.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from migrationkit.domain.dates import utc
from migrationkit.domain.model import AccountingPackage, ItemStatus, OfferItem, TransferOffer
from migrationkit.domain.overviews import incoming_text, outgoing_text

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = ("outgoing_text", "incoming_text")
# Written out here, not imported from tables.py: a migration is a snapshot of its time.
# SQLite keeps the moments as naive UTC, which this type writes from an aware UTC value.
UTC_DATETIME = sa.DateTime(timezone=True)

# The tables as this revision knows them, whatever later revisions add.
_offers = sa.table(
    "transfer_offers",
    *(
        sa.column(name)
        for name in (
            "id",
            "source_environment_id",
            "source_connection_id",
            "package",
            "sender_user_id",
            "sender_email",
            "recipients",
            "code_digest",
            "code_hint",
            "target_environment_id",
        )
    ),
    *(sa.column(name, sa.DateTime()) for name in ("created_at", "expires_at")),
)
_items = sa.table(
    "offer_items",
    *(
        sa.column(name)
        for name in (
            "id",
            "offer_id",
            "administration_id",
            "code",
            "name",
            "email",
            "status",
            "rejection_reason",
            "source_environment_id",
            "target_environment_id",
            "offered_at",
            "expires_at",
            *TEXTS,
        )
    ),
    sa.column("status_changed_at", sa.DateTime()),
)
_environments = sa.table("environments", sa.column("id"), sa.column("name"))


#: What each item keeps of its offer for the overviews.
COPIES: dict[str, sa.types.TypeEngine[Any]] = {
    "source_environment_id": sa.Integer(),
    "target_environment_id": sa.Integer(),
    "offered_at": UTC_DATETIME,
    "expires_at": UTC_DATETIME,
}
#: The indexes a page walks down, newest first.
WALKS = ("source_environment_id", "target_environment_id")


def upgrade() -> None:
    # Plain ADD COLUMNs, which SQLite does in place (a batch would copy the table, and
    # dropping the old one breaks the foreign keys that point at it).
    for name, kind in COPIES.items():
        op.add_column("offer_items", sa.Column(name, kind))
    for name in TEXTS:
        op.add_column("offer_items", sa.Column(name, sa.Text(), nullable=False, server_default=""))
    _fill()
    for side in WALKS:
        op.create_index(
            f"ix_offer_items_{side}_offered_at_id", "offer_items", [side, "offered_at", "id"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name in TEXTS:
            op.create_index(
                f"ix_offer_items_{name}_trigram",
                "offer_items",
                [name],
                postgresql_using="gin",
                postgresql_ops={name: "gin_trgm_ops"},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TEXTS:
            op.drop_index(f"ix_offer_items_{name}_trigram", "offer_items")
    for side in WALKS:
        op.drop_index(f"ix_offer_items_{side}_offered_at_id", "offer_items")
    for name in (*TEXTS, *COPIES):
        op.drop_column("offer_items", name)


def _fill() -> None:
    """What the items offered before this revision keep of their offers."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            *_items.c,
            *(c.label(f"offer_{c.name}") for c in _offers.c if c.name != "id"),
            _environments.c.name.label("source_environment_name"),
        )
        .join(_offers, _offers.c.id == _items.c.offer_id)
        .join(_environments, _environments.c.id == _offers.c.source_environment_id)
    ).all()
    updates = []
    for row in rows:
        offer, item = _offer(row), _item(row)
        updates.append(
            {
                "item_id": item.id,
                "source": offer.source_environment_id,
                "target": row.offer_target_environment_id,
                "offered": offer.created_at,
                "expires": offer.expires_at,
                "outgoing": outgoing_text(offer, item),
                "incoming": incoming_text(offer, item, row.source_environment_name),
            }
        )
    if updates:
        bind.execute(
            sa.update(_items)
            .where(_items.c.id == sa.bindparam("item_id"))
            .values(
                source_environment_id=sa.bindparam("source"),
                target_environment_id=sa.bindparam("target"),
                offered_at=sa.bindparam("offered", type_=UTC_DATETIME),
                expires_at=sa.bindparam("expires", type_=UTC_DATETIME),
                outgoing_text=sa.bindparam("outgoing"),
                incoming_text=sa.bindparam("incoming"),
            ),
            updates,
        )


def _offer(row: Any) -> TransferOffer:
    return TransferOffer(
        id=row.offer_id,
        source_environment_id=row.offer_source_environment_id,
        source_connection_id=row.offer_source_connection_id,
        package=AccountingPackage(row.offer_package),
        sender_user_id=row.offer_sender_user_id,
        sender_email=row.offer_sender_email,
        recipients=tuple(json.loads(row.offer_recipients)),
        code_digest=row.offer_code_digest,
        code_hint=row.offer_code_hint,
        created_at=utc(row.offer_created_at),
        expires_at=utc(row.offer_expires_at),
    )


def _item(row: Any) -> OfferItem:
    return OfferItem(
        id=row.id,
        offer_id=row.offer_id,
        administration_id=row.administration_id,
        code=row.code,
        name=row.name,
        email=row.email,
        status=ItemStatus(row.status),
        status_changed_at=utc(row.status_changed_at),
        rejection_reason=row.rejection_reason,
    )
