"""The JSON logs of a move whose worker was killed and which another worker resumed: every
event of the move is there, each with the move's ids, read from the log files of the
deployment's processes (the workers with their work-horses, the sweeper, the dispatcher)
as a log pipeline reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _checks import Watch, runtime_of, wait_for_emails
from _deployment import MOVE_SECONDS, SWEEP_SECONDS, Deployment, MailServer
from _moves import start_move

from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WORKER = Path(__file__).with_name("_worker.py")
DOCUMENTS = 250
IDS = ("migration_id", "offer_id", "item_id", "environment_id", "attempt")


def logged_events(logs: Path) -> list[dict[str, object]]:
    """Every JSON log line of every process, in file order; the commands' own output lines
    (the sweeper's summary) are not JSON and are left out."""
    events = []
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
    return events


def test_a_killed_and_resumed_move_logs_every_event_with_its_ids(
    deployment: Deployment,
    environment: dict[str, str],
    mail_server: MailServer,
    tmp_path: Path,
) -> None:
    environment["MIGRATIONKIT_LOG_FORMAT"] = "json"
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    with runtime.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
        item = uow.items.get(move.item_id)
    assert migration is not None
    assert item is not None
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    deployment.start("dispatch-mail", "--every", "0.5")
    # The first worker dies, work-horse and all, in the middle of its first batch.
    dying = deployment.start(program=[str(WORKER)], extra={"DIE_AFTER_COPIES": "30"})
    dying.wait(MOVE_SECONDS)
    watch = Watch(runtime, move)
    try:
        deployment.start("worker")
        watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
    finally:
        watch.stop()
    sent = wait_for_emails(runtime)
    deployment.stop_all()

    events = logged_events(tmp_path / "logs")
    ids = {
        "migration_id": move.migration_id,
        "offer_id": item.offer_id,
        "item_id": move.item_id,
        "environment_id": migration.target_environment_id,
    }

    def of_the_move(name: str) -> list[dict[str, object]]:
        found = [
            event
            for event in events
            if event["event"] == name and event.get("migration_id") == ids["migration_id"]
        ]
        assert found, f"no {name} in the logs"
        for event in found:
            assert {key: event[key] for key in ids} == ids, event
            assert isinstance(event["attempt"], int), event
        return found

    claims = of_the_move("migration_claimed")
    # The dead worker's claim, then the resuming worker's, each by an RQ job of the move.
    assert [claim["attempt"] for claim in claims] == [1, 2]
    assert all(claim["job_id"] == f"migration-{move.migration_id}" for claim in claims)
    requeued = of_the_move("migration_requeued")
    assert any(event["lease_expired"] for event in requeued)
    batches = of_the_move("batch_committed")
    assert sum(batch["documents"] for batch in batches) == DOCUMENTS
    # A batch job of the dead worker's plan may run before its lease ran out: attempt 1.
    assert {batch["attempt"] for batch in batches} <= {1, 2}, batches
    assert all(batch["bytes"] > 0 for batch in batches), batches
    assert all(isinstance(batch["seconds"], float) for batch in batches)
    [finished] = of_the_move("migration_finished")
    assert finished["documents"] == DOCUMENTS
    emails = [e for e in events if e["event"] == "email_sent"]
    assert {event["message_id"] for event in emails} == sent
    assert all(event["level"] and event["timestamp"] for event in events)
