"""The sweeper: the clock's work and the reconciler's, run periodically (``migrationkit sweep
--every 60``, or by the embedded worker)."""

from __future__ import annotations

import attrs

from migrationkit.services.dependencies import Dependencies
from migrationkit.services.expiry import sweep_offers
from migrationkit.services.moving import requeue_stale


@attrs.frozen
class SweeperReport:
    """What one sweep did."""

    expired_items: int
    reminded_offers: int
    #: The migrations whose worker was woken again.
    requeued: tuple[int, ...]


def sweep(deps: Dependencies) -> SweeperReport:
    """Expires offers and sends the reminders (R6), then wakes a worker again for every
    migration that the database says should run and no live worker holds: one In de wachtrij,
    or Aan het verwerken with a lease run out (the database is the truth, the queue a
    wake-up that may have been lost). Every step is a compare-and-set or a wake-up that runs
    once, so any number of sweepers may run at once."""
    offers = sweep_offers(deps)
    requeued = requeue_stale(deps)
    return SweeperReport(offers.expired_items, offers.reminded_offers, tuple(requeued))
