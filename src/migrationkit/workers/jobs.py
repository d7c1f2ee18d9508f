"""The functions that RQ workers run, by their dotted paths, with plain int arguments.

Each runs with the ``WorkerContext`` of the worker that took it (``run_worker`` binds it
around every job; ``migrationkit worker`` gives one that reads the environment) and calls the
engine. The context builds the dependencies once per process, at the first job: a forked
work-horse builds its own, so no database connection crosses a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

from migrationkit.ports import ArchiveStores
from migrationkit.services import engine
from migrationkit.services.dependencies import Dependencies

#: What a job needs: the use cases' dependencies and the archive stores.
Wiring = tuple[Dependencies, ArchiveStores]


@attrs.define(eq=False)
class WorkerContext:
    """What the jobs of one worker run with: ``build`` makes the dependencies, once per
    process, at the first job that needs them."""

    build: Callable[[], Wiring]
    _wiring: Wiring | None = attrs.field(default=None, init=False)
    _built_in_process: int | None = attrs.field(default=None, init=False)

    def wiring(self) -> Wiring:
        """The dependencies of this process, built now if this process has none yet."""
        if self._wiring is None or self._built_in_process != os.getpid():
            self._wiring, self._built_in_process = self.build(), os.getpid()
        return self._wiring


_current: ContextVar[WorkerContext] = ContextVar("migrationkit_worker_context")


@contextmanager
def running_with(context: WorkerContext) -> Iterator[None]:
    """The job functions called inside run with ``context``."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def _wired() -> Wiring:
    try:
        context = _current.get()
    except LookupError:
        raise RuntimeError(
            "migrationkit jobs run in `migrationkit worker`, which wires them"
        ) from None
    return context.wiring()


def run_migration(migration_id: int) -> None:
    """The wake-up of one migration."""
    engine.run_migration(*_wired(), migration_id)


def copy_batch(migration_id: int, first_id: int, last_id: int) -> None:
    """One batch of a big archive's move across stores."""
    engine.copy_batch(*_wired(), migration_id, first_id, last_id)


def finish_migration(migration_id: int) -> None:
    """The finishing job, after every batch job has ended."""
    engine.finish_migration(*_wired(), migration_id)
