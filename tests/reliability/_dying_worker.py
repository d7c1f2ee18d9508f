"""``migrationkit worker``, except that a work-horse kills itself and its worker by SIGKILL
right after Zuid's store has written the ``DIE_AFTER_COPIES``-th blob of its job, before the
batch commits: the deterministic moment of the reliability tests' crash.

Run as ``python _dying_worker.py`` with the deployment's ``MIGRATIONKIT_*`` variables and
``DIE_AFTER_COPIES``. Test code only: the product's own worker is wired the same way, from
the environment, without the wrapper.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from redis import Redis

from migrationkit.adapters.rq import jobs, run_worker
from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings
from migrationkit.ports import ArchiveStore, ArchiveStores, StoredBlob
from migrationkit.services.dependencies import Dependencies

TARGET_STORE = "zuid"


class DyingStore:
    """Zuid's store, counting the blobs it copies in this process; after the ``limit``-th
    the work-horse and its parent, the worker, die."""

    def __init__(self, store: ArchiveStore, limit: int) -> None:
        self._store = store
        self._limit = limit
        self._copies = 0
        self.name = store.name

    def copy_from(self, source: ArchiveStore, key: str, *, sha256: str) -> StoredBlob:
        blob = self._store.copy_from(source, key, sha256=sha256)
        self._copies += 1
        if self._copies == self._limit:
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        return blob

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class DyingStores:
    def __init__(self, stores: ArchiveStores, limit: int) -> None:
        self._stores = stores
        self._limit = limit
        self._target: DyingStore | None = None

    def store(self, name: str) -> ArchiveStore:
        if name != TARGET_STORE:
            return self._stores.store(name)
        if self._target is None:
            self._target = DyingStore(self._stores.store(name), self._limit)
        return self._target  # type: ignore[return-value]


def wiring() -> tuple[Dependencies, ArchiveStores]:
    """What ``migrationkit worker`` gives each work-horse, with Zuid's store dying."""
    runtime = build_runtime(Settings.from_environ())
    return runtime.deps, DyingStores(runtime.archives, int(os.environ["DIE_AFTER_COPIES"]))


if __name__ == "__main__":
    settings = Settings.from_environ()
    assert settings.redis_url is not None
    jobs.install(wiring)
    run_worker(Redis.from_url(settings.redis_url), settings.queue_name)
