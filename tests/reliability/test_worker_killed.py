"""A worker killed by SIGKILL, its RQ parent and work-horse at once, in the middle of a move
across stores: the move comes back within the lease and a sweep interval, resumes from its
last committed batch and ends Voltooid with every document once, byte for byte, one charge,
each e-mail once, and no blob left over in either store."""

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
    runtime_of,
    temporaries,
    wait_for_emails,
)
from _deployment import DISPATCH_SECONDS, LEASE_SECONDS, SWEEP_SECONDS, Deployment, MailServer
from _moves import start_move

from migrationkit.domain.model import ItemStatus
from migrationkit.services import engine

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 2_000
KILLS = 10
#: The most a worker works, after the move last went on, before it is killed: a moment
#: drawn at random up to this many seconds.
MOST_WORK_BEFORE_A_KILL = 0.3
#: What recovery may take beyond the lease and one sweep interval (the documented bound):
#: for the worker to take the job it is handed, fork, connect and claim, on a busy machine.
PICKUP_SECONDS = 2.0
RECOVERY_BOUND = LEASE_SECONDS + SWEEP_SECONDS + PICKUP_SECONDS
#: The whole move, kills and recoveries included, has this long.
MOVE_SECONDS = 120

DYING_WORKER = Path(__file__).with_name("_dying_worker.py")


def test_a_move_survives_its_worker_killed_ten_times_in_a_row(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    mail_server: MailServer,
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    deployment.start("dispatch-mail", "--every", str(DISPATCH_SECONDS))
    watch = Watch(runtime, move)
    seed = random.randrange(2**32)
    moments = random.Random(seed)
    recoveries = []
    try:
        worker = deployment.start("worker")
        watch.wait_beyond(watch.mark, timeout=MOVE_SECONDS)
        for kill in range(KILLS):
            time.sleep(moments.uniform(0, MOST_WORK_BEFORE_A_KILL))
            deployment.kill(worker)
            killed_at, reached = time.monotonic(), watch.read()
            assert reached.status is ItemStatus.PROCESSING, f"done after {kill} kills, seed {seed}"
            worker = deployment.start("worker")
            recoveries.append(watch.wait_beyond(reached, timeout=MOVE_SECONDS) - killed_at)
        watch.wait_status(ItemStatus.COMPLETED, timeout=MOVE_SECONDS)
    finally:
        watch.stop()

    # Also after the last kill: the longest the move stood still.
    stalls = [later - earlier for earlier, later in itertools.pairwise(watch.advances())]
    print(
        f"\n{KILLS} SIGKILLs of the worker (seed {seed}); lease {LEASE_SECONDS} s, sweep every"
        f" {SWEEP_SECONDS} s, bound {RECOVERY_BOUND} s\n"
        f"recovery after each kill (s): {', '.join(f'{r:.2f}' for r in recoveries)}\n"
        f"longest: {max(recoveries):.2f} s; longest standstill of the move: {max(stalls):.2f} s;"
        f" claims: {watch.mark.attempts}; temporary files left by the kills in Zuid's store:"
        f" {len(temporaries(archive_roots['zuid']))}"
    )
    assert max(recoveries) <= RECOVERY_BOUND, deployment.logs_tail()
    assert max(stalls) <= RECOVERY_BOUND
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

    dying = deployment.start(program=[str(DYING_WORKER)], extra={"DIE_AFTER_COPIES": "30"})
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
