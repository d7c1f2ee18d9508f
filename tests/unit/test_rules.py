"""The rules R1-R16: each passes what it should and refuses the rest with a clear error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from migrationkit.domain import rules
from migrationkit.domain.errors import (
    InvalidInput,
    Locked,
    MigrationError,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from migrationkit.domain.model import (
    AccountingPackage,
    AuthorizationFlow,
    Charge,
    ItemStatus,
    Role,
)

if TYPE_CHECKING:
    from conftest import Build, Refused

S = ItemStatus
MINUTE = timedelta(minutes=1)
FINAL = (S.WITHDRAWN, S.REJECTED, S.EXPIRED, S.COMPLETED)


# --- R1 ----------------------------------------------------------------------------------------


def test_r1_a_super_user_may_act_in_their_own_environment(build: Build) -> None:
    rules.require_super_user(build.user(environment_id=1), 1)


def test_r1_a_plain_user_is_refused(build: Build, refused: Refused) -> None:
    with refused(NotAllowed, "not_super_user"):
        rules.require_super_user(build.user(role=Role.USER), 1)


def test_r1_another_environment_is_unknown_to_a_super_user(build: Build, refused: Refused) -> None:
    with refused(NotFound, "unknown_environment"):
        rules.require_super_user(build.user(environment_id=2), 1)


# --- R2 ----------------------------------------------------------------------------------------


def test_r2_the_same_package_passes(build: Build) -> None:
    rules.require_same_package(AccountingPackage.EXACT_ONLINE_NL, build.connection())


def test_r2_another_package_is_refused(build: Build, refused: Refused) -> None:
    twinfield = build.connection(package=AccountingPackage.TWINFIELD)

    with refused(
        RuleViolation,
        "package_mismatch",
        source_package="Exact Online (NL)",
        target_package="Twinfield",
    ):
        rules.require_same_package(AccountingPackage.EXACT_ONLINE_NL, twinfield)


# --- R3 ----------------------------------------------------------------------------------------


def test_r3_administrations_of_the_one_source_connection_pass(build: Build) -> None:
    rules.require_one_source(build.connection(), [build.administration(1), build.administration(2)])


def test_r3_an_offer_needs_an_administration(build: Build, refused: Refused) -> None:
    with refused(InvalidInput, "no_administrations"):
        rules.require_one_source(build.connection(), [])


def test_r3_an_administration_chosen_twice_is_refused(build: Build, refused: Refused) -> None:
    with refused(InvalidInput, "duplicate_administration", code="0001", name="Bakkerij 1"):
        rules.require_one_source(
            build.connection(), [build.administration(1), build.administration(1)]
        )


def test_r3_an_administration_of_another_connection_is_refused(
    build: Build, refused: Refused
) -> None:
    with refused(RuleViolation, "administration_not_in_connection", code="0002", name="Bakkerij 2"):
        rules.require_one_source(
            build.connection(1), [build.administration(1), build.administration(2, connection_id=7)]
        )


# --- R4 ----------------------------------------------------------------------------------------


def test_r4_closed_items_and_other_administrations_do_not_block_an_offer(build: Build) -> None:
    items = [
        *(build.item(i, status, administration_id=1) for i, status in enumerate(FINAL)),
        build.item(9, S.OFFERED, administration_id=2),
    ]

    rules.require_not_in_open_offer(build.administration(1), items)


@pytest.mark.parametrize("status", [S.OFFERED, S.QUEUED, S.PROCESSING, S.FAILED])
def test_r4_an_administration_in_an_open_offer_is_refused(
    build: Build, refused: Refused, status: S
) -> None:
    with refused(RuleViolation, "already_offered", code="0001", name="Bakkerij 1"):
        rules.require_not_in_open_offer(build.administration(1), [build.item(1, status)])


# --- R6 ----------------------------------------------------------------------------------------


def test_r6_an_offer_expires_fifteen_days_after_it_was_made(build: Build) -> None:
    assert rules.expiry_of(build.now, timedelta(days=15)) == build.now + timedelta(days=15)


def test_r6_a_code_is_valid_until_its_expiry_moment(build: Build) -> None:
    offer = build.offer()

    assert not rules.is_expired(offer, offer.expires_at - timedelta(seconds=1))
    assert rules.is_expired(offer, offer.expires_at)
    rules.require_not_expired(offer, offer.expires_at - timedelta(seconds=1))


def test_r6_an_expired_code_is_refused_with_its_local_expiry_moment(
    build: Build, refused: Refused
) -> None:
    offer = build.offer(expires_at=datetime(2026, 12, 13, 13, 5, tzinfo=UTC))

    with refused(RuleViolation, "code_expired", expired_at="13-12-2026 14:05"):
        rules.require_not_expired(offer, offer.expires_at)


def test_r6_an_offered_item_reads_verlopen_once_the_code_expired(build: Build) -> None:
    offer = build.offer()
    item = build.item(status=S.OFFERED)

    assert rules.displayed_status(item, offer, offer.expires_at - MINUTE) is S.OFFERED
    assert rules.displayed_status(item, offer, offer.expires_at) is S.EXPIRED


@pytest.mark.parametrize("status", [s for s in S if s is not S.OFFERED])
def test_r6_expiry_does_not_change_how_other_statuses_read(build: Build, status: S) -> None:
    offer = build.offer()

    assert rules.displayed_status(build.item(status=status), offer, offer.expires_at) is status


# --- R7 ----------------------------------------------------------------------------------------


def take_in(
    build: Build,
    *,
    role: Role = Role.SUPER_USER,
    user_environment_id: int = 2,
    subscription: bool = True,
    terms: bool = True,
    costs: bool = True,
) -> None:
    """A user of Zuid (environment 2) asks to take in."""
    rules.require_may_take_in(
        build.user(2, environment_id=user_environment_id, role=role),
        build.environment(2, has_subscription=subscription),
        accepted_terms=terms,
        accepted_costs=costs,
    )


def test_r7_a_super_user_with_subscription_who_accepted_may_take_in(build: Build) -> None:
    take_in(build)


@pytest.mark.parametrize(
    ("missing", "error_class", "code"),
    [
        ({"role": Role.USER}, NotAllowed, "not_super_user"),
        ({"user_environment_id": 1}, NotFound, "unknown_environment"),
        ({"subscription": False}, RuleViolation, "no_subscription"),
        ({"terms": False}, InvalidInput, "terms_not_accepted"),
        ({"costs": False}, InvalidInput, "costs_not_accepted"),
    ],
)
def test_r7_taking_in_is_refused_without_each_condition(
    build: Build,
    refused: Refused,
    missing: dict[str, Any],
    error_class: type[MigrationError],
    code: str,
) -> None:
    with refused(error_class, code):
        take_in(build, **missing)


def test_r7_the_rights_are_checked_before_the_subscription_and_the_terms(
    build: Build, refused: Refused
) -> None:
    with refused(NotAllowed, "not_super_user"):
        take_in(build, role=Role.USER, subscription=False, terms=False, costs=False)


def test_r7_the_subscription_is_checked_before_the_terms(build: Build, refused: Refused) -> None:
    with refused(RuleViolation, "no_subscription", environment="Zuid"):
        take_in(build, subscription=False, terms=False, costs=False)


def test_r7_an_open_offer_of_another_environment_is_redeemable(build: Build) -> None:
    rules.require_redeemable(build.offer(), [build.item()], build.environment(2), build.now)


def test_r7_the_environment_that_redeemed_it_may_enter_the_code_again(build: Build) -> None:
    offer = build.offer(target_environment_id=2)
    items = [build.item(1, S.QUEUED), build.item(2, S.COMPLETED)]

    rules.require_redeemable(offer, items, build.environment(2), offer.expires_at + MINUTE)


def test_r7_the_sender_cannot_take_in_its_own_offer(build: Build, refused: Refused) -> None:
    with refused(RuleViolation, "own_environment"):
        rules.require_redeemable(build.offer(), [build.item()], build.environment(1), build.now)


def test_r3_a_code_redeemed_by_one_environment_is_used_for_any_other(
    build: Build, refused: Refused
) -> None:
    with refused(RuleViolation, "code_used"):
        rules.require_redeemable(
            build.offer(target_environment_id=2), [build.item()], build.environment(3), build.now
        )


def test_r7_a_code_whose_items_were_all_withdrawn_says_withdrawn(
    build: Build, refused: Refused
) -> None:
    items = [build.item(1, S.WITHDRAWN), build.item(2, S.WITHDRAWN)]

    with refused(RuleViolation, "code_withdrawn"):
        rules.require_redeemable(build.offer(), items, build.environment(2), build.now)


@pytest.mark.parametrize("recorded", [S.OFFERED, S.EXPIRED])
def test_r6_an_expired_code_cannot_be_redeemed(build: Build, refused: Refused, recorded: S) -> None:
    offer = build.offer()

    with refused(RuleViolation, "code_expired", expired_at="13-12-2026 14:05"):
        rules.require_redeemable(
            offer, [build.item(status=recorded)], build.environment(2), offer.expires_at
        )


@pytest.mark.parametrize(
    "statuses", [(S.REJECTED,), (S.WITHDRAWN, S.REJECTED), (S.WITHDRAWN, S.COMPLETED)]
)
def test_r7_a_code_with_nothing_open_is_refused(
    build: Build, refused: Refused, statuses: tuple[S, ...]
) -> None:
    items = [build.item(i, status) for i, status in enumerate(statuses, 1)]

    with refused(RuleViolation, "code_nothing_open"):
        rules.require_redeemable(build.offer(), items, build.environment(2), build.now)


# --- R7: lockout -------------------------------------------------------------------------------


def test_r7_four_wrong_codes_in_the_window_do_not_lock(build: Build) -> None:
    failures = [build.now + i * MINUTE for i in range(4)]

    assert rules.LockoutPolicy().locked_until(failures, build.now + 4 * MINUTE) is None


def test_r7_five_wrong_codes_in_fifteen_minutes_lock_until_the_oldest_leaves_the_window(
    build: Build,
) -> None:
    failures = [build.now + i * MINUTE for i in range(5)]
    policy = rules.LockoutPolicy()

    assert policy.locked_until(failures, build.now + 4 * MINUTE) == build.now + 15 * MINUTE
    assert policy.locked_until(failures, build.now + 15 * MINUTE - timedelta(seconds=1))
    assert policy.locked_until(failures, build.now + 15 * MINUTE) is None


def test_r7_with_more_failures_the_lock_lasts_until_the_fifth_newest_leaves(
    build: Build,
) -> None:
    failures = [build.now + i * MINUTE for i in range(7)]

    assert rules.LockoutPolicy().locked_until(failures, build.now + 7 * MINUTE) == (
        build.now + 2 * MINUTE + 15 * MINUTE
    )


def test_r7_failures_older_than_the_window_do_not_count(build: Build) -> None:
    old = [build.now - 20 * MINUTE - i * MINUTE for i in range(10)]
    recent = [build.now + i * MINUTE for i in range(4)]

    assert rules.LockoutPolicy().locked_until(old + recent, build.now + 5 * MINUTE) is None


def test_r7_the_lockout_is_adjustable(build: Build) -> None:
    policy = rules.LockoutPolicy(max_failures=2, window=timedelta(hours=1))

    assert policy.locked_until([build.now, build.now], build.now) == build.now + timedelta(hours=1)


@pytest.mark.parametrize(
    ("first_failure", "shown"),
    [
        (datetime(2026, 11, 28, 13, 5, tzinfo=UTC), "14:20"),  # winter: UTC+1
        (datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "12:15"),  # summer: UTC+2
    ],
)
def test_r7_a_locked_user_is_told_the_dutch_local_time_to_try_again(
    refused: Refused, first_failure: datetime, shown: str
) -> None:
    failures = [first_failure + i * MINUTE for i in range(5)]

    with refused(Locked, "redeem_locked", until=shown) as caught:
        rules.LockoutPolicy().require_unlocked(failures, first_failure + 4 * MINUTE)

    assert caught.value.params["until_iso"] == (first_failure + 15 * MINUTE).isoformat()


def test_r7_an_unlocked_user_passes(build: Build) -> None:
    rules.LockoutPolicy().require_unlocked([build.now], build.now)


# --- R8 ----------------------------------------------------------------------------------------


def test_r8_another_name_or_environment_does_not_clash(build: Build) -> None:
    present = [
        build.administration(1, code="0042", name="Slagerij"),
        build.administration(2, code="0042", name="Bakkerij", environment_id=1),
    ]

    rules.require_unique_code_name(build.environment(2), "0042", "Bakkerij", present)


def test_r8_a_code_name_pair_present_in_the_environment_is_refused(
    build: Build, refused: Refused
) -> None:
    present = [build.administration(1, environment_id=2, code="0042", name="Bakkerij")]

    with refused(
        RuleViolation, "code_name_taken", code="0042", environment="Zuid", name="Bakkerij"
    ):
        rules.require_unique_code_name(build.environment(2), "0042", "Bakkerij", present)


# --- R9 ----------------------------------------------------------------------------------------


def test_r9_an_existing_unlinked_package_administration_is_returned(build: Build) -> None:
    found = build.package_administration("div-9")
    linked_elsewhere = build.administration(1, connection_id=3, package_admin_id="div-9")

    assert (
        rules.require_package_administration_available(
            build.connection(2, environment_id=2), "div-9", found, [linked_elsewhere]
        )
        is found
    )


def test_r9_a_package_administration_the_connector_did_not_find_is_refused(
    build: Build, refused: Refused
) -> None:
    with refused(
        RuleViolation,
        "package_administration_missing",
        connection="Exact Online 2",
        package_admin_id="div-9",
    ):
        rules.require_package_administration_available(
            build.connection(2, environment_id=2), "div-9", None, []
        )


def test_r9_a_package_administration_already_linked_is_refused(
    build: Build, refused: Refused
) -> None:
    linked = build.administration(5, environment_id=2, connection_id=2, package_admin_id="div-9")

    with refused(RuleViolation, "package_administration_linked", code="0099", name="Bakkerij 1"):
        rules.require_package_administration_available(
            build.connection(2, environment_id=2),
            "div-9",
            build.package_administration("div-9"),
            [linked],
        )


# --- R10 ---------------------------------------------------------------------------------------


def test_r10_flows_without_authorizers_or_of_other_administrations_pass(build: Build) -> None:
    flows = [AuthorizationFlow(1, 1, "Leeg"), AuthorizationFlow(2, 2, "Inkoop", (7,))]

    rules.require_no_authorizers_in_flow(build.administration(1), flows)


def test_r10_authorizers_in_a_flow_block_the_offer_and_the_flows_are_named(
    build: Build, refused: Refused
) -> None:
    flows = [
        AuthorizationFlow(1, 1, "Verkoop", (7,)),
        AuthorizationFlow(2, 1, "Inkoop", (7, 8)),
        AuthorizationFlow(3, 1, "Leeg"),
    ]

    with refused(
        RuleViolation,
        "authorizers_in_flow",
        code="0001",
        flows="Inkoop, Verkoop",
        name="Bakkerij 1",
    ):
        rules.require_no_authorizers_in_flow(build.administration(1), flows)


# --- R11-R13: who may act on an offer ----------------------------------------------------------


def test_r11_a_super_user_of_the_redeeming_environment_is_the_recipient(build: Build) -> None:
    rules.require_recipient(build.offer(target_environment_id=2), build.user(2, environment_id=2))


def test_r11_to_a_super_user_of_another_environment_the_offer_is_unknown(
    build: Build, refused: Refused
) -> None:
    with refused(NotFound, "unknown_offer"):
        rules.require_recipient(
            build.offer(target_environment_id=2), build.user(3, environment_id=3)
        )


def test_r11_a_plain_user_of_the_redeeming_environment_is_refused(
    build: Build, refused: Refused
) -> None:
    with refused(NotAllowed, "not_super_user"):
        rules.require_recipient(
            build.offer(target_environment_id=2), build.user(2, environment_id=2, role=Role.USER)
        )


def test_r12_a_super_user_of_the_offering_environment_is_the_sender(build: Build) -> None:
    rules.require_sender(build.offer(), build.user(4, environment_id=1))


def test_r12_anyone_else_is_not_the_sender(build: Build, refused: Refused) -> None:
    with refused(NotFound, "unknown_offer"):
        rules.require_sender(build.offer(), build.user(2, environment_id=2))
    with refused(NotAllowed, "not_super_user"):
        rules.require_sender(build.offer(), build.user(1, role=Role.USER))


# --- R14, R15 ----------------------------------------------------------------------------------


def test_r14_a_moved_administration_keeps_id_and_inbox_and_takes_the_target_place(
    build: Build,
) -> None:
    administration = build.administration(1)
    target = build.connection(2, environment_id=2)

    moved = rules.moved_administration(
        administration, target, build.package_administration("div-9", "0099", "Bakker BV")
    )

    assert moved.id == administration.id
    assert moved.email == administration.email
    assert moved.package is administration.package
    assert (moved.environment_id, moved.connection_id) == (2, 2)
    assert (moved.code, moved.name, moved.package_admin_id) == ("0099", "Bakker BV", "div-9")


def test_r15_the_charge_goes_to_the_target_and_is_keyed_by_the_migration(build: Build) -> None:
    migration = build.migration(7, administration_id=3, target_environment_id=2)

    assert rules.charge_for(migration, build.now) == Charge(7, 2, 3, build.now)


# --- R16 ---------------------------------------------------------------------------------------


def test_r16_a_super_user_relinks_within_their_environment(build: Build) -> None:
    rules.require_relink(
        build.user(),
        build.administration(1),
        build.connection(3, environment_id=1),
        build.package_administration("div-9"),
    )


def test_r16_relinking_to_another_administration_in_the_same_connection_passes(
    build: Build,
) -> None:
    rules.require_relink(
        build.user(),
        build.administration(1, package_admin_id="div-1"),
        build.connection(1),
        build.package_administration("div-9"),
    )


def test_r16_a_plain_user_may_not_relink(build: Build, refused: Refused) -> None:
    with refused(NotAllowed, "not_super_user"):
        rules.require_relink(
            build.user(role=Role.USER),
            build.administration(1),
            build.connection(3),
            build.package_administration(),
        )


def test_r16_a_connection_of_another_environment_is_refused(build: Build, refused: Refused) -> None:
    with refused(NotFound, "unknown_connection"):
        rules.require_relink(
            build.user(),
            build.administration(1),
            build.connection(3, environment_id=2),
            build.package_administration(),
        )


def test_r16_a_connection_of_another_package_is_refused(build: Build, refused: Refused) -> None:
    with refused(
        RuleViolation, "package_mismatch", source_package="Exact Online (NL)", target_package="Xero"
    ):
        rules.require_relink(
            build.user(),
            build.administration(1),
            build.connection(3, package=AccountingPackage.XERO),
            build.package_administration(),
        )


def test_r16_relinking_to_where_it_already_is_is_refused(build: Build, refused: Refused) -> None:
    with refused(RuleViolation, "relink_same_target", code="0001", name="Bakkerij 1"):
        rules.require_relink(
            build.user(),
            build.administration(1, package_admin_id="div-1"),
            build.connection(1),
            build.package_administration("div-1"),
        )


# --- input -------------------------------------------------------------------------------------


def test_recipients_are_trimmed_deduplicated_and_blanks_skipped() -> None:
    cleaned = rules.require_valid_recipients(
        [" baas@zuid.nl ", "", "   ", "BAAS@zuid.nl", "hulp@zuid.example.com"]
    )

    assert cleaned == ("baas@zuid.nl", "hulp@zuid.example.com")


@pytest.mark.parametrize("addresses", [[], [""], ["  ", "\t"]])
def test_no_recipient_is_refused(refused: Refused, addresses: list[str]) -> None:
    with refused(InvalidInput, "no_recipients"):
        rules.require_valid_recipients(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "baas",
        "baas@zuid",
        "baas@@zuid.nl",
        "baas zuid@zuid.nl",
        "<baas@zuid.nl>",
        "baas@zuid.nl,hulp@zuid.nl",
        "@zuid.nl",
        "baas@.nl",
        "baas@zuid..nl",
    ],
)
def test_a_malformed_address_is_refused_by_name(refused: Refused, address: str) -> None:
    with refused(InvalidInput, "email_invalid", email=address):
        rules.require_valid_recipients(["goed@zuid.nl", address])


def test_more_than_twenty_recipients_are_refused(refused: Refused) -> None:
    addresses = [f"r{i}@zuid.nl" for i in range(21)]

    with refused(InvalidInput, "email_invalid", email="r20@zuid.nl"):
        rules.require_valid_recipients(addresses)


@pytest.mark.parametrize(("reason", "kept"), [(None, None), ("  ", None), (" Dubbel ", "Dubbel")])
def test_a_rejection_reason_is_optional_and_trimmed(reason: str | None, kept: str | None) -> None:
    assert rules.clean_reason(reason) == kept


def test_an_overly_long_reason_is_refused(refused: Refused) -> None:
    with refused(InvalidInput, "reason_too_long", limit=1000):
        rules.clean_reason("x" * 1001)


def test_a_search_term_is_trimmed_and_bounded(refused: Refused) -> None:
    assert rules.clean_search(None) == ""
    assert rules.clean_search("  Bakkerij ") == "Bakkerij"
    with refused(InvalidInput, "search_too_long", limit=200):
        rules.clean_search("x" * 201)
