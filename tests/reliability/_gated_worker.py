"""``migrationkit worker`` with gates that a reliability test opens and closes through files,
so that a worker is caught at a chosen moment whatever the machine's speed:

- ``COPY_GATE=FOLDER``: Zuid's store copies nothing while ``FOLDER/hold`` exists; a worker
  whose work-horse waits there leaves ``FOLDER/waiting-<worker pid>``.
- ``FREEZE_IN_FINISH=FOLDER``: the first work-horse (of all the workers given the same
  folder) that holds an administration in the finishing transaction stops itself by SIGSTOP
  right after, with the transaction open and its locks held, as a frozen machine would;
  ``FOLDER/frozen`` holds its pid.

Also the job ``hold``, which keeps whichever worker takes it busy while ``FOLDER/hold``
exists. Run as ``python _gated_worker.py`` with the deployment's ``MIGRATIONKIT_*``
variables. Test code only: the product's own worker is wired the same way, from the
environment, without the gates.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import attrs
from redis import Redis

from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings
from migrationkit.domain.model import Administration
from migrationkit.ports import ArchiveStore, ArchiveStores, StoredBlob, UnitOfWork
from migrationkit.services.dependencies import Dependencies
from migrationkit.workers.jobs import WorkerContext
from migrationkit.workers.rq_worker import run_worker

TARGET_STORE = "zuid"
#: How often a closed gate is looked at again.
POLL_SECONDS = 0.05


def wait_at(folder: Path) -> None:
    """Waits while ``folder/hold`` exists, leaving word that this worker waits there."""
    if (folder / "hold").exists():
        (folder / f"waiting-{os.getppid()}").touch()
    while (folder / "hold").exists():
        time.sleep(POLL_SECONDS)


def hold(folder: str) -> None:
    """A job that keeps its worker busy while ``folder/hold`` exists."""
    wait_at(Path(folder))


class GatedStore:
    """Zuid's store, copying nothing while the gate is closed."""

    def __init__(self, store: ArchiveStore, gate: Path) -> None:
        self._store = store
        self._gate = gate
        self.name = store.name

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        wait_at(self._gate)
        return self._store.copy_from(source, key, sha256=sha256, size=size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class GatedStores:
    def __init__(self, stores: ArchiveStores, gate: Path) -> None:
        self._stores = stores
        self._gate = gate

    def store(self, name: str) -> ArchiveStore:
        store = self._stores.store(name)
        return GatedStore(store, self._gate) if name == TARGET_STORE else store  # type: ignore[return-value]


class FreezingAdministrations:
    """The administrations of a unit of work; the first ``lock`` in the finishing
    transaction (the only one a worker takes) freezes this process once it holds it."""

    def __init__(self, administrations: Any, folder: Path) -> None:
        self._administrations = administrations
        self._folder = folder

    def lock(self, administration_id: int) -> Administration | None:
        administration: Administration | None = self._administrations.lock(administration_id)
        try:
            # Only the first process to get here makes the file: one worker freezes.
            descriptor = os.open(self._folder / "frozen", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return administration
        os.write(descriptor, str(os.getpid()).encode())
        os.close(descriptor)
        os.kill(os.getpid(), signal.SIGSTOP)
        return administration

    def __getattr__(self, name: str) -> Any:
        return getattr(self._administrations, name)


class FreezingUnitOfWork:
    def __init__(self, uow: UnitOfWork, folder: Path) -> None:
        self._uow = uow
        self._folder = folder

    def __enter__(self) -> FreezingUnitOfWork:
        self._uow.__enter__()
        self.administrations = FreezingAdministrations(self._uow.administrations, self._folder)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._uow.__exit__(*exc_info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def wiring() -> tuple[Dependencies, ArchiveStores]:
    """What ``migrationkit worker`` gives each work-horse, with the gates asked for."""
    runtime = build_runtime(Settings.from_environ())
    deps, archives = runtime.deps, runtime.archives
    if copy_gate := os.environ.get("COPY_GATE"):
        archives = GatedStores(archives, Path(copy_gate))
    if freeze := os.environ.get("FREEZE_IN_FINISH"):
        factory = deps.uow
        deps = attrs.evolve(deps, uow=lambda: FreezingUnitOfWork(factory(), Path(freeze)))
    return deps, archives


if __name__ == "__main__":
    settings = Settings.from_environ()
    assert settings.redis_url is not None
    run_worker(Redis.from_url(settings.redis_url), settings.queue_name, WorkerContext(wiring))
