"""A worker frozen (SIGSTOP) inside the finishing transaction, holding the migration's row
and the administration: PostgreSQL ends its idle transaction after
``MIGRATIONKIT_DB_IDLE_IN_TRANSACTION_SECONDS``, so its locks go; an upload that came
meanwhile goes through while the worker is still frozen; the lease runs out and another
worker takes the move over and finishes it. Once the frozen worker thaws, its session is gone
and it changes nothing: one Voltooid move with every document, the upload included, once."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import pytest
from _checks import Watch, assert_moved, runtime_of
from _deployment import SWEEP_SECONDS, WAIT_SECONDS, Deployment, wait_for
from _moves import start_move

from migrationkit.domain.model import ItemStatus
from migrationkit.services import archive as archive_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 50
#: How long the server lets a transaction sit idle here; an upload waits for a lock at
#: most ``LOCK_TIMEOUT_SECONDS``, so it outwaits a frozen holder.
IDLE_IN_TRANSACTION_SECONDS = 5
LOCK_TIMEOUT_SECONDS = 30
GATED_WORKER = Path(__file__).with_name("_gated_worker.py")
UPLOAD = b"%PDF-1.4 een bon die binnenkwam terwijl de werker bevroren was"


def state(pid: int) -> str:
    """The process's state letter from /proc ("T": stopped); "gone" once it has ended."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return "gone"


def test_a_worker_frozen_in_the_finish_loses_its_locks_and_its_move_is_taken_over(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    tmp_path: Path,
) -> None:
    environment["MIGRATIONKIT_DB_IDLE_IN_TRANSACTION_SECONDS"] = str(IDLE_IN_TRANSACTION_SECONDS)
    environment["MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS"] = str(LOCK_TIMEOUT_SECONDS)
    freeze = tmp_path / "freeze"
    freeze.mkdir()
    runtime, connectors = runtime_of(environment)
    for _ in range(2):
        deployment.start(program=[str(GATED_WORKER)], extra={"FREEZE_IN_FINISH": str(freeze)})
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    with runtime.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
        item = uow.items.get(move.item_id)
        assert migration is not None
        assert item is not None
        offer = uow.offers.get(item.offer_id)
        assert offer is not None
    watch = Watch(runtime, move)
    frozen = 0
    try:
        wait_for(
            lambda: (freeze / "frozen").exists() and (freeze / "frozen").read_text(),
            "a worker to freeze in the finishing transaction",
        )
        frozen = int((freeze / "frozen").read_text())
        wait_for(lambda: state(frozen) == "T", "the frozen work-horse to stop")

        # An upload into the administration the frozen transaction holds.
        document = archive_service.add_document(
            runtime.deps,
            runtime.archives,
            actor_id=offer.sender_user_id,
            administration_id=migration.administration_id,
            filename="bon.pdf",
            stream=io.BytesIO(UPLOAD),
        )
        assert state(frozen) == "T", "the upload went through only once the worker thawed"

        watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        assert state(frozen) == "T", "the move was finished by the frozen worker"
    finally:
        watch.stop()
        if frozen:
            os.kill(frozen, signal.SIGCONT)
    wait_for(lambda: state(frozen) in ("gone", "Z"), "the thawed work-horse to end")

    contents = move.blobs | {document.sha256: UPLOAD}
    assert_moved(runtime, move, archive_roots, contents)
    assert watch.mark.attempts == 2  # the frozen worker's claim, and the one that took over
