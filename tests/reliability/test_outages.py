"""Redis or the SMTP server away: the database holds the truth, so a start Redis missed runs
once Redis is back (after the sweeper), workers busy or idle outlive a minute without Redis
and go on, and a move whose e-mails could not go out completes and sends each of them once
the server is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _checks import Watch, assert_each_sent_once, assert_moved, runtime_of, wait_for_emails
from _deployment import (
    BATCH_SIZE,
    DISPATCH_SECONDS,
    SWEEP_SECONDS,
    WAIT_SECONDS,
    Deployment,
    MailServer,
    wait_for,
)
from _moves import start_move
from _servers import RedisServer
from redis import Redis
from rq import Queue
from rq.defaults import DEFAULT_JOB_MONITORING_INTERVAL
from rq.serializers import JSONSerializer

from migrationkit.domain.model import ItemStatus
from served import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 300
#: A start with Redis away may take this long: the enqueue gives up within seconds.
START_SECONDS = 10
#: How long Redis stays away while workers run: more than a minute, and more than two of
#: RQ's heartbeats of a busy worker (``job_monitoring_interval``).
OUTAGE_SECONDS = max(65, 2 * DEFAULT_JOB_MONITORING_INTERVAL + 5)
#: ``migrationkit worker`` with a gate before the copies that the test opens and closes.
GATED_WORKER = Path(__file__).with_name("_gated_worker.py")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_move_started_while_redis_is_down_runs_once_redis_is_back(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    own_redis: RedisServer,
) -> None:
    environment["MIGRATIONKIT_REDIS_URL"] = own_redis.url
    runtime, connectors = runtime_of(environment)
    own_redis.stop()

    started = time.monotonic()
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    assert time.monotonic() - started < START_SECONDS
    with runtime.deps.uow() as uow:
        item = uow.items.get(move.item_id)
        kinds = [message.email.kind for message in uow.outbox.list_pending()]
    assert item is not None
    assert item.status is ItemStatus.QUEUED
    assert "migration_started" in kinds

    sweeper = deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    wait_for(lambda: "migrationkit sweep: " in deployment.log(sweeper), "the sweeper to miss Redis")
    own_redis.start()
    watch = Watch(runtime, move)
    try:
        deployment.start("worker")
        watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
    finally:
        watch.stop()

    assert_moved(runtime, move, archive_roots, move.blobs)
    assert f"migrations woken again: {move.migration_id}" in deployment.log(sweeper)
    assert watch.mark.attempts == 1


def test_a_move_completes_while_smtp_is_down_and_every_email_goes_out_once_it_is_back(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    mail_server: MailServer,
) -> None:
    mail_server.stop()
    runtime, connectors = runtime_of(environment)
    dispatcher = deployment.start("dispatch-mail", "--every", str(DISPATCH_SECONDS))
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    watch = Watch(runtime, move)
    try:
        deployment.start("worker")
        watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
    finally:
        watch.stop()
    assert_moved(runtime, move, archive_roots, move.blobs)
    with runtime.deps.uow() as uow:
        kinds = sorted(message.email.kind for message in uow.outbox.list_pending())
    assert kinds == [
        "migration_completed",
        "migration_completed",
        "migration_started",
        "offer_code",
    ]
    assert "not sent, kept for the next run" in deployment.log(dispatcher)
    assert mail_server.received() == {}

    mail_server.start()
    sent = wait_for_emails(runtime)
    time.sleep(2 * DISPATCH_SECONDS)  # a round more: nothing is sent twice
    assert_each_sent_once(sent, mail_server.received())


def test_busy_and_idle_workers_outlive_a_minute_without_redis_and_take_work_again(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    own_redis: RedisServer,
    tmp_path: Path,
) -> None:
    environment["MIGRATIONKIT_REDIS_URL"] = own_redis.url
    # The copy is held far longer than the tests' lease: a lease as long as the default one
    # keeps the move with the worker that holds it, so that worker stays busy all along.
    environment["MIGRATIONKIT_LEASE_SECONDS"] = str(10 * OUTAGE_SECONDS)
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "hold").touch()
    runtime, connectors = runtime_of(environment)
    workers = [
        deployment.start(program=[str(GATED_WORKER)], extra={"COPY_GATE": str(gate)})
        for _ in range(2)
    ]
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    move = start_move(runtime.deps, runtime.archives, connectors, documents=BATCH_SIZE)
    watch = Watch(runtime, move)
    try:
        wait_for(lambda: waiting(gate), "a worker to be busy with the move")
        [busy] = waiting(gate)
        assert busy in {worker.pid for worker in workers}
        # A worker that first meets Redis while it is away exits, as it should; on a busy
        # machine the idle one may not have reached it yet.
        wait_for(
            lambda: all("Listening on" in deployment.log(worker) for worker in workers),
            "both workers to listen on the queue",
        )

        own_redis.stop()
        # RQ's heartbeats of the busy worker fail meanwhile; then the move goes on without
        # Redis and the work-horse's own writes to Redis wait for it.
        time.sleep(DEFAULT_JOB_MONITORING_INTERVAL + 5)
        (gate / "hold").unlink()
        watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        time.sleep(OUTAGE_SECONDS - DEFAULT_JOB_MONITORING_INTERVAL - 5)
        assert all(worker.poll() is None for worker in workers), deployment.logs_tail()
        own_redis.start()

        # Both take work again: two jobs that each keep a worker busy go one to each.
        (gate / "hold").touch()
        for marker in gate.glob("waiting-*"):
            marker.unlink()
        queue = Queue(
            environment["MIGRATIONKIT_QUEUE"],
            connection=Redis.from_url(own_redis.url),
            serializer=JSONSerializer,
        )
        for _ in workers:
            queue.enqueue("_gated_worker.hold", str(gate))
        wait_for(
            lambda: waiting(gate) == {worker.pid for worker in workers},
            "both workers to take a job after the outage",
        )
        (gate / "hold").unlink()
    finally:
        watch.stop()

    assert_moved(runtime, move, archive_roots, move.blobs)
    assert watch.mark.attempts == 1
    assert all(worker.poll() is None for worker in workers)
    for worker in workers:
        assert "quitting" not in deployment.log(worker)
        assert "Redis does not answer" in deployment.log(worker)


def waiting(gate: Path) -> set[int]:
    """The workers whose work-horses wait at the gate."""
    return {int(marker.name.removeprefix("waiting-")) for marker in gate.glob("waiting-*")}
