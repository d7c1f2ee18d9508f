"""Rate limits: calls counted per key and fixed window."""

from __future__ import annotations

from datetime import datetime

from migrationkit import ports
from migrationkit.testing._repositories._base import _Repository
from migrationkit.testing._repositories.tables import RATE_LIMIT_HITS


class InMemoryRateLimitRepository(_Repository, ports.RateLimitRepository):
    def hit(self, key: str, window_start: datetime) -> int:
        tx = self._tx
        hits = (RATE_LIMIT_HITS.get(tx, (key, window_start)) or 0) + 1
        RATE_LIMIT_HITS.put(tx, (key, window_start), hits)
        return hits

    def purge(self, before: datetime) -> int:
        tx = self._tx
        old = [key for key in tx.read(RATE_LIMIT_HITS.name) if key[1] < before]
        for key in old:
            RATE_LIMIT_HITS.delete(tx, key)
        return len(old)
