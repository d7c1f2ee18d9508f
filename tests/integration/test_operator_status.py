"""``migrationkit status`` as an operator runs it, in a process of its own, on SQLite and
PostgreSQL with a real Redis: moves per status, the queue's depth, a lease that ran out,
the outbox's backlog and the move Mislukt the longest, as text and as ``--json``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from _moves import start_move
from redis import Redis
from sqlalchemy import Engine, func, select, update

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy.tables import migrations, offer_items, outbox
from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings

pytestmark = pytest.mark.redis

REDIS_DB = 8
#: Long ago, by any database's clock.
LONG_AGO = "2001-02-03 04:05:06"


@pytest.fixture
def environment(engine: Engine, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A deployment on the test's database and Redis, with a queue of its own."""
    url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))
    yield {
        "MIGRATIONKIT_HOME": str(tmp_path / "home"),
        "MIGRATIONKIT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "MIGRATIONKIT_SECRET_KEY": "s" * 32,
        "MIGRATIONKIT_REDIS_URL": url,
        "MIGRATIONKIT_QUEUE": f"status-{uuid.uuid4().hex[:8]}",
    }
    with Redis.from_url(url) as connection:
        connection.flushdb()


def status(environment: dict[str, str], *argv: str) -> str:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "migrationkit.cli", "status", *argv],
        env=variables | environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def status_json(environment: dict[str, str]) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(status(environment, "--json"))
    return shown


def test_status_shows_moves_queues_stale_leases_outbox_and_the_oldest_failure(
    engine: Engine, environment: dict[str, str]
) -> None:
    connectors = InMemoryConnectorRegistry()
    runtime = build_runtime(Settings.from_environ(environment), connectors=connectors)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=2)
    queue = environment["MIGRATIONKIT_QUEUE"]

    started = status_json(environment)

    assert set(started) == {
        "version",
        "at",
        "moves",
        "queues",
        "stale_leases",
        "outbox",
        "oldest_failure",
    }
    assert started["version"] == 1
    assert started["moves"] == {"queued": 1, "processing": 0, "completed": 0, "failed": 0}
    assert started["queues"][0] == {
        "name": queue,
        "queued": 1,
        "started": 0,
        "deferred": 0,
        "scheduled": 0,
        "failed": 0,
    }
    assert started["stale_leases"] == {"count": 0, "oldest": None}
    with engine.connect() as connection:  # the code's e-mail, the start's confirmation
        unsent = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    assert started["outbox"]["unsent"] == unsent > 0
    assert started["outbox"]["oldest_unsent_at"] <= started["at"]
    assert started["outbox"]["oldest_unsent_seconds"] >= 0
    assert started["oldest_failure"] is None

    with engine.begin() as connection:  # a worker took it and died: its lease ran out
        connection.execute(
            update(offer_items).where(offer_items.c.id == move.item_id).values(status="PROCESSING")
        )
        connection.execute(
            update(migrations)
            .where(migrations.c.id == move.migration_id)
            .values(lease_expires_at=_long_ago())
        )
        connection.execute(update(outbox).values(created_at=_long_ago()))
    stale = status_json(environment)

    assert stale["moves"] == {"queued": 0, "processing": 1, "completed": 0, "failed": 0}
    assert stale["stale_leases"]["count"] == 1
    assert stale["stale_leases"]["oldest"]["migration_id"] == move.migration_id
    assert stale["stale_leases"]["oldest"]["expired_at"] == "2001-02-03T04:05:06+00:00"
    assert stale["stale_leases"]["oldest"]["seconds"] > 20 * 365 * 86400
    assert stale["outbox"]["oldest_unsent_at"] == "2001-02-03T04:05:06+00:00"

    with engine.begin() as connection:  # it failed, and the e-mail went out
        connection.execute(
            update(offer_items)
            .where(offer_items.c.id == move.item_id)
            .values(status="FAILED", status_changed_at=_long_ago())
        )
        connection.execute(
            update(migrations)
            .where(migrations.c.id == move.migration_id)
            .values(lease_expires_at=None, failure_code="target_archive_full")
        )
        connection.execute(update(outbox).values(sent_at=_long_ago()))
    failed = status_json(environment)

    assert failed["moves"] == {"queued": 0, "processing": 0, "completed": 0, "failed": 1}
    assert failed["stale_leases"] == {"count": 0, "oldest": None}
    assert failed["outbox"] == {
        "unsent": 0,
        "oldest_unsent_at": None,
        "oldest_unsent_seconds": None,
    }
    assert failed["oldest_failure"]["migration_id"] == move.migration_id
    assert failed["oldest_failure"]["failed_at"] == "2001-02-03T04:05:06+00:00"
    assert failed["oldest_failure"]["error_code"] == "target_archive_full"

    lines = status(environment).splitlines()
    assert lines[0].startswith("migrationkit status at ")
    assert lines[1:] == [
        "moves           In de wachtrij 0, Aan het verwerken 0, Voltooid 0, Mislukt 1",
        f"queue           {queue}: 1 waiting, 0 running, 0 deferred, 0 scheduled, 0 failed",
        "stale leases    0",
        "outbox          0 unsent",
        lines[-1],
    ]
    assert re.fullmatch(
        rf"oldest failure  migration {move.migration_id}, Mislukt \d+d \d+h ago:"
        " target_archive_full",
        lines[-1],
    )


def test_in_embedded_mode_status_says_there_is_no_queue(
    engine: Engine, environment: dict[str, str]
) -> None:
    embedded = {k: v for k, v in environment.items() if k != "MIGRATIONKIT_REDIS_URL"}

    assert status_json(embedded)["queues"] is None
    assert (
        "queues          none: jobs run in the process (no MIGRATIONKIT_REDIS_URL)"
        in status(embedded).splitlines()
    )


def _long_ago() -> datetime:
    return datetime.fromisoformat(LONG_AGO).replace(tzinfo=UTC)
