"""An RQ worker on the migrationkit queue: ``migrationkit worker`` runs one per process."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer


def run_worker(
    connection: Redis, queue_name: str, *, burst: bool = False, fork: bool = True
) -> bool:
    """Works the queue until stopped, or until it is empty with ``burst``; whether it ran
    any job.

    With ``fork`` (the default) each job runs in a work-horse child that RQ watches and kills
    when its timeout passes; without, in this process. The worker also runs RQ's scheduler,
    which brings back the jobs waiting out a retry's delay.
    """
    queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([queue], connection=connection, serializer=JSONSerializer)
    return worker.work(burst=burst, with_scheduler=True)
