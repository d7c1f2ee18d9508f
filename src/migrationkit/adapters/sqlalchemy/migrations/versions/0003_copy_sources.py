"""The engine's copies keep where their bytes came from; documents are found by page and by
blob.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No copy was recorded before this revision, so the new columns need no default.
    with op.batch_alter_table("document_copies") as batch:
        batch.add_column(sa.Column("source_store", sa.String(length=200), nullable=False))
        batch.add_column(sa.Column("source_key", sa.String(length=500), nullable=False))
    op.drop_index(op.f("ix_documents_administration_id"), table_name="documents")
    op.create_index(
        op.f("ix_documents_administration_id_id"), "documents", ["administration_id", "id"]
    )
    op.create_index(
        op.f("ix_documents_archive_store_blob_key"), "documents", ["archive_store", "blob_key"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_archive_store_blob_key"), table_name="documents")
    op.drop_index(op.f("ix_documents_administration_id_id"), table_name="documents")
    op.create_index(op.f("ix_documents_administration_id"), "documents", ["administration_id"])
    with op.batch_alter_table("document_copies") as batch:
        batch.drop_column("source_key")
        batch.drop_column("source_store")
