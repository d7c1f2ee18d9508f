"""The embedded job queue: wake-ups kept in this process, for one machine without Redis."""

from __future__ import annotations

import threading
from collections.abc import Callable


class InProcessQueue:
    """Holds the migrations to run, each once while pending, until a worker drains them."""

    def __init__(self) -> None:
        self._pending: list[int] = []
        self._lock = threading.Lock()

    def enqueue_migration(self, migration_id: int) -> None:
        with self._lock:
            if migration_id not in self._pending:
                self._pending.append(migration_id)

    @property
    def pending(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(self._pending)

    def drain(self, run: Callable[[int], object]) -> int:
        """Runs every pending migration with ``run``, oldest first; how many ran."""
        ran = 0
        while True:
            with self._lock:
                if not self._pending:
                    return ran
                migration_id = self._pending.pop(0)
            run(migration_id)
            ran += 1
