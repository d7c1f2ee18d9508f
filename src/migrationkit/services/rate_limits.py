"""The API's rate limit, counted in the database: each call counts once per key (its token,
its client address) in the current window, by one atomic upsert, so the count holds across
every worker process and machine that shares the database."""

from __future__ import annotations

from datetime import timedelta

from migrationkit.domain.api_tokens import api_token_digest
from migrationkit.domain.rate_limits import RateLimit
from migrationkit.services.dependencies import Dependencies

#: How long counted windows are kept before the sweeper forgets them.
KEEP_WINDOWS_FOR = timedelta(hours=1)


def count_api_call(deps: Dependencies, *, address: str | None, token: str | None) -> None:
    """Counts one call of the API from the client ``address`` with ``token`` (as presented:
    counted before it is looked up, under its keyed digest, never in plain text), in one
    transaction; refuses it with ``Locked("api_rate_limited")`` (the seconds until the next
    window) when either is over its limit in this window (``Policy.api_calls_per_address``,
    ``Policy.api_calls_per_token``). A refused call counts too: hammering does not help."""
    policy = deps.policy
    now = deps.clock.now()
    keys: list[tuple[str, RateLimit]] = []
    if address:
        keys.append((f"address:{address}", policy.api_calls_per_address))
    if token:
        keys.append(
            (f"token:{api_token_digest(token, policy.code_secret)}", policy.api_calls_per_token)
        )
    with deps.uow() as uow:
        counted = [
            (uow.rate_limits.hit(key, limit.window_start(now)), limit) for key, limit in keys
        ]
        uow.commit()
    for hits, limit in counted:
        limit.require_within(hits, now)


def forget_old_windows(deps: Dependencies) -> int:
    """Removes counted windows older than ``KEEP_WINDOWS_FOR``; how many (the sweeper's)."""
    with deps.uow() as uow:
        forgotten = uow.rate_limits.purge(deps.clock.now() - KEEP_WINDOWS_FOR)
        uow.commit()
    return forgotten
