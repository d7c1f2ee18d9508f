"""The sender's side: offer, withdraw, resend and the outgoing overview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from migrationkit import services
from migrationkit.domain import codes
from migrationkit.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound, RuleViolation
from migrationkit.domain.model import Administration, ItemStatus
from migrationkit.testing._world import TEST_CODE_SECRET

if TYPE_CHECKING:
    from conftest import Scene

KORENSCHOOF = "0042 Bakkerij de Korenschoof"


def offer_by(
    scene: Scene,
    actor_id: int,
    administration_ids: Sequence[int],
    *,
    connection_id: int | None = None,
    recipients: Sequence[str] = ("baas@zuid.nl",),
    accepted_terms: bool = True,
) -> services.OfferReceipt:
    """An offer from Noord's connection unless told otherwise."""
    return services.offer_administrations(
        scene.deps,
        actor_id=actor_id,
        connection_id=connection_id or scene.noord.connection.id,
        administration_ids=administration_ids,
        recipients=recipients,
        accepted_terms=accepted_terms,
    )


# --- offer -------------------------------------------------------------------------------------


def test_an_offer_gives_the_full_code_once_and_keeps_only_its_digest(scene: Scene) -> None:
    receipt = scene.offer()

    normalised = codes.normalise_code(receipt.code)
    assert receipt.offer.code_digest == codes.digest_code(normalised, TEST_CODE_SECRET)
    assert receipt.offer.code_hint == normalised[-4:]
    stored = scene.snapshot()
    for table in ("offers", "items", "status_changes"):
        assert normalised not in repr(stored[table])
        assert receipt.code not in repr(stored[table])


def test_an_offer_puts_each_administration_on_aangeboden_until_fifteen_days(
    scene: Scene,
) -> None:
    first = scene.administration("0042", "Bakkerij de Korenschoof")
    second = scene.administration("0043", "Slagerij Vos")

    receipt = scene.offer(first, second)

    now = scene.world.clock.now()
    assert receipt.offer.expires_at == now + timedelta(days=15)
    assert [(i.administration_id, i.code, i.name, i.status) for i in receipt.items] == [
        (first.id, "0042", "Bakkerij de Korenschoof", ItemStatus.OFFERED),
        (second.id, "0043", "Slagerij Vos", ItemStatus.OFFERED),
    ]
    assert [scene.status(item.id) for item in receipt.items] == [ItemStatus.OFFERED] * 2


def test_the_code_goes_to_the_recipients_with_a_copy_to_the_sender(scene: Scene) -> None:
    receipt = scene.offer(to=("baas@zuid.nl", "hulp@zuid.nl"))

    [email] = scene.emails()
    assert email.kind == "offer_code"
    assert email.to == ("baas@zuid.nl", "hulp@zuid.nl")
    assert email.cc == ("baas@noord.nl",)
    # The stored body holds a mark, the code is the e-mail's secret until it is sent (R5).
    assert receipt.code not in email.body
    assert email.secret == receipt.code
    assert "Je overdrachtscode: " + receipt.code in email.text()
    assert KORENSCHOOF in email.body
    assert "17-11-2026 10:00" in email.body


def test_the_senders_own_prefilled_address_is_not_a_recipient(scene: Scene) -> None:
    receipt = scene.offer(to=("BAAS@noord.nl", "baas@zuid.nl"))

    assert receipt.offer.recipients == ("baas@zuid.nl",)
    [email] = scene.emails()
    assert email.to == ("baas@zuid.nl",)
    assert email.cc == ("baas@noord.nl",)


def test_the_overview_shows_the_code_masked(scene: Scene) -> None:
    receipt = scene.offer()

    [row] = services.outgoing_overview(scene.deps, actor_id=scene.noord.super_user.id).rows

    assert row.masked_code == "••••-••••-••••-••••-••••-" + receipt.code[-4:]
    assert receipt.code[:4] not in row.masked_code


