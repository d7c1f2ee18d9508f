"""What every in-memory repository shares: the unit of work's transaction, foreign keys
and row locks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from migrationkit.domain.errors import NotFound
from migrationkit.testing._database import Source, Table, Transaction

V = TypeVar("V")


class _Repository:
    """Works in the transaction of the unit of work that made it."""

    def __init__(self, transaction: Callable[[], Transaction]) -> None:
        self._transaction = transaction

    @property
    def _tx(self) -> Transaction:
        return self._transaction()


def _existing(source: Source, table: Table[int, Any], key: int, error: str) -> Any:
    """The parent row a new row refers to: a foreign key, as the database holds it."""
    row = table.get(source, key)
    if row is None:
        raise NotFound(error)
    return row


def _lock(transaction: Transaction, table: Table[int, V], key: int) -> V | None:
    row = table.get(transaction, key)
    if row is not None:
        table.put(transaction, key, row)
    return row
