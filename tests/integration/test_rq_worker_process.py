"""``migrationkit worker`` as a real process: RQ's forking Worker, wired from the environment
alone, moves an archive across stores on a SQLite file and local stores; it stops cleanly on
SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from _moves import start_move, status
from redis import Redis
from rq import Worker

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings

pytestmark = pytest.mark.redis

REDIS_DB = 7
WAIT_SECONDS = 60


@pytest.fixture
def environment(redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The MIGRATIONKIT_* variables every process of this deployment gets."""
    url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))
    with Redis.from_url(url) as connection:
        connection.flushdb()
    yield {
        "MIGRATIONKIT_HOME": str(tmp_path / "home"),
        "MIGRATIONKIT_SECRET_KEY": "k" * 32,
        "MIGRATIONKIT_REDIS_URL": url,
        "MIGRATIONKIT_QUEUE": "migrationkit-process-test",
        "MIGRATIONKIT_BATCH_SIZE": "2",
        "MIGRATIONKIT_LEASE_SECONDS": "10",
        # Demo mode: no package credentials, the in-memory packages serve.
        "MIGRATIONKIT_DEMO": "1",
    }
    with Redis.from_url(url) as connection:
        connection.flushdb()


def worker(environment: dict[str, str], *arguments: str) -> subprocess.Popen[str]:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "migrationkit.cli", "worker", *arguments],
        env=variables | environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_a_worker_process_moves_an_archive_across_stores_and_stops_on_sigterm(
    environment: dict[str, str],
) -> None:
    settings = Settings.from_environ(environment)
    upgrade(settings.database_url)
    connectors = InMemoryConnectorRegistry()
    runtime = build_runtime(settings, connectors=connectors)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=5)

    process = worker(environment)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while status(runtime.deps, move) != "Voltooid" and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert status(runtime.deps, move) == "Voltooid", output
    assert process.returncode == 0, output
    zuid = runtime.archives.store("zuid")
    with runtime.deps.uow() as uow:
        documents = uow.documents.list_for_administration(1)
    assert {document.archive_store for document in documents} == {"zuid"}
    for document in documents:
        with zuid.open(document.blob_key) as stored:
            assert stored.read() == move.blobs[document.sha256]
    # The wake-up, three batch jobs and the finishing job, each in a work-horse of its own.
    assert output.count("Job OK") == 5
    with Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"]) as connection:
        assert Worker.all(connection) == []
