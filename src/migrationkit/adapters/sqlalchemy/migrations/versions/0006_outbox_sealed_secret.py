"""An unsent e-mail's secret (a transfer code) is sealed in a column of its own, no longer
in plain text in the e-mail's JSON.

Rows written before this revision keep their secret where it was until they are sent: the
migration has no key to seal it with. A downgrade drops the sealed secrets: unsent e-mails
then go out saying that the code is no longer kept.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sealed_secret", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sealed_secret")
