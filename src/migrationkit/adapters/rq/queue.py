"""The ``JobQueue`` port on Redis with RQ.

A job only says "look at migration N": the database holds the truth, and the engine does
nothing for a job that comes twice. Jobs are JSON (never pickle), name their function by its
dotted path and take plain ints, so any worker with the package installed can run them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Dependency, Job
from rq.serializers import JSONSerializer
from rq.utils import utcparse

from migrationkit.adapters.logs import bound, carried
from migrationkit.ports import DocumentBatch

#: The module of the job functions that the workers run (a job names its function by this
#: dotted path; see docs/operations.md on upgrading with jobs still queued).
JOBS = "migrationkit.workers.jobs"

#: How often, and after how many seconds, RQ runs a job again that raised (the database
#: went away, say). A worker's scheduler (``migrationkit worker`` runs one) brings them back.
RETRY_INTERVALS = (10, 60, 300)

#: How long RQ keeps a failed job for an operator to look at (``rq info``).
FAILED_JOB_SECONDS = 7 * 24 * 3600


def migration_job_id(migration_id: int) -> str:
    return f"migration-{migration_id}"


def batch_job_id(batch: DocumentBatch) -> str:
    return f"migration-{batch.migration_id}-batch-{batch.first_id}-{batch.last_id}"


def finish_job_id(migration_id: int) -> str:
    return f"migration-{migration_id}-finish"


class RQJobQueue:
    """Enqueues on the RQ queue ``name`` through ``connection``.

    A job's id is tied to what it does (``migration-<id>``, ``...-batch-<first>-<last>``,
    ``...-finish``), so a wake-up that waits in the queue is not added twice. Any other job
    under the same id is replaced by a new one at the end of the queue: whoever asks again
    (a retry, the sweeper after a crash) does so because the database says the migration
    should run and no live worker holds it, and RQ may not run that other job for a long
    time (see ``_enqueue_once``). A wake-up too many costs a job that finds nothing to do.
    Redis errors (``redis.exceptions.ConnectionError``, ...) reach the caller.
    """

    def __init__(self, connection: Redis, name: str = "migrationkit", *, job_timeout: int = 3600):
        self.queue = Queue(
            name, connection=connection, serializer=JSONSerializer, default_timeout=job_timeout
        )

    def enqueue_migration(self, migration_id: int) -> None:
        """A wake-up goes to the front of the queue: it claims and plans, quickly, and the
        batch jobs it plans go to the end. So a move taken back from a dead worker is
        claimed again before the batch jobs of its old plan, which then find the work
        done or done by others, rather than after them."""
        self._enqueue_once(
            migration_job_id(migration_id), "run_migration", migration_id, at_front=True
        )

    def enqueue_batches(self, migration_id: int, batches: Sequence[DocumentBatch]) -> None:
        """One job per ``DocumentBatch``, which any worker may take, and the finishing job,
        which RQ holds back until every batch job has ended, whether it succeeded or failed:
        the finish itself copies what a failed batch left, or fails the migration."""
        batch_jobs = [
            self._enqueue_once(
                batch_job_id(batch), "copy_batch", batch.migration_id, batch.first_id, batch.last_id
            )
            for batch in batches
        ]
        finish_id = finish_job_id(migration_id)
        self._delete(finish_id)
        self.queue.enqueue_call(
            f"{JOBS}.finish_migration",
            args=(migration_id,),
            job_id=finish_id,
            depends_on=Dependency(batch_jobs, allow_failure=True) if batch_jobs else None,
            retry=_retry(),
            failure_ttl=FAILED_JOB_SECONDS,
            meta=carried(),
        )

    def _enqueue_once(self, job_id: str, function: str, *args: int, at_front: bool = False) -> Job:
        """The job with this id while it waits in the queue itself, where the next free
        worker takes it; otherwise a new one in its place (RQ's ``unique`` refuses a second
        job while the first exists). Two callers replacing the same job at once leave one.

        Only a job in the queue is sure to run soon. RQ keeps others under the same id that
        a worker's death can hold back for its maintenance interval (ten minutes): a retry
        waiting for a scheduler (a killed worker's scheduler lock keeps the others from
        taking over the scheduling), a job taken from the queue by a worker killed before it
        started it (RQ's intermediate queue), a job started by a dead worker (the started
        registry, until its heartbeat runs out). Trusting those swallowed the sweeper's
        wake-ups, and a move stood still while the database said it should run."""
        while True:
            try:
                return self.queue.enqueue_call(
                    f"{JOBS}.{function}",
                    args=args,
                    job_id=job_id,
                    unique=True,
                    at_front=at_front,
                    retry=_retry(),
                    failure_ttl=FAILED_JOB_SECONDS,
                    meta=carried(),
                )
            except DuplicateJobError:
                existing = self._fetch(job_id)
                if existing is not None and self.queue.get_job_position(job_id) is not None:
                    return existing
                if existing is not None:
                    existing.delete()
                    # Else RQ's maintenance would later fail the new job in its place.
                    self.queue.intermediate_queue.remove(job_id)

    def waiting(self) -> tuple[int, datetime | None]:
        """How many jobs wait in the queue, and when the oldest of them was enqueued (a
        wake-up goes to the front, so the oldest is looked for): two round trips to Redis."""
        job_ids = self.queue.get_job_ids()
        pipeline = self.queue.connection.pipeline()
        for job_id in job_ids:
            pipeline.hget(Job.key_for(job_id), "enqueued_at")
        moments = [utcparse(raw.decode()).replace(tzinfo=UTC) for raw in pipeline.execute() if raw]
        return len(job_ids), min(moments, default=None)

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.queue.connection, serializer=JSONSerializer)
        except NoSuchJobError:  # it ended and expired, or another caller deleted it
            return None

    def _delete(self, job_id: str) -> None:
        job = self._fetch(job_id)
        if job is not None:
            job.delete()


class LoggedJob(Job):
    """A job whose log lines carry its id and what it carried from where it was enqueued
    (the request's id): the workers run this class."""

    def perform(self) -> object:
        with bound({"job_id": self.id, **self.meta}):
            return super().perform()


def _retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))
