"""The status machine of an offered item and its migration: one table.

Anything not in ``TRANSITIONS`` is refused, and the refusal tells the truth about where the
item is (a start that lost to expiry says "verlopen", not "onbekend").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from migrationkit.domain.errors import Conflict, RuleViolation
from migrationkit.domain.model import ItemStatus as S


class Event(enum.Enum):
    """What happens to an item, and who makes it happen."""

    WITHDRAW = "withdraw"  # sender
    REJECT = "reject"  # recipient
    EXPIRE = "expire"  # sweeper
    START = "start"  # recipient
    CLAIM = "claim"  # worker
    LEASE_EXPIRED = "lease_expired"  # sweeper
    COMPLETE = "complete"  # worker
    FAIL = "fail"  # worker
    RETRY = "retry"  # recipient

    @property
    def label_nl(self) -> str:
        return _EVENT_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _EVENT_LABELS[self][1]


_EVENT_LABELS = {
    Event.WITHDRAW: ("Intrekken", "Withdraw"),
    Event.REJECT: ("Afwijzen", "Reject"),
    Event.EXPIRE: ("Verlopen", "Expire"),
    Event.START: ("Start migratie", "Start migration"),
    Event.CLAIM: ("Verwerken", "Process"),
    Event.LEASE_EXPIRED: ("Opnieuw in de wachtrij", "Queue again"),
    Event.COMPLETE: ("Voltooien", "Complete"),
    Event.FAIL: ("Mislukken", "Fail"),
    Event.RETRY: ("Opnieuw proberen", "Retry"),
}

#: (from, event) -> to. An offer creates its items in OFFERED; that is not a transition.
TRANSITIONS: Final[Mapping[tuple[S, Event], S]] = {
    (S.OFFERED, Event.WITHDRAW): S.WITHDRAWN,
    (S.OFFERED, Event.REJECT): S.REJECTED,
    (S.OFFERED, Event.EXPIRE): S.EXPIRED,
    (S.OFFERED, Event.START): S.QUEUED,
    (S.QUEUED, Event.CLAIM): S.PROCESSING,
    (S.PROCESSING, Event.LEASE_EXPIRED): S.QUEUED,
    (S.PROCESSING, Event.COMPLETE): S.COMPLETED,
    (S.PROCESSING, Event.FAIL): S.FAILED,
    (S.FAILED, Event.RETRY): S.QUEUED,
}


def next_status(current: S, event: Event, *, code: str = "", name: str = "") -> S:
    """The status after ``event``, or a refusal that says where the item really is (R12)."""
    target = TRANSITIONS.get((current, event))
    if target is None:
        raise refusal(current, event, code=code, name=name)
    return target


def refusal(current: S, event: Event, *, code: str = "", name: str = "") -> RuleViolation:
    """The error for ``event`` in ``current``: the item's real state, in the user's words."""
    match current:
        case S.WITHDRAWN:
            return RuleViolation("item_withdrawn", code=code, name=name)
        case S.REJECTED:
            return RuleViolation("item_rejected", code=code, name=name)
        case S.EXPIRED:
            return RuleViolation("item_expired", code=code, name=name)
        case S.COMPLETED:
            return RuleViolation("item_completed", code=code, name=name)
        case S.QUEUED | S.PROCESSING | S.FAILED if event in _OFFERED_EVENTS:
            return RuleViolation("item_started", code=code, name=name, status=current)
        case _ if event is Event.RETRY:
            return RuleViolation("migration_not_failed")
        case _:
            return RuleViolation("transition_refused", event=event, status=current)


_OFFERED_EVENTS = frozenset({Event.WITHDRAW, Event.REJECT, Event.EXPIRE, Event.START})


def lost_race(actual: S, event: Event, *, code: str = "", name: str = "") -> Conflict:
    """The error for the loser of a compare-and-set: what the row became meanwhile.

    The domain reason is kept (``item_expired`` for a start that lost to expiry) so the loser
    hears the truth; the error is a ``Conflict`` because someone else moved first.
    """
    reason = refusal(actual, event, code=code, name=name)
    if reason.code == "transition_refused":
        return Conflict("status_changed", code=code, name=name, status=actual)
    return Conflict(reason.code, **reason.params)