def test_an_administration_whose_offer_was_withdrawn_can_be_offered_again(scene: Scene) -> None:
    administration = scene.administration()
    first = scene.offer(administration)
    services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=first.items[0].id
    )

    second = scene.offer(administration)

    assert second.offer.id != first.offer.id
    assert scene.status(second.items[0].id) is ItemStatus.OFFERED


def test_a_plain_user_may_not_offer(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotAllowed, "not_super_user"):
        offer_by(scene, scene.noord.user.id, [administration.id])


def test_an_administration_with_authorizers_in_a_flow_cannot_be_offered(scene: Scene) -> None:
    administration = scene.administration()
    scene.flow(administration, "Inkoop", scene.noord.user)
    scene.flow(administration, "Zonder autorisatoren")

    with scene.refused(
        RuleViolation,
        "authorizers_in_flow",
        code="0042",
        flows="Inkoop",
        name="Bakkerij de Korenschoof",
    ):
        offer_by(scene, scene.noord.super_user.id, [administration.id])


def test_an_administration_in_an_open_offer_cannot_be_offered_again(scene: Scene) -> None:
    administration = scene.administration()
    scene.offer(administration)

    with scene.refused(
        RuleViolation, "already_offered", code="0042", name="Bakkerij de Korenschoof"
    ):
        offer_by(scene, scene.noord.super_user.id, [administration.id])


@pytest.mark.parametrize("recipients", [[], [""], ["  "], ["baas@noord.nl"]])
def test_an_offer_without_recipients_is_refused(scene: Scene, recipients: list[str]) -> None:
    administration = scene.administration()

    with scene.refused(InvalidInput, "no_recipients"):
        offer_by(
            scene,
            scene.noord.super_user.id,
            [administration.id],
            recipients=recipients,
        )


@pytest.mark.parametrize("address", ["baas", "baas@zuid", "baas zuid@zuid.nl", "baas@@zuid.nl"])
def test_an_offer_to_a_malformed_address_is_refused(scene: Scene, address: str) -> None:
    administration = scene.administration()

    with scene.refused(InvalidInput, "email_invalid", email=address):
        offer_by(
            scene,
            scene.noord.super_user.id,
            [administration.id],
            recipients=["baas@zuid.nl", address],
        )


