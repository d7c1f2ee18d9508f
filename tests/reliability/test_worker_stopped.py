"""A worker asked to stop (SIGTERM) in the middle of a batch job of several batches ends
after the batch in hand, not after its job: it commits that batch, begins no other and
exits; the next worker takes over the rest, and the move ends Voltooid with every document
once, byte for byte.

The signal lands in the middle of a batch whatever the machine's speed: the worker copies
through a gate (``_worker.Gate``) that holds the copy after the first batch and a few more,
and the test waits for that hold before it signals. No time is measured: the test waits
for events (the hold, the exit, Voltooid)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from _checks import Watch, assert_moved, explained, runtime_of
from _deployment import BATCH_SIZE, MOVE_SECONDS, SWEEP_SECONDS, Deployment, wait_for
from _moves import start_move
from _worker import Gate
from redis import Redis

from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Twenty batches: the fan-out makes eight batch jobs of two or three batches each.
DOCUMENTS = 20 * BATCH_SIZE
WORKER = Path(__file__).with_name("_worker.py")


def test_a_worker_asked_to_stop_ends_after_its_batch_and_the_next_one_takes_over(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    redis = Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"])
    gate = Gate(redis, "copy-gate")
    gated = {"COPY_GATE": "copy-gate"}
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            # The first batch job's first batch, and a few copies of its second.
            gate.allow(BATCH_SIZE + 10)
            stopping = deployment.start(program=[str(WORKER)], extra=gated)
            wait_for(gate.holds, "a copy held in the second batch", timeout=MOVE_SECONDS)
            stopping.send_signal(signal.SIGTERM)
            gate.allow(DOCUMENTS)
            stopping.wait(MOVE_SECONDS)

            assert watch.read().status is ItemStatus.PROCESSING
            with runtime.deps.uow() as uow:
                copied = uow.copies.totals(move.migration_id).documents
            # The batch in hand was committed, the job's third batch not begun.
            assert copied == 2 * BATCH_SIZE
            assert "warm shut down requested" in deployment.log(stopping)

            deployment.start(program=[str(WORKER)], extra=gated)
            watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
            # Only now a sweeper, which wakes the release of the source's blobs: before, it
            # could have taken the move back when its lease ran out between the workers.
            deployment.start("sweep", "--every", str(SWEEP_SECONDS))
        finally:
            watch.stop()
            redis.close()
        assert_moved(runtime, move, archive_roots, move.blobs)
        with runtime.deps.uow() as uow:
            events = [change.event for change in uow.items.status_changes(move.item_id)]
        # Taken over through the queue (no sweeper runs here): the move was claimed once.
        assert events.count("claim") == 1
