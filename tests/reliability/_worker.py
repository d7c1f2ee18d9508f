"""``migrationkit worker`` with Zuid's store wrapped, for the reliability tests' crashes at
moments they choose:

- ``DIE_AFTER_COPIES=N``: a work-horse kills itself and its worker by SIGKILL right after
  Zuid's store has written the N-th blob of its job, before the batch commits.
- ``COPY_GATE=KEY``: every copy into Zuid's store first passes a gate in Redis (``Gate``):
  it counts itself in ``KEY:asked`` and waits while more copies were asked for than the
  test allowed in ``KEY:allowed``. The test lets a number of copies through, waits until
  the next one is held, and kills the worker there: a kill in the middle of the copying,
  however fast the machine.

Run as ``python _worker.py`` with the deployment's ``MIGRATIONKIT_*`` variables. Test code
only: the product's own worker is wired the same way, from the environment, without the
wrapper.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from redis import Redis

from migrationkit.adapters.logs import configure_logging
from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings
from migrationkit.ports import ArchiveStore, ArchiveStores, StoredBlob
from migrationkit.services.dependencies import Dependencies
from migrationkit.workers.jobs import WorkerContext
from migrationkit.workers.rq_worker import run_worker

TARGET_STORE = "zuid"
#: How often a copy held at the gate looks whether it may go.
GATE_POLL_SECONDS = 0.01


class Gate:
    """Copies let through by the test: ``KEY:asked`` counts those asked for, ``KEY:allowed``
    is how many may pass in all."""

    def __init__(self, connection: Redis, key: str) -> None:
        self._connection = connection
        self.asked = f"{key}:asked"
        self.allowed = f"{key}:allowed"

    def pass_through(self) -> None:
        """Waits until this copy is allowed."""
        number = int(self._connection.incr(self.asked))
        while number > int(self._connection.get(self.allowed) or 0):
            time.sleep(GATE_POLL_SECONDS)

    def allow(self, copies: int) -> None:
        """Lets ``copies`` more through, counted from the copies that passed: those held
        by a worker that was killed are forgotten."""
        passed = int(self._connection.get(self.allowed) or 0)
        self._connection.set(self.asked, passed)
        self._connection.set(self.allowed, passed + copies)

    def holds(self) -> bool:
        """Whether a copy waits at the gate."""
        return int(self._connection.get(self.asked) or 0) > int(
            self._connection.get(self.allowed) or 0
        )


class WrappedStore:
    """Zuid's store, behind the gate or dying after its ``die_after``-th copy in this
    process."""

    def __init__(self, store: ArchiveStore, gate: Gate | None, die_after: int | None) -> None:
        self._store = store
        self._gate = gate
        self._die_after = die_after
        self._copies = 0
        self.name = store.name

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        if self._gate is not None:
            self._gate.pass_through()
        blob = self._store.copy_from(source, key, sha256=sha256, size=size)
        self._copies += 1
        if self._copies == self._die_after:
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        return blob

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class WrappedStores:
    def __init__(self, stores: ArchiveStores, gate: Gate | None, die_after: int | None) -> None:
        self._stores = stores
        self._gate = gate
        self._die_after = die_after
        self._target: WrappedStore | None = None

    def store(self, name: str) -> ArchiveStore:
        if name != TARGET_STORE:
            return self._stores.store(name)
        if self._target is None:
            self._target = WrappedStore(self._stores.store(name), self._gate, self._die_after)
        return self._target  # type: ignore[return-value]


def wiring() -> tuple[Dependencies, ArchiveStores]:
    """What ``migrationkit worker`` gives each work-horse, with Zuid's store wrapped."""
    settings = Settings.from_environ()
    runtime = build_runtime(settings)
    gate_key = os.environ.get("COPY_GATE")
    die_after = os.environ.get("DIE_AFTER_COPIES")
    gate = None
    if gate_key is not None:
        assert settings.redis_url is not None
        gate = Gate(Redis.from_url(settings.redis_url), gate_key)
    return runtime.deps, WrappedStores(
        runtime.archives, gate, None if die_after is None else int(die_after)
    )


if __name__ == "__main__":
    settings = Settings.from_environ()
    assert settings.redis_url is not None
    configure_logging(settings.log_format, settings.log_level)  # as `migrationkit worker`
    run_worker(Redis.from_url(settings.redis_url), settings.queue_name, WorkerContext(wiring))
