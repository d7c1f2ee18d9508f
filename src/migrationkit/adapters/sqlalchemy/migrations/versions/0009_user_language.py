"""A user's chosen language, so that their e-mails are written in it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, which SQLite does in place: a batch would copy the users table,
    # and dropping the old one breaks the foreign keys that point at it.
    op.add_column("users", sa.Column("language", sa.String(2)))


def downgrade() -> None:
    op.drop_column("users", "language")
