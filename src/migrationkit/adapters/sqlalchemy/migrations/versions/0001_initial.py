"""The initial schema: every table of migrationkit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here, not imported from tables.py: a migration is a snapshot of its time.
UTC_DATETIME = sa.DateTime(timezone=True)
UNFINISHED = sa.text("finished_at IS NULL")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("has_subscription", sa.Boolean(), nullable=False),
        sa.Column("archive_store", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environments")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"])

    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_connections_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
    )
    op.create_index(op.f("ix_connections_environment_id"), "connections", ["environment_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_users_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
    )
    op.create_index(op.f("ix_users_environment_id"), "users", ["environment_id"])

    op.create_table(
        "administrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("package_admin_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_administrations_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_administrations_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_administrations")),
        sa.UniqueConstraint(
            "connection_id",
            "package_admin_id",
            name=op.f("uq_administrations_connection_id_package_admin_id"),
        ),
        sa.UniqueConstraint(
            "environment_id",
            "code",
            "name",
            name=op.f("uq_administrations_environment_id_code_name"),
        ),
    )
    op.create_table(
        "redeem_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_redeem_failures_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_redeem_failures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redeem_failures")),
    )
    op.create_index(
        op.f("ix_redeem_failures_environment_id_at"), "redeem_failures", ["environment_id", "at"]
    )
    op.create_index(op.f("ix_redeem_failures_user_id_at"), "redeem_failures", ["user_id", "at"])

    op.create_table(
        "transfer_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_environment_id", sa.Integer(), nullable=False),
        sa.Column("source_connection_id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=40), nullable=False),
        sa.Column("sender_user_id", sa.Integer(), nullable=False),
        sa.Column("sender_email", sa.String(length=254), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("code_hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("reminder_sent_at", UTC_DATETIME, nullable=True),
        sa.Column("target_environment_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["redeemed_by_user_id"],
            ["users.id"],
            name=op.f("fk_transfer_offers_redeemed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"], ["users.id"], name=op.f("fk_transfer_offers_sender_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["source_connection_id"],
            ["connections.id"],
            name=op.f("fk_transfer_offers_source_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["source_environment_id"],
            ["environments.id"],
            name=op.f("fk_transfer_offers_source_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["target_environment_id"],
            ["environments.id"],
            name=op.f("fk_transfer_offers_target_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_offers")),
    )
    op.create_index(
        op.f("ix_transfer_offers_code_digest"), "transfer_offers", ["code_digest"], unique=True
    )
    op.create_index(
        op.f("ix_transfer_offers_source_environment_id"),
        "transfer_offers",
        ["source_environment_id"],
    )
    op.create_index(
        op.f("ix_transfer_offers_target_environment_id"),
        "transfer_offers",
        ["target_environment_id"],
    )

    op.create_table(
        "access_grants",
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_access_grants_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("administration_id", "user_id", name=op.f("pk_access_grants")),
    )
    op.create_table(
        "authorization_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_authorization_flows_administration_id_administrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_flows")),
    )
    op.create_index(
        op.f("ix_authorization_flows_administration_id"),
        "authorization_flows",
        ["administration_id"],
    )

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("archive_store", sa.String(length=200), nullable=False),
        sa.Column("blob_key", sa.String(length=500), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_documents_administration_id_administrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_administration_id"), "documents", ["administration_id"])

    op.create_table(
        "offer_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("status_changed_at", UTC_DATETIME, nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_offer_items_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["transfer_offers.id"],
            name=op.f("fk_offer_items_offer_id_transfer_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_items")),
    )
    op.create_index(op.f("ix_offer_items_administration_id"), "offer_items", ["administration_id"])
    op.create_index(op.f("ix_offer_items_offer_id"), "offer_items", ["offer_id"])
    op.create_index(op.f("ix_offer_items_status"), "offer_items", ["status"])

    op.create_table(
        "authorization_flow_authorizers",
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["authorization_flows.id"],
            name=op.f("fk_authorization_flow_authorizers_flow_id_authorization_flows"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_authorization_flow_authorizers_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "flow_id", "user_id", name=op.f("pk_authorization_flow_authorizers")
        ),
    )
    op.create_table(
        "migrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("target_environment_id", sa.Integer(), nullable=False),
        sa.Column("target_connection_id", sa.Integer(), nullable=False),
        sa.Column("target_package_admin_id", sa.String(length=200), nullable=False),
        sa.Column("target_code", sa.String(length=200), nullable=False),
        sa.Column("target_name", sa.String(length=200), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("documents_total", sa.BigInteger(), nullable=False),
        sa.Column("documents_done", sa.BigInteger(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("lease_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_migrations_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["offer_items.id"], name=op.f("fk_migrations_item_id_offer_items")
        ),
        sa.ForeignKeyConstraint(
            ["target_connection_id"],
            ["connections.id"],
            name=op.f("fk_migrations_target_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["target_environment_id"],
            ["environments.id"],
            name=op.f("fk_migrations_target_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migrations")),
        sa.UniqueConstraint("item_id", name=op.f("uq_migrations_item_id")),
    )
    op.create_index(op.f("ix_migrations_administration_id"), "migrations", ["administration_id"])
    op.create_index(
        "ux_migrations_open_target_code_name",
        "migrations",
        ["target_environment_id", "target_code", "target_name"],
        unique=True,
        sqlite_where=UNFINISHED,
        postgresql_where=UNFINISHED,
    )
    op.create_index(
        "ux_migrations_open_target_package_admin",
        "migrations",
        ["target_connection_id", "target_package_admin_id"],
        unique=True,
        sqlite_where=UNFINISHED,
        postgresql_where=UNFINISHED,
    )

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_status_changes_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["offer_items.id"], name=op.f("fk_status_changes_item_id_offer_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_item_id"), "status_changes", ["item_id"])

    op.create_table(
        "charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("administration_id", sa.Integer(), nullable=False),
        sa.Column("charged_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_charges_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_charges_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migrations.id"], name=op.f("fk_charges_migration_id_migrations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("migration_id", name=op.f("uq_charges_migration_id")),
    )
    op.create_index(op.f("ix_charges_environment_id"), "charges", ["environment_id"])


def downgrade() -> None:
    op.drop_table("charges")
    op.drop_table("status_changes")
    op.drop_table("migrations")
    op.drop_table("authorization_flow_authorizers")
    op.drop_table("offer_items")
    op.drop_table("documents")
    op.drop_table("authorization_flows")
    op.drop_table("access_grants")
    op.drop_table("transfer_offers")
    op.drop_table("redeem_failures")
    op.drop_table("administrations")
    op.drop_table("users")
    op.drop_table("connections")
    op.drop_table("outbox")
    op.drop_table("environments")
