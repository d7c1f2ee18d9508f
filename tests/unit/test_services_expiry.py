"""The sweep: Verlopen after fifteen days (R6), and one reminder some days before."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from migrationkit import services
from migrationkit.domain.errors import RuleViolation
from migrationkit.domain.model import ItemStatus

if TYPE_CHECKING:
    from conftest import Scene

DAY = timedelta(days=1)


def sweep(scene: Scene) -> tuple[int, int]:
    report = services.sweep_offers(scene.deps)
    return report.expired_items, report.reminded_offers


def test_a_fresh_offer_is_left_alone(scene: Scene) -> None:
    scene.offer()
    before = scene.snapshot()

    assert sweep(scene) == (0, 0)
    assert scene.snapshot() == before


def test_the_recipients_are_reminded_three_days_before_expiry_once(scene: Scene) -> None:
    scene.offer(to=("baas@zuid.nl", "hulp@zuid.nl"))
    scene.world.clock.advance(12 * DAY - timedelta(seconds=1))
    assert sweep(scene) == (0, 0)

    scene.world.clock.advance(timedelta(seconds=1))
    assert sweep(scene) == (0, 1)
    scene.world.clock.advance(DAY)
    assert sweep(scene) == (0, 0)

    [email] = scene.emails_of_kind("offer_expiry_reminder")
    assert email.to == ("baas@zuid.nl", "hulp@zuid.nl")
    assert "verloopt op 17-11-2026 10:00" in email.body
    assert "0042 Bakkerij de Korenschoof" in email.body


def test_a_resent_code_earns_a_new_reminder(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(12 * DAY)
    sweep(scene)
    services.resend_code(scene.deps, actor_id=scene.noord.super_user.id, offer_id=receipt.offer.id)

    scene.world.clock.advance(12 * DAY)

    assert sweep(scene) == (0, 1)
    assert len(scene.emails_of_kind("offer_expiry_reminder")) == 2


def test_expired_items_read_verlopen_and_the_sender_gets_one_e_mail(scene: Scene) -> None:
    receipt = scene.offer(scene.administration("0042"), scene.administration("0043", "Vos"))
    scene.world.clock.advance(15 * DAY)

    assert sweep(scene) == (2, 0)
    assert sweep(scene) == (0, 0)

    assert [scene.status(i.id) for i in receipt.items] == [ItemStatus.EXPIRED] * 2
    [email] = scene.emails_of_kind("offer_expired")
    assert email.to == ("baas@noord.nl",)
    assert "0042" in email.body
    assert "0043 Vos" in email.body
    with scene.world.uow() as uow:
        [_, change] = uow.items.status_changes(receipt.items[0].id)
    assert (change.from_status, change.to_status, change.event, change.actor_user_id) == (
        ItemStatus.OFFERED,
        ItemStatus.EXPIRED,
        "expire",
        None,
    )


def test_expiry_leaves_started_withdrawn_and_rejected_items_alone(scene: Scene) -> None:
    administrations = [
        scene.administration(f"00{n}", name)
        for n, name in enumerate(["Gestart", "Ingetrokken", "Afgewezen", "Open"], 1)
    ]
    receipt = scene.offer(*administrations)
    scene.redeem(receipt)
    started, withdrawn, rejected, _ = receipt.items
    services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(started)],
    )
    services.withdraw_item(scene.deps, actor_id=scene.noord.super_user.id, item_id=withdrawn.id)
    services.reject_items(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        item_ids=[rejected.id],
    )
    scene.world.clock.advance(15 * DAY)

    assert sweep(scene) == (1, 0)

    assert [scene.status(i.id) for i in receipt.items] == [
        ItemStatus.QUEUED,
        ItemStatus.WITHDRAWN,
        ItemStatus.REJECTED,
        ItemStatus.EXPIRED,
    ]
    [email] = scene.emails_of_kind("offer_expired")
    assert "004 Open" in email.body
    assert "Gestart" not in email.body


def test_an_offer_with_nothing_offered_is_neither_reminded_nor_expired(scene: Scene) -> None:
    receipt = scene.offer()
    services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
    )

    scene.world.clock.advance(12 * DAY)
    assert sweep(scene) == (0, 0)
    scene.world.clock.advance(3 * DAY)
    assert sweep(scene) == (0, 0)


def test_a_code_swept_to_verlopen_is_refused_as_expired(scene: Scene) -> None:
    receipt = scene.offer()
    scene.world.clock.advance(15 * DAY)
    sweep(scene)

    with pytest.raises(RuleViolation) as caught:
        scene.redeem(receipt)

    assert caught.value.code == "code_expired"
