"""Redis or the SMTP server away: the database holds the truth, so a start Redis missed runs
once Redis is back (after the sweeper), and a move whose e-mails could not go out completes
and sends each of them once the server is back."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _checks import Watch, assert_each_sent_once, assert_moved, runtime_of, wait_for_emails
from _deployment import (
    DISPATCH_SECONDS,
    SWEEP_SECONDS,
    WAIT_SECONDS,
    Deployment,
    MailServer,
    free_port,
    wait_for,
)
from _moves import start_move
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 300
#: A start with Redis away may take this long: the enqueue gives up within seconds.
START_SECONDS = 10


class RedisServer:
    """A redis-server of the test's own on ``port``, without persistence: each start begins
    empty, as a Redis that lost its data."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None, "the reliability tests need redis-server on the PATH"
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        self._process = subprocess.Popen(
            [server, *(part for name, value in options.items() for part in (f"--{name}", value))],
            cwd=self._folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(WAIT_SECONDS)
            self._process = None

    def _answers(self) -> bool:
        try:
            with Redis.from_url(self.url, socket_connect_timeout=1) as connection:
                return bool(connection.ping())
        except RedisConnectionError:
            return False


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
