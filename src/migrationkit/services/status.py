"""What an operator asks first (``migrationkit status``): how many moves stand in each
status, how deep the job queues are, which leases ran out with no sweep since, how much
e-mail waits in the outbox, and which move has been Mislukt the longest.

The database's part comes through ``StatusReader`` and the queues' part through
``QueueInspector`` (no inspector in embedded mode, where jobs run in the process itself).
``status_json`` gives the documented ``--json`` shape (docs/operations.md, "Status").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from migrationkit.domain.model import ItemStatus
from migrationkit.ports import DatabaseStatus, QueueDepth, QueueInspector, StatusReader

#: The statuses a move (a ``Migration``) can have, in the order a move passes them.
MOVE_STATUSES = (
    ItemStatus.QUEUED,
    ItemStatus.PROCESSING,
    ItemStatus.COMPLETED,
    ItemStatus.FAILED,
)

#: The version of the ``--json`` shape: raised when a field changes meaning or goes away.
JSON_VERSION = 1


@attrs.frozen
class OperatorStatus:
    database: DatabaseStatus
    #: ``None`` in embedded mode: jobs run in the process itself, no queue to look at.
    queues: Sequence[QueueDepth] | None


def operator_status(reader: StatusReader, queues: QueueInspector | None) -> OperatorStatus:
    """The status now: the database's part, then the queues' part."""
    return OperatorStatus(reader.read(), None if queues is None else queues.depths())


def status_json(status: OperatorStatus) -> dict[str, Any]:
    """The ``--json`` shape, version ``JSON_VERSION``; times are ISO 8601 in UTC and ages
    whole seconds, both by the database's clock."""
    database = status.database
    stale = database.oldest_stale_lease
    failure = database.oldest_failure
    return {
        "version": JSON_VERSION,
        "at": _time(database.at),
        "moves": {s.value.lower(): database.moves.get(s, 0) for s in MOVE_STATUSES},
        "queues": None
        if status.queues is None
        else [attrs.asdict(depth) for depth in status.queues],
        "stale_leases": {
            "count": database.stale_leases,
            "oldest": None
            if stale is None
            else {
                "migration_id": stale.migration_id,
                "expired_at": _time(stale.expired_at),
                "seconds": _age(database.at, stale.expired_at),
            },
        },
        "outbox": {
            "unsent": database.outbox_unsent,
            "oldest_unsent_at": _time(database.oldest_unsent_at),
            "oldest_unsent_seconds": _age(database.at, database.oldest_unsent_at),
        },
        "oldest_failure": None
        if failure is None
        else {
            "migration_id": failure.migration_id,
            "failed_at": _time(failure.failed_at),
            "seconds": _age(database.at, failure.failed_at),
            "error_code": failure.error_code,
        },
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _age(now: datetime, moment: datetime | None) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))
