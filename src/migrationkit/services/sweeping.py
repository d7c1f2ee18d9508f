"""The sweeper: the clock's work and the reconciler's, run periodically (``migrationkit sweep
--every 60``, or by the embedded worker)."""

from __future__ import annotations

import logging

import attrs

from migrationkit.services.dependencies import Dependencies
from migrationkit.services.engine import LINK_ATTEMPTS
from migrationkit.services.expiry import sweep_offers
from migrationkit.services.moving import requeue_stale
from migrationkit.services.rate_limits import forget_old_windows
from migrationkit.services.sessions import remove_over_sessions

log = logging.getLogger(__name__)


@attrs.frozen
class SweeperReport:
    """What one sweep did."""

    expired_items: int
    reminded_offers: int
    #: The migrations whose worker was woken again.
    requeued: tuple[int, ...]
    #: The Voltooid migrations whose worker was woken for a step after the finish.
    after_finish: tuple[int, ...] = ()


def sweep(deps: Dependencies) -> SweeperReport:
    """Expires offers and sends the reminders (R6), then wakes a worker again for every
    migration that the database says should run and no live worker holds: one In de wachtrij,
    or Aan het verwerken with a lease run out (the database is the truth, the queue a
    wake-up that may have been lost), or Voltooid with a step after the finish due. Every
    step is a compare-and-set or a wake-up that runs once, so any number of sweepers may run
    at once. It also removes the sessions that are over and the API's old rate-limit
    counts."""
    offers = sweep_offers(deps)
    requeued = requeue_stale(deps)
    after_finish = wake_after_finish(deps)
    remove_over_sessions(deps)
    forget_old_windows(deps)
    deps.metrics.sweep_ran(requeued=len(requeued))
    done = offers.expired_items or offers.reminded_offers or requeued or after_finish
    log.log(
        logging.INFO if done else logging.DEBUG,
        "sweep_ran",
        extra={
            "expired_items": offers.expired_items,
            "reminded_offers": offers.reminded_offers,
            "requeued": len(requeued),
            "after_finish": len(after_finish),
        },
    )
    return SweeperReport(
        offers.expired_items, offers.reminded_offers, tuple(requeued), tuple(after_finish)
    )


def wake_after_finish(deps: Dependencies) -> list[int]:
    """Wakes a worker for every Voltooid migration with a step after the finish due: links
    not rewritten yet in fewer than ``LINK_ATTEMPTS`` tries, or source blobs whose grace
    period has passed (a worker killed after the finish left them, or they were not due
    yet). The ids woken, in order."""
    with deps.uow() as uow:
        due = uow.migrations.list_after_finish(
            link_attempts=LINK_ATTEMPTS,
            released_before=deps.clock.now() - deps.policy.release_source_after,
        )
    for migration in due:
        deps.queue.enqueue_migration(migration.id)
    return [migration.id for migration in due]
