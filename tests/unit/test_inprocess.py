"""The embedded worker: jobs wait in the process, each once, and a daemon thread runs them
with the same engine functions an RQ worker runs; its sweep finds lost wake-ups."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
import pytest

from migrationkit.domain.model import Administration, ItemStatus
from migrationkit.ports import DocumentBatch
from migrationkit.workers.inprocess import InProcessQueue

if TYPE_CHECKING:
    from conftest import Scene

WAIT = 10.0


@pytest.fixture
def queue(scene: Scene) -> Iterator[InProcessQueue]:
    """An in-process queue that the scene's use cases enqueue on, with batches of two
    documents; its worker is stopped after the test."""
    queue = InProcessQueue()
    policy = attrs.evolve(scene.deps.policy, batch_size=2)
    scene.deps = attrs.evolve(scene.deps, queue=queue, policy=policy)
    yield queue
    queue.stop(WAIT)


def archived(scene: Scene, count: int) -> Administration:
    """An administration of Noord with ``count`` documents whose bytes are in Noord's store."""
    administration = scene.administration()
    store = scene.world.archives.store(scene.noord.environment.archive_store)
    with scene.world.uow() as uow:
        for number in range(count):
            blob = store.write(io.BytesIO(f"factuur {number}".encode()))
            uow.documents.add(
                administration.id,
                filename=f"factuur-{number}.pdf",
                content_type="application/pdf",
                size=blob.size,
                sha256=blob.sha256,
                archive_store=store.name,
                blob_key=blob.key,
                received_at=scene.world.clock.now(),
            )
        uow.commit()
    return administration


def test_without_a_worker_each_job_waits_once_in_order() -> None:
    queue = InProcessQueue()
    batches = (DocumentBatch(3, 1, 2), DocumentBatch(3, 3, 4))

    queue.enqueue_migration(2)
    queue.enqueue_migration(1)
    queue.enqueue_migration(2)
    queue.enqueue_batches(3, batches)
    queue.enqueue_batches(3, batches)

    waiting = queue.pending
    handed: list[int] = []
    ran = queue.drain(handed.append)

    assert waiting == (2, 1, 3)
    assert (ran, handed) == (2, [2, 1])
    assert queue.pending == (3,)


def test_the_worker_moves_an_archive_across_stores_in_batches_then_finishes(
    scene: Scene, queue: InProcessQueue
) -> None:
    queue.start(scene.deps, scene.world.archives, sweep_every=None)
    administration = archived(scene, 5)
    source = dict(scene.world.archives.store("noord").blobs)

    _, migration = scene.started(administration)

    assert queue.wait_until_idle(WAIT)
    assert scene.status(migration.item_id) is ItemStatus.COMPLETED
    assert scene.world.archives.store("zuid").blobs == source
    with scene.world.uow() as uow:
        copies = uow.copies.totals(migration.id)
        charges = uow.charges.list_for_environment(scene.zuid.environment.id)
    assert copies.documents == 5
    assert [charge.migration_id for charge in charges] == [migration.id]


def test_a_job_that_fails_is_logged_and_the_worker_goes_on(
    scene: Scene, queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    queue.start(scene.deps, scene.world.archives, sweep_every=None)

    queue.enqueue_migration(404)
    _, migration = scene.started(archived(scene, 1))

    assert queue.wait_until_idle(WAIT)
    assert scene.status(migration.item_id) is ItemStatus.COMPLETED
    assert "in-process job _RunMigration(migration_id=404) failed" in caplog.messages


def test_its_first_sweep_runs_what_the_database_says_should_run(
    scene: Scene, queue: InProcessQueue
) -> None:
    """A process that stopped lost its waiting jobs; the next one finds them."""
    _, migration = scene.started(archived(scene, 3))
    queue.drain(lambda _: None)

    queue.start(scene.deps, scene.world.archives, sweep_every=60)

    assert queue.wait_until_idle(WAIT)
    assert scene.status(migration.item_id) is ItemStatus.COMPLETED


def test_in_burst_mode_the_worker_returns_once_nothing_waits(
    scene: Scene, queue: InProcessQueue
) -> None:
    _, migration = scene.started(archived(scene, 3))

    queue.work(scene.deps, scene.world.archives, sweep_every=None, burst=True)

    assert scene.status(migration.item_id) is ItemStatus.COMPLETED
    assert queue.pending == ()


def test_a_stopped_worker_leaves_new_jobs_waiting(scene: Scene, queue: InProcessQueue) -> None:
    queue.start(scene.deps, scene.world.archives, sweep_every=None)
    queue.stop(WAIT)

    _, migration = scene.started(archived(scene, 1))

    assert queue.pending == (migration.id,)
    assert scene.status(migration.item_id) is ItemStatus.QUEUED


def test_a_queue_takes_one_worker_only(scene: Scene, queue: InProcessQueue) -> None:
    queue.start(scene.deps, scene.world.archives, sweep_every=None)

    with pytest.raises(RuntimeError, match="has a worker already"):
        queue.start(scene.deps, scene.world.archives)


def test_no_worker_logs_at_import(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        InProcessQueue()
    assert caplog.records == []
