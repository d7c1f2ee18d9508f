"""The API's rate limit: at most so many calls per key (a token, a client address) in each
fixed window of time, counted in the database so that every process and machine counts
together."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import attrs

from migrationkit.domain.errors import Locked

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen
class RateLimit:
    """At most ``calls`` per window of ``per``; windows start at whole multiples of ``per``
    since 1970 (so every process agrees on them)."""

    calls: int
    per: timedelta = timedelta(minutes=1)

    def window_start(self, now: datetime) -> datetime:
        return now - (now - _EPOCH) % self.per

    def require_within(self, hits: int, now: datetime) -> None:
        """Refuses the call counted as the ``hits``-th of its window when that is more than
        ``calls``, saying when the next window starts."""
        if hits > self.calls:
            until = self.window_start(now) + self.per
            seconds = max(1, math.ceil((until - now).total_seconds()))
            raise Locked("api_rate_limited", seconds=seconds, until_iso=until.isoformat())
