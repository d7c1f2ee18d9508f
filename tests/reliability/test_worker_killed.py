"""A worker killed by SIGKILL, its RQ parent and work-horse at once, in the middle of a move
across stores: the move comes back within the lease and a sweep interval, resumes from its
last committed batch and ends Voltooid with every document once, byte for byte, one charge,
each e-mail once, and no blob left over in either store.

The kills land in the middle of the copying whatever the machine's speed: the workers copy
through a gate (``_worker.Gate``) that lets a number of copies through and holds the next,
and each kill comes while a copy is held there. On any failure the test prints the
database's, RQ's and the processes' view of the move (``_checks.explained``)."""

from __future__ import annotations

import itertools
import os
import random
import signal
import time
from pathlib import Path

import pytest
from _checks import (
    Watch,
    assert_each_sent_once,
    assert_moved,
    blob_keys,
    explained,
    runtime_of,
    temporaries,
    wait_for_emails,
)
from _deployment import (
    BATCH_SIZE,
    DISPATCH_SECONDS,
    LEASE_SECONDS,
    MOVE_SECONDS,
    RECOVERY_BOUND,
    SWEEP_SECONDS,
    Deployment,
    MailServer,
    recovery,
    wait_for,
)
from _moves import start_move
from _worker import Gate
from redis import Redis

from migrationkit.domain.model import ItemStatus
from migrationkit.services import engine

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 2_000
KILLS = 10
#: How many copies the gate lets through before each kill: at least a batch, so that a
#: worker that took a batch job commits it (the move is seen to go on), and at most half a
#: batch more, a number drawn at random; ten times that is less than the archive, so every
#: kill finds the move in the middle of its copying.
LEAST_COPIES_BEFORE_A_KILL = BATCH_SIZE + 2
MOST_COPIES_BEFORE_A_KILL = BATCH_SIZE * 3 // 2
WORKER = Path(__file__).with_name("_worker.py")


def test_a_move_survives_its_worker_killed_ten_times_in_a_row(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    mail_server: MailServer,
) -> None:
    assert KILLS * MOST_COPIES_BEFORE_A_KILL < DOCUMENTS
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    redis = Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"])
    gate = Gate(redis, "copy-gate")
    gated = {"COPY_GATE": "copy-gate"}
    seed = random.randrange(2**32)
    copies = random.Random(seed)
    recoveries = []
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    deployment.start("dispatch-mail", "--every", str(DISPATCH_SECONDS))
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            gate.allow(copies.randint(LEAST_COPIES_BEFORE_A_KILL, MOST_COPIES_BEFORE_A_KILL))
            worker = deployment.start(program=[str(WORKER)], extra=gated)
            for kill in range(KILLS):
                # The worker copied what the gate allowed and waits at it: kill it there.
                held = f"a copy held at the gate before kill {kill + 1}"
                wait_for(gate.holds, held, timeout=MOVE_SECONDS)
                deployment.kill(worker)
                killed_at, reached = time.monotonic(), watch.read()
                assert reached.status is ItemStatus.PROCESSING, f"kill {kill + 1}, seed {seed}"
                assert reached.documents_done < DOCUMENTS
                more = copies.randint(LEAST_COPIES_BEFORE_A_KILL, MOST_COPIES_BEFORE_A_KILL)
                gate.allow(DOCUMENTS * KILLS if kill == KILLS - 1 else more)
                worker = deployment.start(program=[str(WORKER)], extra=gated)
                listening = deployment.listening(worker)
                went_on = watch.wait_beyond(reached, timeout=MOVE_SECONDS)
                recoveries.append(recovery(killed_at, listening, went_on))
            watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
        finally:
            watch.stop()
            redis.close()

        # Also after the last kill: the longest the move stood still (a worker's start
        # included, which the recoveries leave out where it came after the lease).
        stalls = [later - earlier for earlier, later in itertools.pairwise(watch.advances())]
        print(
            f"\n{KILLS} SIGKILLs of the worker mid-copy (seed {seed}); lease {LEASE_SECONDS} s,"
            f" sweep every {SWEEP_SECONDS} s, bound {RECOVERY_BOUND} s\n"
            f"recovery after each kill (s): {', '.join(f'{r:.2f}' for r in recoveries)}\n"
            f"longest: {max(recoveries):.2f} s; longest standstill of the move: {max(stalls):.2f}"
            f" s; claims: {watch.mark.attempts}; temporary files left by the kills in Zuid's"
            f" store: {len(temporaries(archive_roots['zuid']))}"
        )
        assert max(recoveries) <= RECOVERY_BOUND
        assert_moved(runtime, move, archive_roots, move.blobs)
        with runtime.deps.uow() as uow:
            events = [change.event for change in uow.items.status_changes(move.item_id)]
        assert events.count("complete") == 1
        assert events.count("claim") == watch.mark.attempts > 1
        sent = wait_for_emails(runtime)
        assert len(sent) == 4  # the code, the start, and the end to sender and recipient
        time.sleep(2 * DISPATCH_SECONDS)  # a round more: nothing is sent twice
        assert_each_sent_once(sent, mail_server.received())


def test_a_worker_killed_after_writing_a_blob_before_its_batch_commits_leaves_no_orphan(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=250)
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))

    dying = deployment.start(program=[str(WORKER)], extra={"DIE_AFTER_COPIES": "30"})
    dying.wait(MOVE_SECONDS)
    # The first batch's work-horse wrote 30 blobs into Zuid's store (one more, perhaps, by
    # its other copying thread) and died with them uncommitted: no copy is recorded.
    assert 30 <= len(blob_keys(archive_roots["zuid"])) < 30 + engine.COPY_THREADS
    with runtime.deps.uow() as uow:
        assert uow.copies.totals(move.migration_id).documents == 0
    assert dying.returncode == -signal.SIGKILL
    # A copy under way in another thread may have left a temporary file: an hour later,
    # the store deletes it when a process first copies into it.
    for temporary in temporaries(archive_roots["zuid"]):
        os.utime(temporary, (time.time() - 2 * 3600,) * 2)

    watch = Watch(runtime, move)
    try:
        deployment.start("worker")
        watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
    finally:
        watch.stop()

    assert_moved(runtime, move, archive_roots, move.blobs)
    assert temporaries(archive_roots["zuid"]) == []
