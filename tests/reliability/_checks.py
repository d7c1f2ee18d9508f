"""What the reliability tests share: the test process's own runtime (to arrange a move and
read the database), a watch on a migration's progress, the checks of a finished move, and
what a failing test prints: the database's, RQ's and the processes' view of the move."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs
import sqlalchemy
from _deployment import Deployment, wait_for
from _moves import Move
from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.serializers import JSONSerializer

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.bootstrap import Runtime, build_runtime
from migrationkit.config import Settings
from migrationkit.domain.model import ItemStatus

#: How often the watch reads the migration.
POLL_SECONDS = 0.05


def runtime_of(environment: Mapping[str, str]) -> tuple[Runtime, InMemoryConnectorRegistry]:
    """The runtime the test process arranges and checks with: the deployment's database,
    Redis and stores, with in-memory packages (those of the workers answer alike)."""
    connectors = InMemoryConnectorRegistry()
    return build_runtime(Settings.from_environ(environment), connectors=connectors), connectors


@attrs.frozen
class Mark:
    """Where a migration stands: status, claims so far, documents with a copy."""

    status: ItemStatus
    attempts: int
    documents_done: int

    def advanced_from(self, before: Mark) -> bool:
        """Whether a worker got on with it: a copy committed, a new claim, or the finish."""
        return (
            self.documents_done > before.documents_done
            or self.attempts > before.attempts
            or (self.status is ItemStatus.COMPLETED and before.status is not ItemStatus.COMPLETED)
        )


class Watch:
    """Reads a migration every ``POLL_SECONDS`` in a thread and keeps what it read, with
    when (``time.monotonic``)."""

    def __init__(self, runtime: Runtime, move: Move) -> None:
        self._runtime = runtime
        self._move = move
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._marks = [(time.monotonic(), self.read())]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def read(self) -> Mark:
        """The migration's mark now."""
        with self._runtime.deps.uow() as uow:
            migration = uow.migrations.get(self._move.migration_id)
            item = uow.items.get(self._move.item_id)
        assert migration is not None
        assert item is not None
        return Mark(item.status, migration.attempts, migration.documents_done)

    def _run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            mark = self.read()
            with self._lock:
                self._marks.append((time.monotonic(), mark))

    @property
    def mark(self) -> Mark:
        with self._lock:
            return self._marks[-1][1]

    def advances(self) -> list[float]:
        """The moments at which the migration was seen to have advanced."""
        with self._lock:
            return [
                at
                for (_, before), (at, mark) in itertools.pairwise(self._marks)
                if mark.advanced_from(before)
            ]

    def wait_beyond(self, reached: Mark, timeout: float) -> float:
        """Waits until the migration advanced from ``reached``; the moment it was seen."""

        def beyond() -> float | None:
            with self._lock:
                return next((at for at, mark in self._marks if mark.advanced_from(reached)), None)

        wait_for(beyond, "the move to go on", timeout=timeout)
        moment = beyond()
        assert moment is not None
        return moment

    def wait_status(self, status: ItemStatus, timeout: float) -> None:
        wait_for(lambda: self.mark.status is status, f"status {status.label_nl}", timeout=timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


def blob_keys(root: Path) -> set[str]:
    """The keys of the blobs in a local store's folder (its temporary files left out)."""
    if not root.exists():
        return set()
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != ".tmp"
    }


def temporaries(root: Path) -> list[Path]:
    """Temporary files a local store left behind (a worker killed half-way through a copy)."""
    folder = root / ".tmp"
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_moved(
    runtime: Runtime, move: Move, roots: Mapping[str, Path], contents: Mapping[str, bytes]
) -> None:
    """Voltooid, with every document of ``contents`` (bytes by SHA-256) once in Zuid's store,
    byte for byte; Zuid's store holds exactly those blobs; one copy per document and one
    charge; and once the source is released (a sweep after the grace period), Noord's store
    holds none of them."""
    with runtime.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
        item = uow.items.get(move.item_id)
        assert migration is not None
        assert item is not None
        documents = uow.documents.list_for_administration(migration.administration_id)
        copies = uow.copies.totals(migration.id)
        charges = uow.charges.list_for_environment(migration.target_environment_id)
    assert item.status is ItemStatus.COMPLETED
    assert sorted(document.sha256 for document in documents) == sorted(contents)
    assert {document.archive_store for document in documents} == {"zuid"}
    zuid = runtime.archives.store("zuid")
    for document in documents:
        with zuid.open(document.blob_key) as stored:
            assert stored.read() == contents[document.sha256], document.filename
    assert blob_keys(roots["zuid"]) == {document.blob_key for document in documents}
    assert copies.documents == len(documents)
    assert len(charges) == 1

    def released() -> bool:
        with runtime.deps.uow() as uow:
            migration = uow.migrations.get(move.migration_id)
        return migration is not None and migration.source_released_at is not None

    wait_for(released, "the source's blobs to be released")
    assert blob_keys(roots["noord"]) == set()


