"""Machines whose clocks disagree: leases are set, renewed and compared with the database's
clock alone, so a worker or a sweeper whose clock is a minute slow or ten minutes fast can
neither cut a lease short (a live move taken back) nor stretch it (a dead worker's move
left standing).

The skewed processes are the product's own commands and the tests' gated worker, started
through ``_skewed.py``, which sets their machine's clock off."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from _checks import Watch, assert_moved, explained, runtime_of
from _deployment import (
    BATCH_SIZE,
    LEASE_SECONDS,
    MOVE_SECONDS,
    RECOVERY_BOUND,
    SWEEP_SECONDS,
    Deployment,
    recovery,
    wait_for,
)
from _moves import start_move
from _worker import Gate
from redis import Redis

from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 1_000
SLOW = -60.0
FAST = 600.0
SKEWED = Path(__file__).with_name("_skewed.py")
WORKER = Path(__file__).with_name("_worker.py")
#: How many times the gate holds the move while the sweepers run a round.
HELD_ROUNDS = 4


def skewed(
    deployment: Deployment, skew: float, *command: str, gate: str | None = None
) -> subprocess.Popen[bytes]:
    """Starts ``migrationkit COMMAND`` (or the gated worker, with ``gate``) with its clock
    ``skew`` seconds off."""
    program = [str(SKEWED), *([str(WORKER)] if gate else ["-m", "migrationkit.cli", *command])]
    extra = {"CLOCK_SKEW_SECONDS": str(skew), **({"COPY_GATE": gate} if gate else {})}
    return deployment.start(program=program, extra=extra)


def sweep_rounds(deployment: Deployment, sweepers: list[subprocess.Popen[bytes]]) -> int:
    """How many rounds the sweepers have run, each printing a line (beside its log lines)."""
    return sum(deployment.log(sweeper).count("expired items:") for sweeper in sweepers)


def test_a_live_move_is_not_taken_back_by_a_fast_sweeper_nor_from_a_slow_worker(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    redis = Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"])
    gate = Gate(redis, "clock-gate")
    sweepers = [
        skewed(deployment, FAST, "sweep", "--every", str(SWEEP_SECONDS)),
        skewed(deployment, SLOW, "sweep", "--every", str(SWEEP_SECONDS)),
    ]
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            skewed(deployment, SLOW, gate="clock-gate")
            # The move goes on a batch at a time, held at the gate while both sweepers run a
            # round: each round sees it Aan het verwerken, its lease beating.
            for _ in range(HELD_ROUNDS):
                gate.allow(BATCH_SIZE + 2)
                wait_for(gate.holds, "a copy held at the gate", timeout=MOVE_SECONDS)
                rounds = sweep_rounds(deployment, sweepers)
                wait_for(
                    lambda rounds=rounds: sweep_rounds(deployment, sweepers) >= rounds + 2,
                    "a round of each sweeper",
                    timeout=MOVE_SECONDS,
                )
                assert watch.read().status is ItemStatus.PROCESSING
            gate.allow(DOCUMENTS * 10)
            watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
        finally:
            watch.stop()
            redis.close()
        with runtime.deps.uow() as uow:
            events = [change.event for change in uow.items.status_changes(move.item_id)]
        assert "lease_expired" not in events
        assert events.count("claim") == watch.mark.attempts == 1
        assert_moved(runtime, move, archive_roots, move.blobs)


def test_a_dead_fast_workers_move_is_taken_back_after_the_lease_and_a_slow_sweepers_round(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    redis = Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"])
    gate = Gate(redis, "clock-gate")
    skewed(deployment, SLOW, "sweep", "--every", str(SWEEP_SECONDS))
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            gate.allow(BATCH_SIZE + 2)
            fast = skewed(deployment, FAST, gate="clock-gate")
            wait_for(gate.holds, "a copy held at the gate", timeout=MOVE_SECONDS)
            deployment.kill(fast)
            killed_at, reached = time.monotonic(), watch.read()
            assert reached.status is ItemStatus.PROCESSING
            gate.allow(DOCUMENTS * 10)
            listening = deployment.listening(skewed(deployment, SLOW, gate="clock-gate"))
            went_on = watch.wait_beyond(reached, timeout=MOVE_SECONDS)
            stood_still = recovery(killed_at, listening, went_on)
            watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
        finally:
            watch.stop()
            redis.close()
        print(
            f"\nworker 10 min fast killed, sweeper 60 s slow: the move went on {stood_still:.2f} s"
            f" after the kill (lease {LEASE_SECONDS} s, sweep every {SWEEP_SECONDS} s)"
        )
        assert stood_still <= RECOVERY_BOUND
        assert watch.mark.attempts == 2
        assert_moved(runtime, move, archive_roots, move.blobs)
