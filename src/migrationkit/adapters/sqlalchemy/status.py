"""The database's part of ``migrationkit status`` (``StatusReader``), and the check that a
command makes before it starts: is the database there, does it answer, is its schema at the
newest revision (``check_database``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import attrs
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, column, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE, alembic_config
from migrationkit.adapters.sqlalchemy.tables import UtcDateTime, migrations, offer_items, outbox
from migrationkit.domain.model import ItemStatus
from migrationkit.ports import DatabaseStatus, Failure, StaleLease


class SqlStatusReader:
    """Reads the status in one transaction, by the database's clock."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self) -> DatabaseStatus:
        status, lease = offer_items.c.status, migrations.c.lease_expires_at
        with self._engine.connect() as connection:
            now = _database_now(connection)
            counts = connection.execute(
                select(status, func.count())
                .select_from(migrations.join(offer_items, offer_items.c.id == migrations.c.item_id))
                .group_by(status)
            ).all()
            stale = migrations.join(offer_items, offer_items.c.id == migrations.c.item_id)
            stale_where = (status == ItemStatus.PROCESSING.value) & (
                lease.is_(None) | (lease < now)
            )
            stale_count = connection.execute(
                select(func.count()).select_from(stale).where(stale_where)
            ).scalar_one()
            oldest_stale = connection.execute(
                select(migrations.c.id, lease)
                .select_from(stale)
                .where(stale_where)
                .order_by(lease.asc().nulls_first(), migrations.c.id)
                .limit(1)
            ).first()
            unsent, oldest_unsent = connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None)
                )
            ).one()
            failure = connection.execute(
                select(migrations.c.id, offer_items.c.status_changed_at, migrations.c.failure_code)
                .select_from(migrations.join(offer_items, offer_items.c.id == migrations.c.item_id))
                .where(status == ItemStatus.FAILED.value)
                .order_by(offer_items.c.status_changed_at, migrations.c.id)
                .limit(1)
            ).first()
        return DatabaseStatus(
            at=now,
            moves={ItemStatus(name): count for name, count in counts},
            stale_leases=stale_count,
            oldest_stale_lease=None if oldest_stale is None else StaleLease(*oldest_stale),
            outbox_unsent=unsent,
            # func.min loses the column's type on SQLite: read it as the column reads.
            oldest_unsent_at=_utc(connection, oldest_unsent),
            oldest_failure=None if failure is None else Failure(*failure),
        )


def _database_now(connection: Connection) -> datetime:
    """The database's clock now, as an aware UTC datetime."""
    if connection.dialect.name == "sqlite":
        now = func.strftime("%Y-%m-%d %H:%M:%f000", "now", type_=UtcDateTime)
    else:
        now = func.clock_timestamp(type_=DateTime(timezone=True))
    moment = _utc(connection, connection.execute(select(now)).scalar_one())
    assert moment is not None
    return moment


def _utc(connection: Connection, value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return UtcDateTime().process_result_value(value, connection.dialect)
    return UtcDateTime().process_result_value(
        datetime.fromisoformat(str(value)), connection.dialect
    )


# --- the check before a command starts ---------------------------------------------------------


@attrs.frozen
class DatabaseCheck:
    """What a command finds when it first asks the database."""

    #: ``None`` when the database answered; else the driver's first line of the error.
    unreachable: str | None = None
    #: The schema's revision in the database; ``None`` when it has none (never upgraded).
    revision: str | None = None
    #: The newest revision this package knows.
    head: str | None = None

    @property
    def current(self) -> bool:
        return self.unreachable is None and self.revision is not None and self.revision == self.head


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_database(engine: Engine) -> DatabaseCheck:
    """Connects once and reads the schema's revision; changes nothing. A SQLite file is
    made by connecting, so a caller checks ``sqlite_file`` exists first."""
    try:
        with engine.connect() as connection:
            # Read, not through Alembic's MigrationContext, which logs as it starts.
            revision = (
                connection.execute(
                    select(column("version_num")).select_from(table(VERSION_TABLE))
                ).scalar()
                if inspect(connection).has_table(VERSION_TABLE)
                else None
            )
            head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        lines = str(cause).strip().splitlines()
        return DatabaseCheck(unreachable=f"{type(cause).__name__}: {lines[0] if lines else ''}")
    return DatabaseCheck(revision=revision, head=head)