def wait_for_emails(runtime: Runtime) -> set[str]:
    """Waits until the outbox has nothing pending; the Message-ID of each of its e-mails."""

    def pending() -> int:
        with runtime.deps.uow() as uow:
            return len(uow.outbox.list_pending())

    wait_for(lambda: pending() == 0, "the outbox to be sent")
    with runtime.deps.uow() as uow:
        return {f"<outbox-{message.id}@localhost>" for message in uow.outbox.list_recent()}


def assert_each_sent_once(expected: set[str], received: Counter[str]) -> None:
    """Every e-mail of the outbox arrived, each exactly once, and nothing else."""
    assert received == Counter(dict.fromkeys(expected, 1))


@contextmanager
def explained(deployment: Deployment, environment: Mapping[str, str], move: Move) -> Iterator[None]:
    """Any failure inside is raised again with the database's, RQ's and the processes' view
    of the move (``describe``)."""
    try:
        yield
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        raise AssertionError(
            f"{error}\n{describe(environment, move)}\n{deployment.logs_tail(40)}"
        ) from error


def describe(environment: Mapping[str, str], move: Move) -> str:
    """The move as the database sees it (its status changes, lease, claims and progress,
    against the database's clock) and as RQ sees it (every job in its queue and registries,
    the workers, the scheduler's lock). Read with its own connections, so it works whatever
    the test's runtime is doing."""
    return "\n".join([*_database_view(environment, move), *_queue_view(environment)])


def _database_view(environment: Mapping[str, str], move: Move) -> list[str]:
    engine = sqlalchemy.create_engine(environment["MIGRATIONKIT_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            now = connection.execute(sqlalchemy.text("SELECT clock_timestamp()")).scalar()
            migration = (
                connection.execute(
                    sqlalchemy.text("SELECT * FROM migrations WHERE id = :id"),
                    {"id": move.migration_id},
                )
                .mappings()
                .one()
            )
            changes = connection.execute(
                sqlalchemy.text(
                    "SELECT at, from_status, to_status, event FROM status_changes"
                    " WHERE item_id = :id ORDER BY id"
                ),
                {"id": move.item_id},
            ).all()
            copies = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM document_copies WHERE migration_id = :id"),
                {"id": move.migration_id},
            ).scalar()
    finally:
        engine.dispose()
    fields = ", ".join(f"{name}={value}" for name, value in migration.items())
    return [
        "=== the database",
        f"now (the database's clock): {now}",
        f"migration: {fields}",
        f"copies recorded: {copies}",
        "status changes:",
        *(f"  {at} {before} -> {after} ({event})" for at, before, after, event in changes),
    ]


def _queue_view(environment: Mapping[str, str]) -> list[str]:
    name = environment["MIGRATIONKIT_QUEUE"]
    with Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"]) as connection:
        queue = Queue(name, connection=connection, serializer=JSONSerializer)
        places = {
            "queued": queue.job_ids,
            "taken, not started (intermediate)": queue.intermediate_queue.get_job_ids(),
            **{
                label: registry(queue=queue).get_job_ids(cleanup=False)
                for label, registry in (
                    ("started", StartedJobRegistry),
                    ("deferred", DeferredJobRegistry),
                    ("scheduled", ScheduledJobRegistry),
                    ("failed", FailedJobRegistry),
                    ("finished", FinishedJobRegistry),
                )
            },
        }
        lines = [f"=== RQ, queue {name}"]
        for label, job_ids in places.items():
            lines.append(f"{label}: {len(job_ids)}")
            lines.extend(f"  {_job(connection, job_id)}" for job_id in job_ids)
        lock = f"rq:scheduler-lock:{name}"
        lines.append(
            f"scheduler lock: {connection.get(lock)!r}, expires in {connection.ttl(lock)} s"
        )
        for worker in Worker.all(queue=queue):
            lines.append(
                f"worker {worker.name}: {worker.get_state()}, job {worker.get_current_job_id()},"
                f" last heartbeat {worker.last_heartbeat}"
            )
    return lines


def _job(connection: Redis, job_id: str) -> str:
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return f"{job_id}: gone"
    result = job.latest_result()
    error = result.exc_string.strip().splitlines()[-1] if result and result.exc_string else ""
    return (
        f"{job_id}: {job.get_status(refresh=False)}, retries left {job.retries_left},"
        f" enqueued {job.enqueued_at}, started {job.started_at}, ended {job.ended_at}"
        f"{', ' + error if error else ''}"
    )
