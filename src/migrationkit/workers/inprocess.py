"""The embedded job queue: for one machine without Redis, a daemon thread in this process
runs the same engine functions that an RQ worker runs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import attrs

from migrationkit.adapters.logs import bound, carried
from migrationkit.ports import ArchiveStores, DocumentBatch
from migrationkit.services import engine
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.sweeping import sweep

log = logging.getLogger(__name__)


@attrs.frozen
class _RunMigration:
    """The wake-up of one migration."""

    migration_id: int
    #: What it carried from where it was enqueued, for the logs (not part of its identity).
    carried: dict[str, str] = attrs.field(factory=carried, eq=False, repr=False)

    def run(self, deps: Dependencies, archives: ArchiveStores) -> None:
        engine.run_migration(deps, archives, self.migration_id)


@attrs.frozen
class _RunBatches:
    """A big archive's fan-out: its batches one after the other, then the finish, which runs
    whatever became of the batches (as RQ's finishing job does)."""

    migration_id: int
    batches: tuple[DocumentBatch, ...]
    carried: dict[str, str] = attrs.field(factory=carried, eq=False, repr=False)

    def run(self, deps: Dependencies, archives: ArchiveStores) -> None:
        for batch in self.batches:
            try:
                engine.copy_batch(deps, archives, batch.migration_id, batch.first_id, batch.last_id)
            except Exception:  # the finish copies what a failed batch left
                log.exception("batch %s of migration %s failed", batch, self.migration_id)
        engine.finish_migration(deps, archives, self.migration_id)


_Job = _RunMigration | _RunBatches


class InProcessQueue:
    """A ``JobQueue`` whose jobs wait in this process, each once while it waits.

    Until ``start`` gives it a worker, jobs only wait: ``pending`` shows them and ``drain``
    hands the migrations' wake-ups to a caller (the demo and the tests' fake use this).
    Jobs are lost when the process ends; the worker's sweep finds their migrations again in
    the database when it starts.
    """

    def __init__(self) -> None:
        self._jobs: list[_Job] = []
        self._condition = threading.Condition()
        self._busy = False
        self._stopping = False
        self._worker: threading.Thread | None = None

    def enqueue_migration(self, migration_id: int) -> None:
        self._put(_RunMigration(migration_id))

    def enqueue_batches(self, migration_id: int, batches: Sequence[DocumentBatch]) -> None:
        self._put(_RunBatches(migration_id, tuple(batches)))

    def _put(self, job: _Job) -> None:
        with self._condition:
            if job not in self._jobs:
                self._jobs.append(job)
                self._condition.notify_all()

    @property
    def pending(self) -> tuple[int, ...]:
        """The migration of each waiting job, oldest first."""
        with self._condition:
            return tuple(job.migration_id for job in self._jobs)

    def drain(self, run: Callable[[int], object]) -> int:
        """Hands each waiting wake-up of a migration to ``run``, oldest first; how many.
        Fan-outs keep waiting."""
        ran = 0
        while True:
            with self._condition:
                wake_up = next((j for j in self._jobs if isinstance(j, _RunMigration)), None)
                if wake_up is None:
                    return ran
                self._jobs.remove(wake_up)
            run(wake_up.migration_id)
            ran += 1

    def start(
        self, deps: Dependencies, archives: ArchiveStores, *, sweep_every: float | None = 60.0
    ) -> None:
        """Runs ``work`` in a daemon thread until ``stop``."""
        with self._condition:
            if self._worker is not None:
                raise RuntimeError("this queue has a worker already")
            self._stopping = False
            self._busy = True  # until the worker first finds nothing to do
            self._worker = threading.Thread(
                target=self.work,
                args=(deps, archives),
                kwargs={"sweep_every": sweep_every},
                name="migrationkit-worker",
                daemon=True,
            )
            self._worker.start()

    def stop(self, timeout: float | None = None) -> None:
        """Lets the job in hand end, then stops the worker; waiting jobs stay."""
        with self._condition:
            worker, self._worker = self._worker, None
            self._stopping = True
            self._condition.notify_all()
        if worker is not None:
            worker.join(timeout)

    def wait_until_idle(self, timeout: float) -> bool:
        """Waits until no job waits or runs; whether that happened within ``timeout``
        seconds."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def work(
        self,
        deps: Dependencies,
        archives: ArchiveStores,
        *,
        sweep_every: float | None = 60.0,
        burst: bool = False,
    ) -> None:
        """Runs each job as it arrives, oldest first, and sweeps
        (``services.sweeping.sweep``) at once and then every ``sweep_every`` seconds,
        unless that is ``None``: the sweep finds the migrations that should run, also those
        whose wake-ups a stopped process lost. Returns on ``stop``, or with ``burst`` as
        soon as no job waits. ``deps.queue`` should be this queue, so that the sweep's and
        the engine's wake-ups come back here."""
        next_sweep = time.monotonic() if sweep_every is not None else None
        while True:
            with self._condition:
                while not (self._stopping or self._jobs or burst or _due(next_sweep)):
                    self._idle()
                    self._condition.wait(None if next_sweep is None else _left(next_sweep))
                if self._stopping or not (self._jobs or _due(next_sweep)):
                    self._idle()
                    return
                job = None if _due(next_sweep) else self._jobs.pop(0)
                self._busy = True
            try:
                if job is None:
                    assert sweep_every is not None
                    next_sweep = time.monotonic() + sweep_every
                    sweep(deps)
                else:
                    with bound(job.carried):
                        job.run(deps, archives)
            except Exception:  # the database holds the truth; the next sweep tries again
                log.exception("in-process job %s failed", job or "sweep")

    def _idle(self) -> None:
        self._busy = False
        self._condition.notify_all()


def _due(moment: float | None) -> bool:
    return moment is not None and time.monotonic() >= moment


def _left(moment: float) -> float:
    return max(0.0, moment - time.monotonic())
