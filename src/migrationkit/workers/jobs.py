"""The functions that RQ workers run, by their dotted paths, with plain int arguments.

Each builds the process's dependencies once, with the builder that ``install`` was given
(``migrationkit worker`` gives one that reads the environment), and calls the engine. A
forked work-horse builds its own, so no database connection crosses a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from migrationkit.ports import ArchiveStores
from migrationkit.services import engine
from migrationkit.services.dependencies import Dependencies

#: What a job needs: the use cases' dependencies and the archive stores.
Wiring = tuple[Dependencies, ArchiveStores]

_build: Callable[[], Wiring] | None = None
_wiring: Wiring | None = None
_wired_in_process: int | None = None


def install(build: Callable[[], Wiring]) -> None:
    """Sets how the jobs of this process (and of the work-horses it forks) get their
    dependencies; nothing is built before the first job."""
    global _build, _wiring
    _build, _wiring = build, None


def _wired() -> Wiring:
    global _wiring, _wired_in_process
    if _build is None:
        raise RuntimeError("migrationkit jobs run in `migrationkit worker`, which wires them")
    if _wiring is None or _wired_in_process != os.getpid():
        _wiring, _wired_in_process = _build(), os.getpid()
    return _wiring


def run_migration(migration_id: int) -> None:
    """The wake-up of one migration."""
    engine.run_migration(*_wired(), migration_id)


def copy_batch(migration_id: int, first_id: int, last_id: int) -> None:
    """One batch of a big archive's move across stores."""
    engine.copy_batch(*_wired(), migration_id, first_id, last_id)


def finish_migration(migration_id: int) -> None:
    """The finishing job, after every batch job has ended."""
    engine.finish_migration(*_wired(), migration_id)
