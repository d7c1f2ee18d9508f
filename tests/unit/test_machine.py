"""The status machine: the table of DESIGN.md, and truthful refusals for everything else."""

from __future__ import annotations

import itertools

import pytest

from migrationkit.domain.errors import Conflict, RuleViolation
from migrationkit.domain.machine import TRANSITIONS, Event, lost_race, next_status
from migrationkit.domain.model import OPEN_STATUSES, ItemStatus

S = ItemStatus

#: The table of DESIGN.md, written out again so a change to either is noticed.
DESIGN_TABLE = {
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

#: Where an item can never move on from, and the word a refusal uses for it.
FINAL = {
    S.WITHDRAWN: "item_withdrawn",
    S.REJECTED: "item_rejected",
    S.EXPIRED: "item_expired",
    S.COMPLETED: "item_completed",
}
STARTED = {S.QUEUED, S.PROCESSING, S.FAILED}
#: What sender, recipient or sweeper do to an item that is still Aangeboden.
BEFORE_START = {Event.WITHDRAW, Event.REJECT, Event.EXPIRE, Event.START}

REFUSED = [
    (status, event)
    for status, event in itertools.product(S, Event)
    if (status, event) not in DESIGN_TABLE
]


def truthful_code(status: S, event: Event) -> str:
    """What the refusal must say: where the item really is."""
    if status in FINAL:
        return FINAL[status]
    if status in STARTED and event in BEFORE_START:
        return "item_started"
    if event is Event.RETRY:
        return "migration_not_failed"
    return "transition_refused"


def test_the_table_is_the_one_of_the_design() -> None:
    assert dict(TRANSITIONS) == DESIGN_TABLE


@pytest.mark.parametrize(("status", "event"), sorted(DESIGN_TABLE, key=str))
def test_every_listed_transition_is_allowed(status: S, event: Event) -> None:
    assert next_status(status, event) is DESIGN_TABLE[status, event]


@pytest.mark.parametrize(("status", "event"), REFUSED, ids=lambda v: v.name)
def test_every_other_pair_is_refused_with_a_truthful_code(status: S, event: Event) -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(status, event, code="0042", name="Bakkerij")

    assert caught.value.code == truthful_code(status, event)


def test_starting_an_expired_item_says_it_expired() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.EXPIRED, Event.START, code="0042", name="Bakkerij")

    assert caught.value.code == "item_expired"
    assert caught.value.params == {"code": "0042", "name": "Bakkerij"}


def test_withdrawing_a_started_item_names_its_status() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.QUEUED, Event.WITHDRAW, code="0042", name="Bakkerij")

    assert caught.value.code == "item_started"
    assert caught.value.params == {"code": "0042", "name": "Bakkerij", "status": S.QUEUED}


def test_starting_a_withdrawn_item_says_it_was_withdrawn() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.WITHDRAWN, Event.START, code="0042", name="Bakkerij")

    assert caught.value.code == "item_withdrawn"
    assert caught.value.params == {"code": "0042", "name": "Bakkerij"}


def test_retrying_what_did_not_fail_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.PROCESSING, Event.RETRY)

    assert caught.value.code == "migration_not_failed"


def test_a_worker_event_in_the_wrong_status_names_event_and_status() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.OFFERED, Event.CLAIM)

    assert caught.value.code == "transition_refused"
    assert caught.value.params == {"event": Event.CLAIM, "status": S.OFFERED}


def test_a_start_that_lost_to_expiry_is_a_conflict_that_says_expired() -> None:
    error = lost_race(S.EXPIRED, Event.START, code="0042", name="Bakkerij")

    assert isinstance(error, Conflict)
    assert error.code == "item_expired"


def test_a_withdraw_that_lost_to_a_start_says_it_started() -> None:
    error = lost_race(S.QUEUED, Event.WITHDRAW, code="0042", name="Bakkerij")

    assert isinstance(error, Conflict)
    assert error.code == "item_started"
    assert error.params["status"] is S.QUEUED


def test_a_claim_that_lost_to_another_worker_says_the_status_changed() -> None:
    error = lost_race(S.PROCESSING, Event.CLAIM, code="0042", name="Bakkerij")

    assert isinstance(error, Conflict)
    assert error.code == "status_changed"
    assert error.params["status"] is S.PROCESSING


@pytest.mark.parametrize(
    ("status", "dutch", "english"),
    [
        (S.OFFERED, "Aangeboden", "Offered"),
        (S.WITHDRAWN, "Ingetrokken", "Withdrawn"),
        (S.REJECTED, "Afgewezen", "Rejected"),
        (S.EXPIRED, "Verlopen", "Expired"),
        (S.QUEUED, "In de wachtrij", "Queued"),
        (S.PROCESSING, "Aan het verwerken", "Processing"),
        (S.COMPLETED, "Voltooid", "Completed"),
        (S.FAILED, "Mislukt", "Failed"),
    ],
)
def test_statuses_read_as_the_portal_words(status: S, dutch: str, english: str) -> None:
    assert (status.label_nl, status.label_en) == (dutch, english)


def test_an_item_ties_its_administration_until_it_is_final() -> None:
    assert {s for s in S if s.is_open} == OPEN_STATUSES == set(S) - set(FINAL)
