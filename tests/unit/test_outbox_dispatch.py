"""The outbox dispatcher on the fakes: oldest first, one stable Message-ID per e-mail, the
transfer code only in what is sent and forgotten after (R5), nothing lost when sending
fails."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pytest

from migrationkit.domain.model import CODE_NOT_KEPT
from migrationkit.services.outbox import (
    CLAIM_FOR,
    CLAIM_SIZE,
    GIVE_UP_AFTER,
    DispatchReport,
    dispatch_outbox,
)
from migrationkit.testing import FakeUnitOfWork

if TYPE_CHECKING:
    from conftest import Scene


def pending(scene: Scene) -> list[int]:
    with scene.world.uow() as uow:
        return [message.id for message in uow.outbox.list_pending()]


def test_each_pending_email_is_sent_once_oldest_first_with_its_own_message_id(
    scene: Scene,
) -> None:
    scene.offer(scene.administration("0001", "Bakkerij Een"))
    scene.offer(scene.administration("0002", "Bakkerij Twee"), to=("hulp@zuid.nl",))
    mailer = scene.world.mailer

    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=2, failed=0)
    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=0, failed=0)

    assert [(email.to, message_id) for email, message_id in mailer.sent] == [
        (("baas@zuid.nl",), "<outbox-1@localhost>"),
        (("hulp@zuid.nl",), "<outbox-2@localhost>"),
    ]
    assert pending(scene) == []


def test_the_message_id_names_the_portals_host(scene: Scene) -> None:
    deps = attrs.evolve(
        scene.deps, policy=attrs.evolve(scene.deps.policy, portal_url="https://migratie.nl:8443/")
    )
    scene.offer()

    dispatch_outbox(deps, scene.world.mailer)

    assert [message_id for _, message_id in scene.world.mailer.sent] == ["<outbox-1@migratie.nl>"]


def test_the_code_goes_out_in_the_email_and_the_outbox_forgets_it(scene: Scene) -> None:
    receipt = scene.offer()

    dispatch_outbox(scene.deps, scene.world.mailer)

    [(sent, _)] = scene.world.mailer.sent
    assert f"Je overdrachtscode: {receipt.code}" in sent.text()
    [kept] = scene.emails()
    assert kept.secret is None
    assert receipt.code not in kept.text()
    assert CODE_NOT_KEPT in kept.text()


def test_a_failed_send_keeps_the_email_for_the_next_run(scene: Scene) -> None:
    scene.offer(scene.administration("0001", "Bakkerij Een"))
    scene.offer(scene.administration("0002", "Bakkerij Twee"))
    mailer = scene.world.mailer
    mailer.fail_next(1)

    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=1, failed=1)
    assert pending(scene) == [1]

    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=1, failed=0)
    assert [message_id for _, message_id in mailer.sent] == [
        "<outbox-2@localhost>",
        "<outbox-1@localhost>",
    ]
    assert pending(scene) == []


def test_a_run_stops_after_failures_in_a_row_and_leaves_the_rest_waiting(scene: Scene) -> None:
    for number in range(GIVE_UP_AFTER + 2):
        scene.offer(scene.administration(f"000{number}", f"Bakkerij {number}"))
    mailer = scene.world.mailer
    mailer.fail_next(GIVE_UP_AFTER + 2)

    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=0, failed=GIVE_UP_AFTER)
    assert len(pending(scene)) == GIVE_UP_AFTER + 2
    assert mailer.sent == []


def test_the_limit_bounds_one_run(scene: Scene) -> None:
    for number in range(3):
        scene.offer(scene.administration(f"000{number}", f"Bakkerij {number}"))

    assert dispatch_outbox(scene.deps, scene.world.mailer, limit=2).sent == 2
    assert pending(scene) == [3]


def test_an_email_sent_but_not_marked_is_sent_again_with_the_same_message_id(
    scene: Scene,
) -> None:
    receipt = scene.offer()
    mailer = scene.world.mailer
    commits = []

    class DatabaseGoneAfterTheClaim(FakeUnitOfWork):
        """The claim commits; then the database goes away before the marking commits."""

        def commit(self) -> None:
            commits.append(self)
            if len(commits) > 1:
                raise ConnectionError("the database went away")
            super().commit()

    database_gone = attrs.evolve(
        scene.deps, uow=lambda: DatabaseGoneAfterTheClaim(scene.world.database)
    )

    with pytest.raises(ConnectionError):
        dispatch_outbox(database_gone, mailer)
    assert pending(scene) == [1]

    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=0, failed=0)  # held
    scene.world.clock.advance(CLAIM_FOR)
    assert dispatch_outbox(scene.deps, mailer) == DispatchReport(sent=1, failed=0)

    assert [message_id for _, message_id in mailer.sent] == ["<outbox-1@localhost>"] * 2
    assert all(receipt.code in email.text() for email, _ in mailer.sent)
    assert pending(scene) == []


def test_a_message_claimed_by_one_dispatcher_is_skipped_by_another_until_its_claim_runs_out(
    scene: Scene,
) -> None:
    scene.offer(scene.administration("0001", "Bakkerij Een"))
    scene.offer(scene.administration("0002", "Bakkerij Twee"))
    now = scene.world.clock.now()
    with scene.world.uow() as uow:
        [first] = uow.outbox.claim_pending(1, now=now, until=now + CLAIM_FOR)
        uow.commit()

    assert dispatch_outbox(scene.deps, scene.world.mailer) == DispatchReport(sent=1, failed=0)
    assert pending(scene) == [first.id]

    scene.world.clock.advance(CLAIM_FOR)
    assert dispatch_outbox(scene.deps, scene.world.mailer) == DispatchReport(sent=1, failed=0)
    assert pending(scene) == []


def test_a_failed_send_gives_up_its_claim_for_the_next_run(scene: Scene) -> None:
    scene.offer()
    scene.world.mailer.fail_next(1)

    assert dispatch_outbox(scene.deps, scene.world.mailer) == DispatchReport(sent=0, failed=1)
    with scene.world.uow() as uow:
        [message] = uow.outbox.list_pending()
    assert message.claimed_until is None
    assert dispatch_outbox(scene.deps, scene.world.mailer) == DispatchReport(sent=1, failed=0)


def test_a_run_claims_a_few_at_a_time_and_sends_them_all_up_to_its_limit(scene: Scene) -> None:
    for number in range(CLAIM_SIZE + 3):
        scene.offer(scene.administration(f"{number:04d}", f"Bakkerij {number}"))

    assert dispatch_outbox(scene.deps, scene.world.mailer).sent == CLAIM_SIZE + 3
    assert pending(scene) == []
