"""The queues' part of ``migrationkit status`` (``QueueInspector``), and the check that a
command makes before it starts: does Redis answer (``check_redis``)."""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.serializers import JSONSerializer

from migrationkit.ports import QueueDepth


class RQQueueInspector:
    """Every RQ queue in the Redis of ``connection``, the deployment's queue ``name`` first
    (listed even while RQ has not made it yet)."""

    def __init__(self, connection: Redis, name: str) -> None:
        self._connection = connection
        self._name = name

    def depths(self) -> Sequence[QueueDepth]:
        names = {queue.name for queue in Queue.all(connection=self._connection)} - {self._name}
        return [self._depth(name) for name in (self._name, *sorted(names))]

    def _depth(self, name: str) -> QueueDepth:
        queue = Queue(name, connection=self._connection, serializer=JSONSerializer)
        return QueueDepth(
            name=name,
            queued=queue.count,
            started=queue.started_job_registry.count,
            deferred=queue.deferred_job_registry.count,
            scheduled=queue.scheduled_job_registry.count,
            failed=queue.failed_job_registry.count,
        )


def check_redis(connection: Redis) -> str | None:
    """``None`` when Redis answers a PING; else the first line of why not."""
    try:
        connection.ping()
    except RedisError as error:
        lines = str(error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else ''}"
    return None