def test_an_offer_needs_the_terms_accepted(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(InvalidInput, "terms_not_accepted"):
        offer_by(
            scene,
            scene.noord.super_user.id,
            [administration.id],
            accepted_terms=False,
        )


def test_an_offer_needs_an_administration(scene: Scene) -> None:
    with scene.refused(InvalidInput, "no_administrations"):
        offer_by(scene, scene.noord.super_user.id, [])


def test_an_offer_from_another_environments_connection_is_refused(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotFound, "unknown_connection"):
        offer_by(
            scene,
            scene.noord.super_user.id,
            [administration.id],
            connection_id=scene.zuid.connection.id,
        )


def test_an_offer_of_another_environments_administration_is_refused(scene: Scene) -> None:
    theirs = scene.administration(office=scene.zuid)

    with scene.refused(NotFound, "unknown_administration"):
        offer_by(scene, scene.noord.super_user.id, [theirs.id])


def test_an_offer_of_administrations_of_two_connections_is_refused(scene: Scene) -> None:
    other = scene.connection(scene.noord, scene.noord.connection.package)
    first = scene.administration("0042")
    second = scene.administration("0043", "Slagerij Vos", connection=other)

    with scene.refused(
        RuleViolation, "administration_not_in_connection", code="0043", name="Slagerij Vos"
    ):
        offer_by(scene, scene.noord.super_user.id, [first.id, second.id])


def test_an_offer_of_an_unknown_administration_is_refused(scene: Scene) -> None:
    with scene.refused(NotFound, "unknown_administration"):
        offer_by(scene, scene.noord.super_user.id, [999])


# --- offerable administrations (the dry run is in test_services_preflight.py) -------------


def test_only_administrations_outside_an_open_offer_are_offerable(scene: Scene) -> None:
    offered = scene.administration("0042")
    free = scene.administration("0043", "Slagerij Vos")
    scene.offer(offered)

    offerable = services.offerable_administrations(
        scene.deps, actor_id=scene.noord.super_user.id, connection_id=scene.noord.connection.id
    )

    assert offerable == (free,)


def test_offerable_administrations_are_filtered_by_every_word_in_code_or_name(
    scene: Scene,
) -> None:
    bakkerij = scene.administration("0042", "Bakkerij de Korenschoof")
    scene.administration("0043", "Slagerij Vos")
    second = scene.administration("1042", "Bakkerij Vos")

    def offerable(search: str) -> tuple[Administration, ...]:
        return services.offerable_administrations(
            scene.deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            search=search,
        )

    assert offerable("bakkerij") == (bakkerij, second)
    assert offerable("42 VOS") == (second,)


# --- withdraw (R12) ----------------------------------------------------------------------------


def withdraw(scene: Scene, item_id: int, actor_id: int | None = None) -> None:
    services.withdraw_item(
        scene.deps, actor_id=actor_id or scene.noord.super_user.id, item_id=item_id
    )


def test_the_sender_withdraws_an_offered_item_and_the_recipients_hear_of_it(
    scene: Scene,
) -> None:
    receipt = scene.offer(to=("baas@zuid.nl", "hulp@zuid.nl"))

    withdrawn = services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
    )

    assert withdrawn.status is ItemStatus.WITHDRAWN
    assert scene.status(withdrawn.id) is ItemStatus.WITHDRAWN
    [email] = scene.emails_of_kind("offer_withdrawn")
    assert email.to == ("baas@zuid.nl", "hulp@zuid.nl")
    assert KORENSCHOOF in email.body


def test_withdrawing_one_item_leaves_the_others_offered(scene: Scene) -> None:
    receipt = scene.offer(scene.administration("0042"), scene.administration("0043", "Vos"))

    withdraw(scene, receipt.items[0].id)

    assert [scene.status(i.id) for i in receipt.items] == [
        ItemStatus.WITHDRAWN,
        ItemStatus.OFFERED,
    ]


def test_a_started_item_cannot_be_withdrawn(scene: Scene) -> None:
    receipt, _ = scene.started()

    with scene.refused(
        RuleViolation,
        "item_started",
        code="0042",
        name="Bakkerij de Korenschoof",
        status=ItemStatus.QUEUED,
    ):
        withdraw(scene, receipt.items[0].id)


def test_a_withdrawn_item_cannot_be_withdrawn_again(scene: Scene) -> None:
    receipt = scene.offer()
    withdraw(scene, receipt.items[0].id)

    with scene.refused(
        RuleViolation, "item_withdrawn", code="0042", name="Bakkerij de Korenschoof"
    ):
        withdraw(scene, receipt.items[0].id)


