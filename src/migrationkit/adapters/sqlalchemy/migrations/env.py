"""Alembic's environment for migrationkit's schema.

It runs on the connection that ``database.alembic_config`` hands over; there is no
alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE
from migrationkit.adapters.sqlalchemy.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrationkit's migrations through migrationkit.adapters.sqlalchemy.upgrade()"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite can alter a table only by copying it: let later migrations do so.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
