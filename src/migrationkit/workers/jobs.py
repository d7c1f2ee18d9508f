"""The functions that RQ workers run, by their dotted paths, with plain int arguments.

Each runs with the ``WorkerContext`` of the worker that took it (``run_worker`` binds it
around every job; ``migrationkit worker`` gives one that reads the environment) and calls the
engine. The context builds the dependencies once per process, at the first job, or once in
the worker before it forks its work-horses when it is told how a forked process lets go of
the database connections it inherited (``after_fork``): then a work-horse starts on the
wiring it was forked with, and opens connections of its own.
"""

from __future__ import annotations

import os
import threading
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
    process, at the first job that needs them; with ``after_fork``, once for the worker and
    the work-horses it forks, each of which calls ``after_fork`` first (to drop the database
    connections of the pool it inherited, without closing them for the worker).
    ``stopping`` is set when the worker is asked to stop: the engine then ends its job after
    the batch in hand (``Dependencies.stopping``)."""

    build: Callable[[], Wiring]
    after_fork: Callable[[], None] | None = None
    stopping: threading.Event = attrs.field(factory=threading.Event)
    _wiring: Wiring | None = attrs.field(default=None, init=False)
    _built_in_process: int | None = attrs.field(default=None, init=False)

    def wiring(self) -> Wiring:
        """The dependencies of this process, built now if this process has none yet."""
        if self._built_in_process != os.getpid():
            if self._wiring is not None and self.after_fork is not None:
                self.after_fork()
            else:
                deps, archives = self.build()
                self._wiring = attrs.evolve(deps, stopping=self.stopping), archives
            self._built_in_process = os.getpid()
        assert self._wiring is not None
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
