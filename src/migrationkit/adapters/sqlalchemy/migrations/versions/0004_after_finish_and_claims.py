"""A migration records its steps after the finish and the error behind its failure; an
outbox message records the dispatcher's claim.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_DATETIME = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("migrations") as batch:
        batch.add_column(sa.Column("failure_code", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("failure_params", sa.Text(), nullable=True))
        batch.add_column(sa.Column("links_rewritten_at", UTC_DATETIME, nullable=True))
        batch.add_column(
            sa.Column("links_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("source_released_at", UTC_DATETIME, nullable=True))
    # Before this revision the steps after a finish ran right after it: they are done.
    migrations = sa.table(
        "migrations",
        sa.column("finished_at", UTC_DATETIME),
        sa.column("links_rewritten_at", UTC_DATETIME),
        sa.column("source_released_at", UTC_DATETIME),
    )
    op.execute(
        migrations.update()
        .where(migrations.c.finished_at.is_not(None))
        .values(
            links_rewritten_at=migrations.c.finished_at,
            source_released_at=migrations.c.finished_at,
        )
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_until", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_until")
    with op.batch_alter_table("migrations") as batch:
        batch.drop_column("source_released_at")
        batch.drop_column("links_attempts")
        batch.drop_column("links_rewritten_at")
        batch.drop_column("failure_params")
        batch.drop_column("failure_code")
