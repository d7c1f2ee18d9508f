"""The engine's checkpoints and redirects, and the connectors' tokens.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_DATETIME = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_copies",
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("archive_store", sa.String(length=200), nullable=False),
        sa.Column("blob_key", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("copied_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_copies_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["migrations.id"],
            name=op.f("fk_document_copies_migration_id_migrations"),
        ),
        sa.PrimaryKeyConstraint("migration_id", "document_id", name=op.f("pk_document_copies")),
    )
    op.create_table(
        "document_redirects",
        sa.Column("old_address", sa.String(length=500), nullable=False),
        sa.Column("new_address", sa.String(length=500), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_redirects_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["migrations.id"],
            name=op.f("fk_document_redirects_migration_id_migrations"),
        ),
        sa.PrimaryKeyConstraint("old_address", name=op.f("pk_document_redirects")),
    )
    op.create_index(
        op.f("ix_document_redirects_migration_id"), "document_redirects", ["migration_id"]
    )
    op.create_table(
        "connector_tokens",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_connector_tokens_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connector_tokens")),
    )


def downgrade() -> None:
    op.drop_table("connector_tokens")
    op.drop_index(op.f("ix_document_redirects_migration_id"), table_name="document_redirects")
    op.drop_table("document_redirects")
    op.drop_table("document_copies")
