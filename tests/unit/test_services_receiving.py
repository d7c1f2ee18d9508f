"""The recipient's side: redeem a code, reject, start, retry, and the incoming overview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs
import pytest

from migrationkit import services
from migrationkit.domain.errors import (
    InvalidInput,
    Locked,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from migrationkit.domain.model import AccountingPackage, Administration, ItemStatus, Migration, Role
from migrationkit.services import OfferReceipt, TargetChoice

if TYPE_CHECKING:
    from conftest import Office, Scene

KORENSCHOOF = "0042 Bakkerij de Korenschoof"
WRONG = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"


def redeem(
    scene: Scene,
    code: str,
    *,
    office: Office | None = None,
    actor_id: int | None = None,
    terms: bool = True,
    costs: bool = True,
) -> services.RedeemedOffer:
    return services.redeem_code(
        scene.deps,
        actor_id=actor_id or (office or scene.zuid).super_user.id,
        code=code,
        accepted_terms=terms,
        accepted_costs=costs,
    )


def redeemed(scene: Scene, *administrations: Administration) -> OfferReceipt:
    receipt = scene.offer(*administrations)
    scene.redeem(receipt)
    return receipt


# --- redeem (R3, R5-R7) ------------------------------------------------------------------------


def test_a_code_opens_the_offer_and_binds_it_to_the_environment(scene: Scene) -> None:
    receipt = scene.offer()

    opened = redeem(scene, receipt.code)

    assert opened.offer.id == receipt.offer.id
    assert opened.source_environment_name == "Noord"
    assert opened.offer.target_environment_id == scene.zuid.environment.id
    assert opened.offer.redeemed_by_user_id == scene.zuid.super_user.id
    assert [(i.code, i.status) for i in opened.items] == [("0042", ItemStatus.OFFERED)]
    assert opened.selectable == opened.items


def test_a_code_is_read_without_regard_to_case_spaces_or_dashes(scene: Scene) -> None:
    receipt = scene.offer()
    typed = "  " + receipt.code.lower().replace("-", " ").replace("0", "o") + " "

    assert redeem(scene, typed).offer.id == receipt.offer.id


def test_the_redeeming_environment_may_enter_its_code_again(scene: Scene) -> None:
    receipt = redeemed(scene)

    assert redeem(scene, receipt.code).offer.target_environment_id == scene.zuid.environment.id


def test_the_redeemed_offer_can_be_opened_again_by_the_recipient_only(scene: Scene) -> None:
    receipt = redeemed(scene)

    again = services.redeemed_offer(
        scene.deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id
    )

    assert [item.id for item in again.items] == [receipt.items[0].id]
    with scene.refused(NotFound, "unknown_offer"):
        services.redeemed_offer(
            scene.deps, actor_id=scene.oost.super_user.id, offer_id=receipt.offer.id
        )


def test_the_redeemed_offer_counts_its_items_per_status_with_their_migrations(
    scene: Scene,
) -> None:
    administrations = [scene.administration(f"00{n}", f"Klant {n}") for n in range(1, 4)]
    receipt = redeemed(scene, *administrations)
    first, second, _third = receipt.items
    services.withdraw_item(scene.deps, actor_id=scene.noord.super_user.id, item_id=second.id)
    (migration,) = services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(first)],
    )

    shown = services.redeemed_offer(
        scene.deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id
    )

    assert shown.counts == (
        (ItemStatus.OFFERED, 1),
        (ItemStatus.WITHDRAWN, 1),
        (ItemStatus.QUEUED, 1),
    )
    assert shown.migrations == {first.id: migration}
    assert shown.running


def test_an_unknown_code_is_refused_and_counted(scene: Scene) -> None:
    scene.offer()

    with scene.refused(RuleViolation, "code_unknown", wrong_code_recorded=True):
        redeem(scene, WRONG)


def test_a_mistyped_code_is_told_apart_and_counted(scene: Scene) -> None:
    receipt = scene.offer()

    with scene.refused(
        InvalidInput, "code_malformed", given=23, length=24, wrong_code_recorded=True
    ):
        redeem(scene, receipt.code[:-1])


def test_an_expired_code_is_refused_with_its_expiry_moment(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(timedelta(days=15))

    with scene.refused(RuleViolation, "code_expired", expired_at="17-11-2026 10:00"):
        redeem(scene, receipt.code)


def test_a_code_is_valid_until_the_last_second(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(timedelta(days=15, seconds=-1))

    assert redeem(scene, receipt.code).items[0].status is ItemStatus.OFFERED


def test_a_withdrawn_offer_is_refused(scene: Scene) -> None:
    receipt = scene.offer()
    services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
    )

    with scene.refused(RuleViolation, "code_withdrawn"):
        redeem(scene, receipt.code)


def test_a_code_redeemed_by_one_environment_is_used_for_another(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(RuleViolation, "code_used"):
        redeem(scene, receipt.code, office=scene.oost)


def test_the_sender_cannot_redeem_its_own_code(scene: Scene) -> None:
    receipt = scene.offer()

    with scene.refused(RuleViolation, "own_environment"):
        redeem(scene, receipt.code, office=scene.noord)


def test_a_plain_user_may_not_redeem(scene: Scene) -> None:
    receipt = scene.offer()

    with scene.refused(NotAllowed, "not_super_user"):
        redeem(scene, receipt.code, actor_id=scene.zuid.user.id)


def test_an_environment_without_subscription_may_not_redeem(scene: Scene) -> None:
    west = scene.office("West", subscription=False)
    receipt = scene.offer(to=("baas@west.nl",))

    with scene.refused(RuleViolation, "no_subscription", environment="West"):
        redeem(scene, receipt.code, office=west)


@pytest.mark.parametrize(
    ("terms", "costs", "code"),
    [
        (False, True, "terms_not_accepted"),
        (True, False, "costs_not_accepted"),
        (False, False, "terms_not_accepted"),
    ],
)
def test_redeeming_needs_the_terms_and_the_costs_accepted(
    scene: Scene, terms: bool, costs: bool, code: str
) -> None:
    receipt = scene.offer()

    with scene.refused(InvalidInput, code):
        redeem(scene, receipt.code, terms=terms, costs=costs)


def test_r7_who_and_where_are_checked_before_the_code_and_cost_no_attempt(scene: Scene) -> None:
    west = scene.office("West", subscription=False)

    with scene.refused(NotAllowed, "not_super_user"):
        redeem(scene, WRONG, actor_id=west.user.id, terms=False, costs=False)
    with scene.refused(RuleViolation, "no_subscription", environment="West"):
        redeem(scene, WRONG, office=west, terms=False, costs=False)
    with scene.refused(InvalidInput, "terms_not_accepted"):
        redeem(scene, WRONG, terms=False, costs=False)
    with scene.refused(InvalidInput, "costs_not_accepted"):
        redeem(scene, WRONG, costs=False)


# --- R7: lockout -------------------------------------------------------------------------------


def fail_to_redeem(scene: Scene, times: int, actor_id: int | None = None) -> None:
    for _ in range(times):
        with pytest.raises(RuleViolation):
            redeem(scene, WRONG, actor_id=actor_id)


def test_four_wrong_codes_do_not_lock(scene: Scene) -> None:
    receipt = scene.offer()
    fail_to_redeem(scene, 4)

    assert redeem(scene, receipt.code).offer.id == receipt.offer.id


def test_five_wrong_codes_lock_and_the_right_code_gets_the_lockout_answer(scene: Scene) -> None:
    receipt = scene.offer()
    fail_to_redeem(scene, 5)

    with scene.refused(Locked, "redeem_locked", until="10:15"):
        redeem(scene, receipt.code)


def test_the_lock_opens_when_the_oldest_wrong_code_leaves_the_window(scene: Scene) -> None:
    receipt = scene.offer()
    fail_to_redeem(scene, 1)
    scene.world.clock.advance(timedelta(minutes=5))
    fail_to_redeem(scene, 4)
    scene.world.clock.advance(timedelta(minutes=10) - timedelta(seconds=1))

    with scene.refused(Locked, "redeem_locked", until="10:15"):
        redeem(scene, receipt.code)
    scene.world.clock.advance(timedelta(seconds=1))
    assert redeem(scene, receipt.code).offer.id == receipt.offer.id


def test_wrong_codes_of_several_users_lock_their_environment(scene: Scene) -> None:
    receipt = scene.offer()
    with scene.world.uow() as uow:
        colleague = uow.users.add(
            scene.zuid.environment.id, "collega@zuid.nl", "Collega", Role.SUPER_USER
        )
        uow.commit()
    fail_to_redeem(scene, 3)
    fail_to_redeem(scene, 2, actor_id=colleague.id)

    with scene.refused(Locked, "redeem_locked", until="10:15"):
        redeem(scene, receipt.code)
    with scene.refused(Locked, "redeem_locked", until="10:15"):
        redeem(scene, receipt.code, actor_id=colleague.id)


def test_a_lock_of_one_environment_leaves_another_free(scene: Scene) -> None:
    receipt = scene.offer(to=("baas@oost.nl",))
    fail_to_redeem(scene, 5)

    assert redeem(scene, receipt.code, office=scene.oost).offer.id == receipt.offer.id


def test_refusals_of_a_right_code_do_not_count_towards_the_lockout(scene: Scene) -> None:
    receipt = redeemed(scene)
    for _ in range(5):
        with pytest.raises(RuleViolation, match="al gebruikt"):
            redeem(scene, receipt.code, office=scene.oost)

    fresh = scene.offer(scene.administration("0043", "Slagerij Vos"), to=("baas@oost.nl",))
    assert redeem(scene, fresh.code, office=scene.oost).offer.id == fresh.offer.id


# --- reject (R11) ------------------------------------------------------------------------------


def reject(
    scene: Scene,
    receipt: OfferReceipt,
    item_ids: Sequence[int] | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
) -> tuple[object, ...]:
    return services.reject_items(
        scene.deps,
        actor_id=actor_id or scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        item_ids=item_ids,
        reason=reason,
    )


def test_rejecting_the_whole_request_e_mails_the_sender_who_sees_afgewezen(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))

    rejected = reject(scene, receipt, reason="  Klant blijft bij ons  ")

    assert len(rejected) == 2
    assert [scene.status(i.id) for i in receipt.items] == [ItemStatus.REJECTED] * 2
    [email] = scene.emails_of_kind("offer_rejected")
    assert email.to == ("baas@noord.nl",)
    assert "Reden: Klant blijft bij ons" in email.body
    rows = services.outgoing_overview(scene.deps, actor_id=scene.noord.super_user.id).rows
    assert {(row.status.label_nl, row.rejection_reason) for row in rows} == {
        ("Afgewezen", "Klant blijft bij ons")
    }


def test_rejecting_some_items_leaves_the_others_offered(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))

    reject(scene, receipt, [receipt.items[1].id])

    assert [scene.status(i.id) for i in receipt.items] == [
        ItemStatus.OFFERED,
        ItemStatus.REJECTED,
    ]
    [email] = scene.emails_of_kind("offer_rejected")
    assert "0043 Vos" in email.body
    assert "0042" not in email.body
    assert "Reden" not in email.body


def test_rejecting_the_whole_request_skips_what_already_started(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(receipt.items[0])],
    )

    reject(scene, receipt)

    assert [scene.status(i.id) for i in receipt.items] == [
        ItemStatus.QUEUED,
        ItemStatus.REJECTED,
    ]


def test_rejecting_a_started_item_refuses_the_whole_rejection(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(receipt.items[0])],
    )

    with scene.refused(
        RuleViolation,
        "item_started",
        code="0042",
        name="Bakkerij de Korenschoof",
        status=ItemStatus.QUEUED,
    ):
        reject(scene, receipt, [receipt.items[1].id, receipt.items[0].id])


def test_an_offer_with_nothing_offered_cannot_be_rejected(scene: Scene) -> None:
    receipt = redeemed(scene)
    reject(scene, receipt)

    with scene.refused(RuleViolation, "no_open_items"):
        reject(scene, receipt)


def test_an_expired_item_cannot_be_rejected(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.world.clock.advance(timedelta(days=15))

    with scene.refused(RuleViolation, "item_expired", code="0042", name="Bakkerij de Korenschoof"):
        reject(scene, receipt, [receipt.items[0].id])


def test_only_the_redeeming_environment_may_reject(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(NotFound, "unknown_offer"):
        reject(scene, receipt, actor_id=scene.oost.super_user.id)
    with scene.refused(NotAllowed, "not_super_user"):
        reject(scene, receipt, actor_id=scene.zuid.user.id)


def test_an_offer_not_yet_redeemed_cannot_be_rejected(scene: Scene) -> None:
    receipt = scene.offer()

    with scene.refused(NotFound, "unknown_offer"):
        reject(scene, receipt)


def test_an_item_of_another_offer_cannot_be_rejected(scene: Scene) -> None:
    receipt = redeemed(scene)
    other = redeemed(scene, scene.administration("0043", "Vos"))

    with scene.refused(RuleViolation, "unknown_item"):
        reject(scene, receipt, [other.items[0].id])


def test_a_rejection_of_no_items_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(InvalidInput, "no_administrations"):
        reject(scene, receipt, [])


def test_an_overly_long_reason_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(InvalidInput, "reason_too_long", limit=1000):
        reject(scene, receipt, reason="x" * 1001)


# --- start (R2, R8, R9, R13) -------------------------------------------------------------------


def start(
    scene: Scene,
    receipt: OfferReceipt,
    choices: Sequence[TargetChoice] | None = None,
    actor_id: int | None = None,
) -> tuple[Migration, ...]:
    return services.start_migrations(
        scene.deps,
        actor_id=actor_id or scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(i) for i in receipt.items] if choices is None else choices,
    )


def test_starting_queues_each_item_with_its_target_and_tells_the_sender(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    choices = [scene.choice(item) for item in receipt.items]

    migrations = start(scene, receipt, choices)

    assert [scene.status(i.id) for i in receipt.items] == [ItemStatus.QUEUED] * 2
    assert [(m.item_id, m.target_environment_id) for m in migrations] == [
        (item.id, scene.zuid.environment.id) for item in receipt.items
    ]
    assert [m.target.package_admin_id for m in migrations] == [c.package_admin_id for c in choices]
    [email] = scene.emails_of_kind("migration_started")
    assert email.to == ("baas@noord.nl",)
    assert "0042" in email.body
    assert "0043 Vos" in email.body


def test_one_job_per_migration_is_enqueued_after_the_commit(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    seen: list[ItemStatus] = []

    class Queue:
        def enqueue_migration(self, migration_id: int) -> None:
            with scene.world.uow() as uow:
                migration = uow.migrations.get(migration_id)
                assert migration is not None
                item = uow.items.get(migration.item_id)
                assert item is not None
                seen.append(item.status)

    scene.deps = attrs.evolve(scene.deps, queue=Queue())
    migrations = start(scene, receipt)

    assert seen == [ItemStatus.QUEUED, ItemStatus.QUEUED]
    assert len({m.id for m in migrations}) == 2


def test_each_started_migration_is_enqueued_once(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))

    migrations = start(scene, receipt)

    assert scene.world.queue.enqueued == [m.id for m in migrations]


def test_a_start_stands_when_the_queue_is_down(scene: Scene) -> None:
    receipt = redeemed(scene)

    class DownQueue:
        def enqueue_migration(self, migration_id: int) -> None:
            raise ConnectionError("redis is down")

    scene.deps = attrs.evolve(scene.deps, queue=DownQueue())
    [migration] = start(scene, receipt)

    assert scene.status(receipt.items[0].id) is ItemStatus.QUEUED
    with scene.world.uow() as uow:
        assert uow.migrations.get(migration.id) == migration
    assert len(scene.emails_of_kind("migration_started")) == 1


def test_the_package_may_have_changed_the_code(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.package_administration("zuid-1042", "1042", "Bakkerij de Korenschoof")

    [migration] = start(scene, receipt, [scene.choice(receipt.items[0], "zuid-1042")])

    assert (migration.target.code, migration.target.name) == ("1042", "Bakkerij de Korenschoof")


def test_r2_a_connection_of_another_package_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)
    twinfield = scene.connection(scene.zuid, AccountingPackage.TWINFIELD)
    scene.package_administration("tw-1", connection=twinfield)

    with scene.refused(
        RuleViolation,
        "package_mismatch",
        source_package="Exact Online (NL)",
        target_package="Twinfield",
    ):
        start(scene, receipt, [TargetChoice(receipt.items[0].id, twinfield.id, "tw-1")])


def test_a_connection_of_another_environment_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.package_administration("oost-1", connection=scene.oost.connection)

    with scene.refused(NotFound, "unknown_connection"):
        start(
            scene, receipt, [TargetChoice(receipt.items[0].id, scene.oost.connection.id, "oost-1")]
        )


def test_r8_a_code_name_pair_present_in_the_target_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.administration("0042", "Bakkerij de Korenschoof", office=scene.zuid)

    with scene.refused(
        RuleViolation,
        "code_name_taken",
        code="0042",
        environment="Zuid",
        name="Bakkerij de Korenschoof",
    ):
        start(scene, receipt)


def test_r8_an_unfinished_migration_reserves_its_code_and_name(scene: Scene) -> None:
    first = redeemed(scene)
    start(scene, first)
    twin = scene.administration("0042", "Bakkerij de Korenschoof", office=scene.oost)
    second = scene.offer(twin, sender=scene.oost)
    scene.redeem(second)
    scene.package_administration("zuid-twin", "0042", "Bakkerij de Korenschoof")

    with scene.refused(
        RuleViolation,
        "code_name_taken",
        code="0042",
        environment="Zuid",
        name="Bakkerij de Korenschoof",
    ):
        start(scene, second, [scene.choice(second.items[0], "zuid-twin")])


def test_r9_a_package_administration_that_does_not_exist_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(
        RuleViolation,
        "package_administration_missing",
        connection="Exact Online (NL) Zuid",
        package_admin_id="zuid-nergens",
    ):
        start(scene, receipt, [scene.choice(receipt.items[0], "zuid-nergens")])


def test_r9_a_package_administration_linked_already_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.package_administration("zuid-1", "0042", "Bakkerij de Korenschoof (kopie)")
    scene.administration("0042", "Bakkerij (kopie)", office=scene.zuid, package_admin_id="zuid-1")

    with scene.refused(
        RuleViolation,
        "package_administration_linked",
        code="0042",
        name="Bakkerij de Korenschoof (kopie)",
    ):
        start(scene, receipt, [scene.choice(receipt.items[0], "zuid-1")])


def test_two_items_cannot_go_to_one_package_administration(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    scene.package_administration("zuid-1", "0042", "Bakkerij de Korenschoof")

    with scene.refused(
        RuleViolation,
        "code_name_taken",
        code="0042",
        environment="Zuid",
        name="Bakkerij de Korenschoof",
    ):
        start(scene, receipt, [scene.choice(item, "zuid-1") for item in receipt.items])


def test_starting_twice_says_it_already_started(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    start(scene, receipt, choices)

    with scene.refused(
        RuleViolation,
        "item_started",
        code="0042",
        name="Bakkerij de Korenschoof",
        status=ItemStatus.QUEUED,
    ):
        start(scene, receipt, choices)


def test_a_start_one_second_before_expiry_goes_through(scene: Scene) -> None:
    receipt = redeemed(scene)
    scene.world.clock.advance(timedelta(days=15, seconds=-1))

    start(scene, receipt)

    assert scene.status(receipt.items[0].id) is ItemStatus.QUEUED


def test_a_start_after_expiry_says_verlopen(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    scene.world.clock.advance(timedelta(days=15))

    with scene.refused(RuleViolation, "item_expired", code="0042", name="Bakkerij de Korenschoof"):
        start(scene, receipt, choices)


def test_a_start_after_the_sweeper_expired_it_says_verlopen(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    scene.world.clock.advance(timedelta(days=15))
    services.sweep_offers(scene.deps)

    with scene.refused(RuleViolation, "item_expired", code="0042", name="Bakkerij de Korenschoof"):
        start(scene, receipt, choices)


@pytest.mark.parametrize(
    ("undo", "code"),
    [("withdraw", "item_withdrawn"), ("reject", "item_rejected")],
)
def test_a_withdrawn_or_rejected_item_cannot_start(scene: Scene, undo: str, code: str) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    choices = [scene.choice(receipt.items[0])]
    if undo == "withdraw":
        services.withdraw_item(
            scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
        )
    else:
        reject(scene, receipt, [receipt.items[0].id])

    with scene.refused(RuleViolation, code, code="0042", name="Bakkerij de Korenschoof"):
        start(scene, receipt, choices)


def test_a_failing_item_refuses_the_whole_start(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    choices = [scene.choice(receipt.items[0]), scene.choice(receipt.items[1], "zuid-nergens")]

    with pytest.raises(RuleViolation):
        start(scene, receipt, choices)

    assert [scene.status(i.id) for i in receipt.items] == [ItemStatus.OFFERED] * 2
    assert scene.world.queue.enqueued == []


def test_only_the_redeeming_environment_may_start(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]

    with scene.refused(NotFound, "unknown_offer"):
        start(scene, receipt, choices, actor_id=scene.oost.super_user.id)
    with scene.refused(NotAllowed, "not_super_user"):
        start(scene, receipt, choices, actor_id=scene.zuid.user.id)


def test_a_start_without_choices_is_refused(scene: Scene) -> None:
    receipt = redeemed(scene)

    with scene.refused(InvalidInput, "no_administrations"):
        start(scene, receipt, [])


def test_only_unlinked_package_administrations_are_offered_as_targets(scene: Scene) -> None:
    free = scene.package_administration("zuid-1", "0042", "Bakkerij de Korenschoof")
    scene.package_administration("zuid-2", "0050", "Al gekoppeld")
    scene.administration("0050", "Al gekoppeld", office=scene.zuid, package_admin_id="zuid-2")

    available = services.available_package_administrations(
        scene.deps, actor_id=scene.zuid.super_user.id, connection_id=scene.zuid.connection.id
    )

    assert available == (free,)


# --- retry (R13) -------------------------------------------------------------------------------


def failed(scene: Scene) -> tuple[OfferReceipt, Migration]:
    receipt, migration = scene.processing()
    services.fail_migration(scene.deps, migration.id, "archief onbereikbaar")
    return receipt, migration


def test_a_failed_migration_is_queued_again_by_a_retry(scene: Scene) -> None:
    receipt, migration = failed(scene)
    scene.world.queue.take()

    services.retry_migration(
        scene.deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id
    )

    assert scene.status(receipt.items[0].id) is ItemStatus.QUEUED
    assert scene.world.queue.take() == [migration.id]
    claimed = services.claim_migration(scene.deps, migration.id)
    assert claimed is not None
    assert claimed.attempts == 2
    assert claimed.failure_reason is None


def test_only_a_failed_migration_can_be_retried(scene: Scene) -> None:
    _, migration = scene.processing()

    with scene.refused(RuleViolation, "migration_not_failed"):
        services.retry_migration(
            scene.deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id
        )


def test_only_the_recipient_may_retry(scene: Scene) -> None:
    _, migration = failed(scene)

    with scene.refused(NotFound, "unknown_migration"):
        services.retry_migration(
            scene.deps, actor_id=scene.noord.super_user.id, migration_id=migration.id
        )


def test_retrying_an_unknown_migration_is_refused(scene: Scene) -> None:
    with scene.refused(NotFound, "unknown_migration"):
        services.retry_migration(scene.deps, actor_id=scene.zuid.super_user.id, migration_id=99)


# --- the incoming overview ---------------------------------------------------------------------


def incoming(scene: Scene, search: str | None = None, office: Office | None = None) -> list[str]:
    rows = services.incoming_overview(
        scene.deps, actor_id=(office or scene.zuid).super_user.id, search=search
    ).rows
    return [row.administration_code for row in rows]


def test_the_incoming_overview_shows_every_column_of_the_guide(scene: Scene) -> None:
    receipt = redeemed(scene)
    [migration] = start(scene, receipt)

    [row] = services.incoming_overview(scene.deps, actor_id=scene.zuid.super_user.id).rows

    assert row.item_id == receipt.items[0].id
    assert row.offered_at == receipt.offer.created_at
    assert (row.administration_code, row.administration_name) == ("0042", "Bakkerij de Korenschoof")
    assert row.package is AccountingPackage.EXACT_ONLINE_NL
    assert row.source_environment_name == "Noord"
    assert row.status is ItemStatus.QUEUED
    assert row.migration == migration
    assert not row.can_retry


def test_the_incoming_overview_lists_only_what_the_environment_redeemed(scene: Scene) -> None:
    redeemed(scene)
    scene.offer(scene.administration("0043", "Vos"))

    assert incoming(scene) == ["0042"]
    assert incoming(scene, office=scene.oost) == []


@pytest.fixture
def incoming_rows(scene: Scene) -> Scene:
    """Zuid redeemed 0001 on 02-11 and started it, and 0002 on 03-11 from Oost."""
    first = redeemed(scene, scene.administration("0001", "Bakkerij de Korenschoof"))
    start(scene, first)
    scene.world.clock.advance(timedelta(days=1))
    second = scene.offer(
        scene.administration("0002", "Slagerij Vos", office=scene.oost), sender=scene.oost
    )
    scene.redeem(second)
    return scene


@pytest.mark.parametrize(
    ("search", "found"),
    [
        (None, ["0002", "0001"]),
        ("02-11-2026", ["0001"]),
        ("slagerij", ["0002"]),
        ("0001", ["0001"]),
        ("exact online (nl)", ["0002", "0001"]),
        ("Oost", ["0002"]),
        ("In de wachtrij", ["0001"]),
        ("queued", ["0001"]),
        ("Aangeboden", ["0002"]),
        ("offered", ["0002"]),
        ("Noord korenschoof", ["0001"]),
        ("Twinfield", []),
    ],
)
def test_the_incoming_search_looks_in_every_column(
    incoming_rows: Scene, search: str | None, found: list[str]
) -> None:
    assert incoming(incoming_rows, search) == found


def test_a_plain_user_does_not_see_the_incoming_overview(scene: Scene) -> None:
    with scene.refused(NotAllowed, "not_super_user"):
        services.incoming_overview(scene.deps, actor_id=scene.zuid.user.id)


# --- races -------------------------------------------------------------------------------------


def test_a_start_while_the_sweeper_expires_the_item_says_verlopen(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    scene.world.clock.advance(timedelta(days=15))
    scene.race(services.sweep_offers)

    with pytest.raises(RuleViolation) as caught:
        start(scene, receipt, choices)

    assert caught.value.code == "item_expired"
    assert scene.status(receipt.items[0].id) is ItemStatus.EXPIRED
