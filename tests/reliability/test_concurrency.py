"""Two workers handed the same migration, and documents uploaded while it moves: one claim
does the work, and the move ends only with every document in the target."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from _checks import Watch, assert_moved, runtime_of
from _deployment import SWEEP_SECONDS, WAIT_SECONDS, Deployment, wait_for
from _moves import start_move
from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from migrationkit.adapters.rq.queue import JOBS
from migrationkit.domain.errors import NotFound
from migrationkit.domain.model import ItemStatus
from migrationkit.services import archive

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Three batches of the tests' 100, so that the batches are shared too.
DOCUMENTS = 300
#: The archive that uploads arrive in while it moves: ten batches.
MOVING_DOCUMENTS = 1_000


def test_of_two_workers_handed_the_same_migration_one_claims_it_and_does_the_work(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    workers = [deployment.start("worker"), deployment.start("worker")]
    queue_name, redis_url = environment["MIGRATIONKIT_QUEUE"], environment["MIGRATIONKIT_REDIS_URL"]
    with Redis.from_url(redis_url) as connection:
        queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
        wait_for(lambda: Worker.count(queue=queue) == 2, "both workers to listen")
        # The start enqueues its wake-up; a second one for the same migration, as a sweeper
        # that raced the first would send, goes to the other worker while the first runs.
        move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
        queue.enqueue_call(
            f"{JOBS}.run_migration", args=(move.migration_id,), job_id="the-same-again"
        )
        watch = Watch(runtime, move)
        try:
            watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        finally:
            watch.stop()
        for job_id in (f"migration-{move.migration_id}", "the-same-again"):
            job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
            wait_for(lambda job=job: job.get_status() is JobStatus.FINISHED, f"{job_id} to end")

    handed = [
        worker
        for worker in workers
        if f"run_migration({move.migration_id})" in deployment.log(worker)
    ]
    assert len(handed) == 2, deployment.logs_tail()
    with runtime.deps.uow() as uow:
        events = [change.event for change in uow.items.status_changes(move.item_id)]
        migration = uow.migrations.get(move.migration_id)
    assert events == ["offer", "start", "claim", "complete"]
    assert migration is not None
    assert migration.attempts == 1
    assert_moved(runtime, move, archive_roots, move.blobs)


class Uploader(threading.Thread):
    """Uploads documents into the administration as Noord's super user, one after the
    other, until the administration is no longer Noord's; notes the status of the move
    that each upload saw."""

    def __init__(self, environment: dict[str, str], administration_id: int, watch: Watch):
        super().__init__(daemon=True)
        self.runtime, _ = runtime_of(environment)
        self.administration_id = administration_id
        self.watch = watch
        #: The bytes of each document uploaded, by SHA-256, with the status it was added in.
        self.uploaded: dict[str, tuple[bytes, ItemStatus]] = {}

    def run(self) -> None:
        deps = self.runtime.deps
        with deps.uow() as uow:
            sender = uow.users.get_by_email("baas@noord.nl")
        assert sender is not None
        for number in range(100_000):
            content = f"%PDF-1.7 geupload tijdens de migratie {number}".encode()
            status = self.watch.mark.status
            try:
                document = archive.add_document(
                    deps,
                    self.runtime.archives,
                    actor_id=sender.id,
                    administration_id=self.administration_id,
                    filename=f"upload-{number}.pdf",
                    stream=io.BytesIO(content),
                )
            except NotFound:  # it belongs to Zuid now
                return
            self.uploaded[document.sha256] = (content, status)
            time.sleep(0.01)


def test_documents_uploaded_while_the_archive_moves_all_end_up_in_the_target(
    deployment: Deployment, environment: dict[str, str], archive_roots: dict[str, Path]
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=MOVING_DOCUMENTS)
    with runtime.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
    assert migration is not None
    watch = Watch(runtime, move)
    uploader = Uploader(environment, migration.administration_id, watch)
    try:
        uploader.start()
        deployment.start("sweep", "--every", str(SWEEP_SECONDS))
        deployment.start("worker")
        watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        uploader.join(WAIT_SECONDS)
    finally:
        watch.stop()

    statuses = [status for _, status in uploader.uploaded.values()]
    assert statuses.count(ItemStatus.PROCESSING) >= 10, statuses
    contents = move.blobs | {sha256: content for sha256, (content, _) in uploader.uploaded.items()}
    assert_moved(runtime, move, archive_roots, contents)
