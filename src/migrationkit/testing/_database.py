"""The in-memory database under the fake unit of work: committed tables and transactions.

A transaction reads what is committed now plus its own writes (read committed, as
PostgreSQL does by default) and keeps its writes to itself until ``commit()``. Ids come from
sequences outside any transaction, so ids of rolled-back rows are never handed out again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar, cast

from migrationkit.adapters.clock import SystemClock
from migrationkit.ports import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_DELETED: Final = object()


class ConcurrentUpdate(RuntimeError):
    """Raised by ``commit()`` when another unit of work committed a change to a row that this
    one changed too, after this one wrote it: where a real database would have made one of
    the two wait or fail, the fake lets the later commit fail."""


class Source(Protocol):
    """Something to read rows from: a transaction, or the state a commit is about to make."""

    def read(self, table: str) -> Mapping[Any, Any]: ...

    def read_one(self, table: str, key: Hashable) -> Any: ...


#: A database rule on one row: raises when ``row`` may not stand beside the others in
#: ``source``. It runs on every write and once more at commit, against what would be stored.
Check = Callable[[Source, Any], None]


class Table(Generic[K, V]):
    """The typed rows of one table, read from a source and written in a transaction."""

    def __init__(self, name: str, check: Check | None = None) -> None:
        self.name = name
        self._check = check

    def get(self, source: Source, key: K) -> V | None:
        return cast("V | None", source.read_one(self.name, key))

    def rows(self, source: Source) -> list[V]:
        """Every row, in key order."""
        table = source.read(self.name)
        return [table[key] for key in sorted(table)]

    def put(self, transaction: Transaction, key: K, row: V) -> None:
        if self._check is not None:
            self._check(transaction, row)
        transaction.write(self.name, key, row, self._check)

    def delete(self, transaction: Transaction, key: K) -> None:
        transaction.write(self.name, key, _DELETED, None)


class InMemoryDatabase:
    """The committed state shared by every ``FakeUnitOfWork`` made with it.

    Tables are dicts of frozen domain values. A commit replaces the dicts it changes rather
    than changing them, so a reader never sees half a commit.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        #: The database's own clock, what ``now()`` is in its SQL: leases are set and
        #: compared with it (a ``FakeClock`` in ``make_world``, the machine's by default).
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._tables: dict[str, dict[Any, Any]] = {}
        # (table, key) -> number of the commit that last changed the row.
        self._versions: dict[tuple[str, Hashable], int] = {}
        self._commits = 0
        self._sequences: dict[str, int] = {}
        #: Held by a transaction that claims outbox messages, until it ends.
        self.claims = threading.Lock()

    def next_id(self, table: str) -> int:
        """The next id of ``table``'s sequence; like a real sequence, not rolled back."""
        with self._lock:
            self._sequences[table] = self._sequences.get(table, 0) + 1
            return self._sequences[table]

    def committed(self, table: str) -> Mapping[Any, Any]:
        with self._lock:
            return self._tables.get(table, {})

    def snapshot(self) -> dict[str, dict[Any, Any]]:
        """A copy of every committed table, to show that a refused action changed nothing."""
        with self._lock:
            return {name: dict(rows) for name, rows in self._tables.items() if rows}

    def version(self, table: str, key: Hashable) -> int:
        with self._lock:
            return self._versions.get((table, key), 0)

    def apply(self, transaction: Transaction) -> None:
        """Stores the transaction's writes, or raises and stores nothing."""
        with self._lock:
            for (table, key), version in transaction.based_on.items():
                if self._versions.get((table, key), 0) != version:
                    raise ConcurrentUpdate(f"{table} row {key!r} was changed meanwhile")
            tables = dict(self._tables)
            for table, writes in transaction.writes.items():
                rows = dict(tables.get(table, {}))
                for key, row in writes.items():
                    if row is _DELETED:
                        rows.pop(key, None)
                    else:
                        rows[key] = row
                tables[table] = rows
            # Another transaction may have committed a clashing row since the write.
            after = _Committed(tables)
            for table, check in transaction.checks.items():
                for key in transaction.writes[table]:
                    row = after.read_one(table, key)
                    if row is not None:
                        check(after, row)
            self._tables = tables
            self._commits += 1
            for key in transaction.based_on:
                self._versions[key] = self._commits


class _Committed:
    """Tables as a commit would leave them, read by the checks before they are stored."""

    def __init__(self, tables: Mapping[str, Mapping[Any, Any]]) -> None:
        self._tables = tables

    def read(self, table: str) -> Mapping[Any, Any]:
        return self._tables.get(table, {})

    def read_one(self, table: str, key: Hashable) -> Any:
        return self._tables.get(table, {}).get(key)


class Transaction:
    """The writes of one unit of work that are not committed yet."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database
        self.writes: dict[str, dict[Any, Any]] = {}
        self.checks: dict[str, Check] = {}
        # (table, key) -> version of the committed row when this transaction first wrote it.
        self.based_on: dict[tuple[str, Hashable], int] = {}
        self._holds_claims = False

    def next_id(self, table: str) -> int:
        return self.database.next_id(table)

    def read(self, table: str) -> Mapping[Any, Any]:
        writes = self.writes.get(table)
        if not writes:
            return self.database.committed(table)
        rows = {**self.database.committed(table), **writes}
        return {key: row for key, row in rows.items() if row is not _DELETED}

    def read_one(self, table: str, key: Hashable) -> Any:
        row = self.writes.get(table, {}).get(key)
        if row is None:
            return self.database.committed(table).get(key)
        return None if row is _DELETED else row

    def write(self, table: str, key: Hashable, row: object, check: Check | None) -> None:
        self.based_on.setdefault((table, key), self.database.version(table, key))
        self.writes.setdefault(table, {})[key] = row
        if check is not None:
            self.checks[table] = check

    def hold_claims(self) -> None:
        """Takes the database's claim lock until this transaction ends (commit or
        discard), waiting while another transaction holds it: claims are made one
        transaction at a time, as by SQLite's one writer."""
        if not self._holds_claims:
            self.database.claims.acquire()
            self._holds_claims = True

    def commit(self) -> None:
        self.database.apply(self)
        self.discard()

    def discard(self) -> None:
        self.writes.clear()
        self.checks.clear()
        self.based_on.clear()
        if self._holds_claims:
            self._holds_claims = False
            self.database.claims.release()
