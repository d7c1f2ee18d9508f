"""What an operator's probes and dashboards read straight from the database: the archive
stores in use, how many moves stand in each status, and the outbox's backlog. Each is one
statement, so a scrape every few seconds costs the database little. The schema's revision
is read by ``status.check_database``, for the CLI and the readiness probe alike."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
from sqlalchemy import Engine, func, select

from migrationkit.adapters.sqlalchemy.tables import environments, migrations, offer_items, outbox


@attrs.frozen
class Backlog:
    """The outbox's e-mails not sent yet, and the age of the oldest (0 without any)."""

    unsent: int
    oldest_seconds: float


@attrs.frozen
class Moves:
    """How many migrations stand in each status (QUEUED, PROCESSING, COMPLETED, FAILED),
    and the earliest moment a lease of one Aan het verwerken runs (or ran) out."""

    by_status: dict[str, int]
    earliest_lease_end: datetime | None


def moves(engine: Engine) -> Moves:
    """The migrations per status, and the earliest lease's end, in one statement."""
    query = (
        select(
            offer_items.c.status,
            func.count().label("moves"),
            func.min(migrations.c.lease_expires_at).label("lease_end"),
        )
        .select_from(migrations.join(offer_items, offer_items.c.id == migrations.c.item_id))
        .group_by(offer_items.c.status)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    lease_end = next((row.lease_end for row in rows if row.status == "PROCESSING"), None)
    return Moves({row.status: row.moves for row in rows}, _aware(lease_end))


def outbox_backlog(engine: Engine, now: datetime | None = None) -> Backlog:
    """The e-mails waiting in the outbox, and how long the oldest has waited."""
    query = select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
    with engine.connect() as connection:
        unsent, oldest = connection.execute(query).one()
    oldest = _aware(oldest)
    if oldest is None:
        return Backlog(0, 0.0)
    age = ((now or datetime.now(UTC)) - oldest).total_seconds()
    return Backlog(int(unsent), max(0.0, age))


def archive_store_names(engine: Engine) -> list[str]:
    """The archive stores that the environments name."""
    with engine.connect() as connection:
        return list(connection.scalars(select(environments.c.archive_store).distinct()))


def _aware(moment: datetime | str | None) -> datetime | None:
    """An aggregate's moment in UTC (SQLite's may come back as text, or naive)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
