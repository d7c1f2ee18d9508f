"""The operator's view of RQ: a request's id travels with the jobs it enqueues (job meta)
and is on every line a job logs, with the job's id; the queue's depth and oldest job; and
``migrationkit worker --metrics-port`` serving Prometheus metrics."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import structlog
from redis import Redis
from rq.serializers import JSONSerializer

from migrationkit.adapters.rq import RQJobQueue
from migrationkit.adapters.rq.queue import LoggedJob, migration_job_id
from migrationkit.adapters.sqlalchemy import upgrade

pytestmark = pytest.mark.redis

#: The Redis database of these tests; other tests keep off it.
REDIS_DB = 12
QUEUE = "migrationkit-operations"
#: How long a worker may take to start serving its metrics (a readiness wait).
START_SECONDS = 60


def bound_now() -> dict[str, object]:
    """A job's function: what its log lines carry."""
    return dict(structlog.contextvars.get_contextvars())


@pytest.fixture
def redis_db_url(redis_url: str) -> str:
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))


@pytest.fixture
def connection(redis_db_url: str) -> Iterator[Redis]:
    connection = Redis.from_url(redis_db_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_a_wake_up_carries_the_request_id_of_the_request_that_enqueued_it(
    connection: Redis,
) -> None:
    queue = RQJobQueue(connection, QUEUE)
    with structlog.contextvars.bound_contextvars(request_id="req-7f3a"):
        queue.enqueue_migration(41)
    queue.enqueue_migration(42)  # outside a request: nothing to carry
    job = LoggedJob.fetch(migration_job_id(41), connection=connection, serializer=JSONSerializer)
    assert job.meta == {"request_id": "req-7f3a"}
    other = LoggedJob.fetch(migration_job_id(42), connection=connection, serializer=JSONSerializer)
    assert other.meta == {}


def test_a_job_logs_with_its_id_and_what_it_carried(connection: Redis) -> None:
    job = LoggedJob.create(
        bound_now,
        connection=connection,
        serializer=JSONSerializer,
        id="migration-9",
        meta={"request_id": "req-9"},
    )
    job.save()
    assert job.perform() == {"job_id": "migration-9", "request_id": "req-9"}
    assert structlog.contextvars.get_contextvars() == {}  # unbound after the job


def test_the_queue_says_its_depth_and_when_its_oldest_job_was_enqueued(
    connection: Redis,
) -> None:
    queue = RQJobQueue(connection, QUEUE)
    assert queue.waiting() == (0, None)
    queue.enqueue_migration(1)
    queue.enqueue_migration(2)  # to the front; the oldest is behind it
    depth, oldest = queue.waiting()
    assert depth == 2
    first = LoggedJob.fetch(migration_job_id(1), connection=connection, serializer=JSONSerializer)
    assert first.enqueued_at is not None
    assert oldest is not None
    assert oldest.replace(tzinfo=None) == first.enqueued_at.replace(tzinfo=None)


def test_a_worker_serves_its_metrics_on_the_port_it_is_given(
    redis_db_url: str, connection: Redis, tmp_path: Path
) -> None:
    environment = {
        "MIGRATIONKIT_HOME": str(tmp_path / "home"),
        "MIGRATIONKIT_SECRET_KEY": "operations-tests-" * 3,
        "MIGRATIONKIT_REDIS_URL": redis_db_url,
        "MIGRATIONKIT_QUEUE": QUEUE,
        # The in-memory packages: this worker moves nothing, it shows its metrics.
        "MIGRATIONKIT_DEMO": "1",
    }
    upgrade(f"sqlite:///{tmp_path / 'home' / 'migrationkit.sqlite3'}")
    RQJobQueue(connection, QUEUE).enqueue_migration(404)  # waits: the worker takes it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "migrationkit.cli", "worker", "--metrics-port", str(port)],
            env=variables | environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
                break
            except requests.ConnectionError:
                assert worker.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the worker did not serve its metrics"
                time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert f'migrationkit_queue_depth{{queue="{QUEUE}"}}' in text
    assert 'migrationkit_migrations{status="processing"} 0.0' in text
    assert "migrationkit_batch_duration_seconds_bucket" in text
