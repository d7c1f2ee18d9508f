"""The overviews at office scale: each item keeps the texts the overviews' search looks in,
folded (``domain.overviews``), and the offers are indexed for reading an environment's
newest first. On PostgreSQL a trigram index (the ``pg_trgm`` extension, which a database
owner may create since PostgreSQL 13) serves "each word anywhere"; SQLite reads the
environment's rows with LIKE, which its index on the offers narrows first.

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
            *TEXTS,
        )
    ),
    sa.column("status_changed_at", sa.DateTime()),
)
_environments = sa.table("environments", sa.column("id"), sa.column("name"))


def upgrade() -> None:
    for name in TEXTS:
        # A plain ADD COLUMN, which SQLite does in place (a batch would copy the table).
        op.add_column("offer_items", sa.Column(name, sa.Text(), nullable=False, server_default=""))
    _fill_texts()
    for direction in ("source", "target"):
        op.drop_index(f"ix_transfer_offers_{direction}_environment_id", "transfer_offers")
        op.create_index(
            f"ix_transfer_offers_{direction}_environment_id_created_at",
            "transfer_offers",
            [f"{direction}_environment_id", "created_at"],
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
    for direction in ("source", "target"):
        op.drop_index(
            f"ix_transfer_offers_{direction}_environment_id_created_at", "transfer_offers"
        )
        op.create_index(
            f"ix_transfer_offers_{direction}_environment_id",
            "transfer_offers",
            [f"{direction}_environment_id"],
        )
    for name in TEXTS:
        op.drop_column("offer_items", name)


def _fill_texts() -> None:
    """The texts of the items offered before this revision."""
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
                "outgoing": outgoing_text(offer, item),
                "incoming": incoming_text(offer, item, row.source_environment_name),
            }
        )
    if updates:
        bind.execute(
            sa.update(_items)
            .where(_items.c.id == sa.bindparam("item_id"))
            .values(outgoing_text=sa.bindparam("outgoing"), incoming_text=sa.bindparam("incoming")),
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