def test_an_expired_item_cannot_be_withdrawn(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(timedelta(days=15))

    with scene.refused(RuleViolation, "item_expired", code="0042", name="Bakkerij de Korenschoof"):
        withdraw(scene, receipt.items[0].id)


def test_only_a_super_user_of_the_sender_may_withdraw(scene: Scene) -> None:
    receipt = scene.offer()
    scene.redeem(receipt)

    with scene.refused(NotFound, "unknown_item"):
        withdraw(scene, receipt.items[0].id, scene.zuid.super_user.id)
    with scene.refused(NotAllowed, "not_super_user"):
        withdraw(scene, receipt.items[0].id, scene.noord.user.id)


def test_withdrawing_an_unknown_item_is_refused(scene: Scene) -> None:
    with scene.refused(NotFound, "unknown_item"):
        withdraw(scene, 999)


# --- resend (R5) -------------------------------------------------------------------------------


def resend(
    scene: Scene, receipt: services.OfferReceipt, actor_id: int | None = None
) -> services.OfferReceipt:
    return services.resend_code(
        scene.deps, actor_id=actor_id or scene.noord.super_user.id, offer_id=receipt.offer.id
    )


def test_a_resent_code_works_and_the_old_one_is_unknown(scene: Scene) -> None:
    receipt = scene.offer()

    resent = resend(scene, receipt)

    assert resent.code != receipt.code
    with scene.refused(RuleViolation, "code_unknown", wrong_code_recorded=True):
        scene.redeem(receipt)
    assert scene.redeem(resent).offer.id == receipt.offer.id


def test_a_resent_code_is_e_mailed_and_valid_for_the_full_period_again(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(timedelta(days=10))

    resent = resend(scene, receipt)

    assert resent.offer.expires_at == scene.world.clock.now() + timedelta(days=15)
    [_, email] = scene.emails_of_kind("offer_code")
    assert email.to == ("baas@zuid.nl",)
    assert email.cc == ("baas@noord.nl",)
    assert resent.code in email.text()
    assert "22-11-2026 10:00" not in email.body
    assert "27-11-2026 10:00" in email.body
    [row] = services.outgoing_overview(scene.deps, actor_id=scene.noord.super_user.id).rows
    assert row.masked_code.endswith(resent.code[-4:])


def test_a_resend_lists_only_the_items_still_offered(scene: Scene) -> None:
    receipt = scene.offer(
        scene.administration("0042"), scene.administration("0043", "Slagerij Vos")
    )
    withdraw(scene, receipt.items[0].id)

    resent = resend(scene, receipt)

    assert [item.code for item in resent.items] == ["0043"]
    assert "Slagerij Vos" in scene.emails_of_kind("offer_code")[-1].body
    assert KORENSCHOOF not in scene.emails_of_kind("offer_code")[-1].body


def test_a_code_cannot_be_resent_when_nothing_is_offered(scene: Scene) -> None:
    receipt = scene.offer()
    withdraw(scene, receipt.items[0].id)

    with scene.refused(RuleViolation, "no_open_items"):
        resend(scene, receipt)


def test_an_expired_code_cannot_be_resent(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(timedelta(days=15))

    with scene.refused(RuleViolation, "no_open_items"):
        resend(scene, receipt)


def test_only_a_super_user_of_the_sender_may_resend(scene: Scene) -> None:
    receipt = scene.offer()

    with scene.refused(NotFound, "unknown_offer"):
        resend(scene, receipt, scene.zuid.super_user.id)
    with scene.refused(NotAllowed, "not_super_user"):
        resend(scene, receipt, scene.noord.user.id)


# --- the outgoing overview ---------------------------------------------------------------------


def overview(scene: Scene, search: str | None = None) -> list[str]:
    """The codes of the administrations in Noord's outgoing overview."""
    rows = services.outgoing_overview(
        scene.deps, actor_id=scene.noord.super_user.id, search=search
    ).rows
    return [row.administration_code for row in rows]


def test_the_outgoing_overview_shows_every_column_of_the_guide(scene: Scene) -> None:
    receipt = scene.offer(to=("baas@zuid.nl", "hulp@zuid.nl"))

    [row] = services.outgoing_overview(scene.deps, actor_id=scene.noord.super_user.id).rows

    assert row.item_id == receipt.items[0].id
    assert row.offer_id == receipt.offer.id
    assert row.offered_at == scene.world.clock.now()
    assert (row.administration_code, row.administration_name) == (
        "0042",
        "Bakkerij de Korenschoof",
    )
    assert row.administration_email == "0042@inbox.example"
    assert row.recipients == ("baas@zuid.nl", "hulp@zuid.nl")
    assert row.expires_at == receipt.offer.expires_at
    assert row.status is ItemStatus.OFFERED
    assert row.can_withdraw
    assert row.rejection_reason is None


def test_the_outgoing_overview_is_newest_first_and_only_the_senders(scene: Scene) -> None:
    scene.offer(scene.administration("0001", "Eerste"))
    scene.world.clock.advance(timedelta(days=1))
    scene.offer(scene.administration("0002", "Tweede"))
    scene.offer(
        scene.administration("0003", "Van Zuid", office=scene.zuid),
        sender=scene.zuid,
        to=("baas@oost.nl",),
    )

    assert overview(scene) == ["0002", "0001"]


def test_an_expired_offer_reads_verlopen_before_the_sweeper_ran(scene: Scene) -> None:
    scene.offer()
    scene.world.clock.advance(timedelta(days=15))

    [row] = services.outgoing_overview(scene.deps, actor_id=scene.noord.super_user.id).rows

    assert row.status is ItemStatus.EXPIRED
    assert not row.can_withdraw


@pytest.fixture
def three_rows(scene: Scene) -> Scene:
    """0001 offered on 02-11 to Zuid, 0002 on 03-11 to Oost and withdrawn, 0003 on 04-11
    to Zuid."""
    scene.offer(scene.administration("0001", "Bakkerij de Korenschoof"))
    scene.world.clock.advance(timedelta(days=1))
    second = scene.offer(scene.administration("0002", "Slagerij Vos"), to=("baas@oost.nl",))
    withdraw(scene, second.items[0].id)
    scene.world.clock.advance(timedelta(days=1))
    scene.offer(scene.administration("0003", "Groenteboer Jansen"))
    return scene


@pytest.mark.parametrize(
    ("search", "found"),
    [
        (None, ["0003", "0002", "0001"]),
        ("", ["0003", "0002", "0001"]),
        ("03-11-2026", ["0002"]),  # offered on
        ("18-11-2026", ["0002"]),  # expires on
        ("korenschoof", ["0001"]),  # name, any case
        ("0003", ["0003"]),  # code
        ("0002@INBOX", ["0002"]),  # the administration's e-mail
        ("baas@oost.nl", ["0002"]),  # recipient
        ("Ingetrokken", ["0002"]),  # status in Dutch
        ("withdrawn", ["0002"]),  # status in English
        ("aangeboden", ["0003", "0001"]),
        ("Offered", ["0003", "0001"]),
        ("bakkerij aangeboden", ["0001"]),  # every word in some column
        ("bakkerij ingetrokken", []),
        ("Twinfield", []),
    ],
)
def test_the_outgoing_search_looks_in_every_column(
    three_rows: Scene, search: str | None, found: list[str]
) -> None:
    assert overview(three_rows, search) == found


def test_the_outgoing_search_finds_the_masked_codes_last_group(scene: Scene) -> None:
    receipt = scene.offer()
    scene.offer(scene.administration("0043", "Slagerij Vos"))

    assert overview(scene, receipt.code[-4:]) == ["0042"]


def test_an_overly_long_search_is_refused(scene: Scene) -> None:
    with scene.refused(InvalidInput, "search_too_long", limit=200):
        overview(scene, "x" * 201)


def test_a_plain_user_does_not_see_the_outgoing_overview(scene: Scene) -> None:
    with scene.refused(NotAllowed, "not_super_user"):
        services.outgoing_overview(scene.deps, actor_id=scene.noord.user.id)


# --- races -------------------------------------------------------------------------------------


def test_a_withdraw_that_loses_the_race_to_a_start_hears_that_it_started(scene: Scene) -> None:
    receipt = scene.offer()
    scene.redeem(receipt)
    choice = scene.choice(receipt.items[0])
    scene.race(
        lambda deps: services.start_migrations(
            deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id, choices=[choice]
        )
    )

    with pytest.raises(Conflict) as caught:
        withdraw(scene, receipt.items[0].id)

    assert caught.value.code == "item_started"
    assert caught.value.params["status"] is ItemStatus.QUEUED
    assert scene.status(receipt.items[0].id) is ItemStatus.QUEUED
    assert scene.emails_of_kind("offer_withdrawn") == []
