"""Rate limits: calls counted per key and fixed window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _dialect_insert, _Repository
from migrationkit.adapters.sqlalchemy.tables import rate_limit_hits


class SqlAlchemyRateLimitRepository(_Repository, ports.RateLimitRepository):
    def hit(self, key: str, window_start: datetime) -> int:
        statement = _dialect_insert(self._connection, rate_limit_hits).values(
            key=key, window_start=window_start, hits=1
        )
        counted = self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[rate_limit_hits.c.key, rate_limit_hits.c.window_start],
                set_={"hits": rate_limit_hits.c.hits + 1},
            ).returning(rate_limit_hits.c.hits)
        ).scalar_one()
        return int(counted)

    def purge(self, before: datetime) -> int:
        statement = delete(rate_limit_hits).where(rate_limit_hits.c.window_start < before)
        return int(self._connection.execute(statement).rowcount)
