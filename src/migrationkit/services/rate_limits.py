"""The API's rate limit, counted in the database: each call counts once per key (its token,
its client address) in the current window, by one atomic upsert, so the count holds across
every worker process and machine that shares the database."""

from __future__ import annotations

from datetime import timedelta

from migrationkit.domain.rate_limits import RateLimit
from migrationkit.services.dependencies import Dependencies

#: How long counted windows are kept before the sweeper forgets them.
KEEP_WINDOWS_FOR = timedelta(hours=1)


def count_api_call(deps: Dependencies, *, key: str, limit: RateLimit) -> None:
    """Counts one call of ``key`` (``token:12``, ``address:203.0.113.5``); refuses it with
    ``Locked("api_rate_limited")`` (the seconds until the next window) when it is more than
    ``limit`` allows in this window. A refused call counts too: hammering does not help."""
    now = deps.clock.now()
    with deps.uow() as uow:
        hits = uow.rate_limits.hit(key, limit.window_start(now))
        uow.commit()
    limit.require_within(hits, now)


def forget_old_windows(deps: Dependencies) -> int:
    """Removes counted windows older than ``KEEP_WINDOWS_FOR``; how many (the sweeper's)."""
    with deps.uow() as uow:
        forgotten = uow.rate_limits.purge(deps.clock.now() - KEEP_WINDOWS_FOR)
        uow.commit()
    return forgotten
