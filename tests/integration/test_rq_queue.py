"""The job queue on a real Redis (its own database number, emptied around each test) with
RQ's SimpleWorker in burst mode in this process: one job per migration however often it is
enqueued, a finished job's id enqueued again for a retry, batches before their finishing
job, JSON payloads, and a start that Redis missed made good by the sweeper."""

from __future__ import annotations

import json
import signal
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import attrs
import pytest
from _moves import Move, start_move, status
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from migrationkit import services
from migrationkit.adapters.rq import RQJobQueue
from migrationkit.adapters.rq.queue import batch_job_id, finish_job_id
from migrationkit.ports import DocumentBatch
from migrationkit.services.sweeping import sweep
from migrationkit.testing import FakeWorld, make_world
from migrationkit.workers.jobs import WorkerContext
from migrationkit.workers.rq_worker import run_worker

pytestmark = pytest.mark.redis

#: The Redis database of the runtime's tests; other tests keep off it.
REDIS_DB = 7
QUEUE = "migrationkit-test"


def on_database(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@pytest.fixture
def connection(redis_url: str) -> Iterator[Redis]:
    connection = Redis.from_url(on_database(redis_url, REDIS_DB))
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def queue(connection: Redis) -> RQJobQueue:
    return RQJobQueue(connection, QUEUE, job_timeout=60)


@pytest.fixture
def world(queue: RQJobQueue) -> FakeWorld:
    """The fakes, enqueuing on RQ, with batches of two documents; ``work`` runs the jobs
    on them."""
    world = make_world()
    policy = attrs.evolve(world.deps.policy, batch_size=2)
    return attrs.evolve(world, deps=attrs.evolve(world.deps, queue=queue, policy=policy))


def work(connection: Redis, world: FakeWorld) -> None:
    """Runs what waits, in this process, on the world's fakes; RQ's signal handlers are
    undone afterwards, so Ctrl-C still stops the test run."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_worker(
            connection,
            QUEUE,
            WorkerContext(lambda: (world.deps, world.archives)),
            burst=True,
            fork=False,
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def moved(world: FakeWorld, documents: int) -> Move:
    return start_move(world.deps, world.archives, world.connectors, documents=documents)


def rq_queue(connection: Redis) -> Queue:
    return Queue(QUEUE, connection=connection, serializer=JSONSerializer)


def test_a_migration_enqueued_twice_while_waiting_is_one_job(
    queue: RQJobQueue, connection: Redis
) -> None:
    queue.enqueue_migration(7)
    queue.enqueue_migration(7)
    queue.enqueue_migration(8)

    # Each wake-up goes to the front (see the next test).
    assert rq_queue(connection).job_ids == ["migration-8", "migration-7"]


def test_a_wake_up_goes_before_the_batch_jobs_waiting(queue: RQJobQueue, connection: Redis) -> None:
    queue.enqueue_batches(7, [DocumentBatch(7, 1, 2), DocumentBatch(7, 3, 4)])

    queue.enqueue_migration(7)

    assert rq_queue(connection).job_ids == [
        "migration-7",
        "migration-7-batch-1-2",
        "migration-7-batch-3-4",
    ]


def test_a_wake_up_replaces_a_job_whose_retry_waits_for_a_scheduler(
    world: FakeWorld, queue: RQJobQueue, connection: Redis
) -> None:
    # No such migration: the job raises, and RQ schedules its retry for later. A killed
    # worker's scheduler lock can keep every other worker from scheduling for minutes.
    queue.enqueue_migration(999)
    work(connection, world)
    waiting = Job.fetch("migration-999", connection, serializer=JSONSerializer)
    assert waiting.get_status() is JobStatus.SCHEDULED

    queue.enqueue_migration(999)

    assert rq_queue(connection).job_ids == ["migration-999"]


def test_a_wake_up_replaces_a_job_taken_by_a_worker_that_died_before_starting_it(
    queue: RQJobQueue, connection: Redis
) -> None:
    queue.enqueue_migration(7)
    # What a worker does first: it moves the job to RQ's intermediate queue, still "queued".
    taken = Queue.dequeue_any(
        [rq_queue(connection)], None, connection=connection, serializer=JSONSerializer
    )
    assert taken is not None
    assert taken[0].get_status() is JobStatus.QUEUED
    assert rq_queue(connection).job_ids == []

    queue.enqueue_migration(7)

    assert rq_queue(connection).job_ids == ["migration-7"]
    assert rq_queue(connection).intermediate_queue.get_job_ids() == []


def test_a_wake_up_replaces_a_job_started_by_a_dead_worker(
    queue: RQJobQueue, connection: Redis
) -> None:
    queue.enqueue_migration(7)
    started = Job.fetch("migration-7", connection, serializer=JSONSerializer)
    started.set_status(JobStatus.STARTED)
    connection.lrem(rq_queue(connection).key, 0, "migration-7")

    queue.enqueue_migration(7)

    assert rq_queue(connection).job_ids == ["migration-7"]


def test_a_job_is_json_naming_its_function_by_its_path_with_plain_ints(
    queue: RQJobQueue, connection: Redis
) -> None:
    queue.enqueue_batches(7, [DocumentBatch(7, 1, 500)])

    stored = connection.hget("rq:job:migration-7-batch-1-500", "data")
    assert isinstance(stored, bytes)
    assert json.loads(zlib.decompress(stored)) == [
        "migrationkit.workers.jobs.copy_batch",
        None,
        [7, 1, 500],
        {},
    ]


def test_the_worker_moves_the_archive_and_the_job_ends(world: FakeWorld, connection: Redis) -> None:
    move = moved(world, 1)

    work(connection, world)

    assert status(world.deps, move) == "Voltooid"
    assert world.archives.store("zuid").blobs == move.blobs
    job = Job.fetch(f"migration-{move.migration_id}", connection, serializer=JSONSerializer)
    assert job.get_status() is JobStatus.FINISHED


def test_a_retry_enqueues_the_same_job_id_again_after_the_first_job_finished(
    world: FakeWorld, connection: Redis
) -> None:
    move = moved(world, 1)
    [(key, content)] = move.blobs.items()
    noord = world.archives.store("noord")
    del noord.blobs[key]
    work(connection, world)
    assert status(world.deps, move) == "Mislukt"

    noord.blobs[key] = content
    services.retry_migration(world.deps, actor_id=move.recipient_id, migration_id=move.migration_id)
    assert rq_queue(connection).job_ids == [f"migration-{move.migration_id}"]
    work(connection, world)

    assert status(world.deps, move) == "Voltooid"


def test_a_big_archive_runs_as_batch_jobs_then_one_finishing_job(
    world: FakeWorld, connection: Redis
) -> None:
    move = moved(world, 5)

    work(connection, world)

    assert status(world.deps, move) == "Voltooid"
    assert world.archives.store("zuid").blobs == move.blobs
    batches = [
        Job.fetch(batch_job_id(DocumentBatch(move.migration_id, first, last)), connection)
        for first, last in ((1, 2), (3, 4), (5, 5))
    ]
    finish = Job.fetch(finish_job_id(move.migration_id), connection)
    assert all(job.get_status() is JobStatus.FINISHED for job in [*batches, finish])
    assert finish.started_at is not None
    assert all(job.ended_at is not None and job.ended_at <= finish.started_at for job in batches)


def test_enqueuing_the_batches_again_keeps_one_job_each_and_one_finish(
    queue: RQJobQueue, connection: Redis
) -> None:
    batches = [DocumentBatch(7, 1, 2), DocumentBatch(7, 3, 4)]

    queue.enqueue_batches(7, batches)
    queue.enqueue_batches(7, batches)

    assert rq_queue(connection).job_ids == ["migration-7-batch-1-2", "migration-7-batch-3-4"]
    finish = Job.fetch("migration-7-finish", connection)
    assert finish.get_status() is JobStatus.DEFERRED
    assert sorted(finish.dependency_ids) == ["migration-7-batch-1-2", "migration-7-batch-3-4"]


def test_redis_down_at_the_start_loses_nothing_the_sweeper_wakes_it_once_redis_is_back(
    world: FakeWorld, queue: RQJobQueue, connection: Redis
) -> None:
    nowhere = RQJobQueue(Redis(port=1, retry=Retry(NoBackoff(), 1)), QUEUE)
    with pytest.raises(RedisConnectionError):
        nowhere.enqueue_migration(1)
    down = attrs.evolve(world.deps, queue=nowhere)

    move = start_move(down, world.archives, world.connectors, documents=3)

    assert status(world.deps, move) == "In de wachtrij"
    assert rq_queue(connection).job_ids == []
    assert sweep(world.deps).requeued == (move.migration_id,)
    work(connection, world)
    assert status(world.deps, move) == "Voltooid"
