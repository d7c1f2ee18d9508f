"""What every SQL repository shares: the connection, the database's clock, reads and
guarded writes, and the database's refusals read as the domain's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Executable,
    Index,
    Interval,
    RowMapping,
    Select,
    Table,
    UniqueConstraint,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from migrationkit.adapters.sqlalchemy.tables import UtcDateTime, environments
from migrationkit.domain.errors import RuleViolation


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _database_time(self, later: timedelta = timedelta()) -> ColumnElement[datetime]:
        """The database's clock, ``later`` from now, in SQL: leases are set and compared
        with it alone, never with a machine's clock. PostgreSQL's ``clock_timestamp()`` (the
        moment of the statement, not of the transaction's start); SQLite's time of 'now',
        in the text SQLAlchemy keeps datetimes as there (so the two compare)."""
        if self._connection.dialect.name == "sqlite":
            modifier = f"{later.total_seconds():+.6f} seconds"
            return func.strftime("%Y-%m-%d %H:%M:%f000", "now", modifier, type_=UtcDateTime)
        return func.clock_timestamp(type_=DateTime(timezone=True)) + literal(later, Interval())

    def _one(self, statement: Select[Any]) -> RowMapping | None:
        return self._connection.execute(statement).mappings().first()

    def _all(self, statement: Select[Any]) -> Sequence[RowMapping]:
        return self._connection.execute(statement).mappings().all()

    def _insert(self, table: Table, **values: object) -> RowMapping:
        """Inserts one row; the row as stored, with its new id."""
        return (
            self._connection.execute(insert(table).values(**values).returning(*table.c))
            .mappings()
            .one()
        )

    def _guarded(
        self,
        statement: Executable,
        *,
        environment_id: int,
        code: str,
        name: str,
        code_name: UniqueConstraint | Index,
        package_link: UniqueConstraint | Index,
    ) -> Sequence[RowMapping]:
        """Runs a write that R8 and R9 guard, and returns the rows it returns; the database's
        refusal becomes the rule's."""
        try:
            with self._connection.begin_nested():
                return self._connection.execute(statement).mappings().all()
        except IntegrityError as error:
            if _violates(error, code_name):
                environment = self._connection.execute(
                    select(environments.c.name).where(environments.c.id == environment_id)
                ).scalar_one()
                raise RuleViolation(
                    "code_name_taken", environment=environment, code=code, name=name
                ) from error
            if _violates(error, package_link):
                raise RuleViolation(
                    "package_administration_linked", code=code, name=name
                ) from error
            raise


def _violates(error: IntegrityError, constraint: UniqueConstraint | Index) -> bool:
    """Whether the database refused a write because of this unique constraint or index."""
    diagnostics = getattr(error.orig, "diag", None)
    if diagnostics is not None:
        # psycopg names the constraint.
        return bool(diagnostics.constraint_name == constraint.name)
    # SQLite names the columns: "UNIQUE constraint failed: table.a, table.b".
    assert constraint.table is not None
    table = constraint.table.name
    columns = ", ".join(f"{table}.{column.name}" for column in constraint.columns)
    return str(error.orig) == f"UNIQUE constraint failed: {columns}"


def _dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, on the two databases the library supports."""
    match connection.dialect.name:
        case "postgresql":
            return postgresql.insert(table)
        case "sqlite":
            return sqlite.insert(table)
        case other:
            raise NotImplementedError(f"migrationkit does not support {other}")


def _escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
