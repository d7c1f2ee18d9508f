"""The worker's side: claim, progress, complete (R14, R15) and fail (R13)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from migrationkit import services
from migrationkit.domain.errors import ArchiveError, Conflict, NotAllowed, NotFound, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import ItemStatus, Migration
from migrationkit.services import OfferReceipt

if TYPE_CHECKING:
    from conftest import Scene

KORENSCHOOF = "0042 Bakkerij de Korenschoof"


def completed(scene: Scene) -> tuple[OfferReceipt, Migration]:
    receipt, migration = scene.processing()
    return receipt, services.complete_migration(scene.deps, migration.id)


# --- claim -------------------------------------------------------------------------------------


def test_a_worker_claims_a_queued_migration_with_a_lease(scene: Scene) -> None:
    receipt, migration = scene.started()

    claimed = services.claim_migration(scene.deps, migration.id)

    assert claimed is not None
    assert claimed.attempts == 1
    assert claimed.lease_expires_at == scene.world.clock.now() + timedelta(minutes=2)
    assert scene.status(receipt.items[0].id) is ItemStatus.PROCESSING


def test_a_job_that_runs_twice_claims_once(scene: Scene) -> None:
    _, migration = scene.processing()
    before = scene.snapshot()

    assert services.claim_migration(scene.deps, migration.id) is None
    assert scene.snapshot() == before


def test_claiming_an_unknown_migration_is_refused(scene: Scene) -> None:
    with scene.refused(NotFound, "unknown_migration"):
        services.claim_migration(scene.deps, 99)


# --- progress ----------------------------------------------------------------------------------


def test_progress_is_readable_by_both_sides_in_documents_and_bytes(scene: Scene) -> None:
    _, migration = scene.processing()

    services.record_progress(
        scene.deps, migration.id, documents_total=8, documents_done=2, bytes_total=80, bytes_done=20
    )

    for office in (scene.noord, scene.zuid):
        progress = services.migration_progress(
            scene.deps, actor_id=office.super_user.id, migration_id=migration.id
        )
        assert progress.status is ItemStatus.PROCESSING
        assert progress.percent == 25
        assert (progress.migration.bytes_done, progress.migration.bytes_total) == (20, 80)
        assert progress.administration_name == "Bakkerij de Korenschoof"


def test_a_completed_migration_is_at_a_hundred_percent(scene: Scene) -> None:
    _, migration = completed(scene)

    progress = services.migration_progress(
        scene.deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id
    )

    assert progress.percent == 100


def test_progress_is_hidden_from_other_environments_and_plain_users(scene: Scene) -> None:
    _, migration = scene.processing()

    with scene.refused(NotFound, "unknown_migration"):
        services.migration_progress(
            scene.deps, actor_id=scene.oost.super_user.id, migration_id=migration.id
        )
    with scene.refused(NotAllowed, "not_super_user"):
        services.migration_progress(
            scene.deps, actor_id=scene.zuid.user.id, migration_id=migration.id
        )


# --- complete (R14, R15) -----------------------------------------------------------------------


def test_a_completed_administration_stands_in_the_target_under_the_packages_code(
    scene: Scene,
) -> None:
    administration = scene.administration()
    receipt = scene.offer(administration)
    scene.redeem(receipt)
    scene.package_administration("zuid-1042", "1042", "Bakkerij de Korenschoof BV")
    [migration] = services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=[scene.choice(receipt.items[0], "zuid-1042")],
    )
    services.claim_migration(scene.deps, migration.id)

    finished = services.complete_migration(scene.deps, migration.id)

    assert finished.finished_at == scene.world.clock.now()
    assert scene.status(receipt.items[0].id) is ItemStatus.COMPLETED
    moved = scene.reloaded(administration)
    assert moved.environment_id == scene.zuid.environment.id
    assert moved.connection_id == scene.zuid.connection.id
    assert (moved.code, moved.name) == ("1042", "Bakkerij de Korenschoof BV")
    assert moved.package_admin_id == "zuid-1042"
    assert moved.email == administration.email


def test_a_completed_administration_keeps_its_documents(scene: Scene) -> None:
    administration = scene.administration()
    documents = [scene.document(administration, f"factuur-{n}.pdf") for n in range(3)]

    scene.processing(administration)
    services.complete_migration(scene.deps, scene.world.queue.enqueued[0])

    with scene.world.uow() as uow:
        assert uow.documents.list_for_administration(administration.id) == documents


def test_the_source_no_longer_lists_a_completed_administration(scene: Scene) -> None:
    administration = scene.administration()
    scene.processing(administration)
    services.complete_migration(scene.deps, scene.world.queue.enqueued[0])

    noord = services.list_administrations(scene.deps, actor_id=scene.noord.super_user.id)
    zuid = services.list_administrations(scene.deps, actor_id=scene.zuid.super_user.id)

    assert [row.administration.id for row in noord] == []
    assert [row.administration.id for row in zuid] == [administration.id]


def test_nobody_has_access_to_a_completed_administration_until_granted(scene: Scene) -> None:
    administration = scene.administration()
    services.set_access(
        scene.deps,
        actor_id=scene.noord.super_user.id,
        administration_id=administration.id,
        user_id=scene.noord.user.id,
        granted=True,
    )
    scene.processing(administration)

    services.complete_migration(scene.deps, scene.world.queue.enqueued[0])

    access = services.list_access(
        scene.deps, actor_id=scene.zuid.super_user.id, administration_id=administration.id
    )
    assert [(a.user.email, a.granted) for a in access] == [
        ("baas@zuid.nl", False),
        ("medewerker@zuid.nl", False),
    ]
    assert not services.has_access(
        scene.deps, user_id=scene.noord.user.id, administration_id=administration.id
    )


def test_the_target_is_charged_exactly_once(scene: Scene) -> None:
    _, migration = completed(scene)

    with scene.world.uow() as uow:
        charges = uow.charges.list_for_environment(scene.zuid.environment.id)
        assert uow.charges.list_for_environment(scene.noord.environment.id) == []
    assert [(c.migration_id, c.administration_id) for c in charges] == [
        (migration.id, migration.administration_id)
    ]


def test_completing_twice_is_refused_and_charges_nothing_more(scene: Scene) -> None:
    _, migration = completed(scene)

    with scene.refused(
        RuleViolation, "item_completed", code="0042", name="Bakkerij de Korenschoof"
    ):
        services.complete_migration(scene.deps, migration.id)
    with scene.world.uow() as uow:
        assert len(uow.charges.list_for_environment(scene.zuid.environment.id)) == 1


def test_completion_is_e_mailed_to_sender_and_recipient(scene: Scene) -> None:
    completed(scene)

    to_sender, to_recipient = scene.emails_of_kind("migration_completed")
    assert to_sender.to == ("baas@noord.nl",)
    assert f"De migratie van {KORENSCHOOF} is voltooid." in to_sender.body
    assert to_recipient.to == ("baas@zuid.nl",)
    assert "(nu code 0042)" in to_recipient.body
    assert "Toegang op Ja" in to_recipient.body


def test_a_migration_that_was_not_claimed_cannot_complete(scene: Scene) -> None:
    _, migration = scene.started()

    with scene.refused(
        RuleViolation, "transition_refused", event=Event.COMPLETE, status=ItemStatus.QUEUED
    ):
        services.complete_migration(scene.deps, migration.id)


def test_a_completed_administration_can_be_offered_on_by_its_new_environment(
    scene: Scene,
) -> None:
    administration = scene.administration()
    scene.processing(administration)
    services.complete_migration(scene.deps, scene.world.queue.enqueued[0])

    onward = scene.offer(scene.reloaded(administration), sender=scene.zuid, to=("baas@oost.nl",))

    assert onward.offer.source_environment_id == scene.zuid.environment.id


# --- fail --------------------------------------------------------------------------------------


def test_a_failure_is_recorded_and_its_reason_e_mailed_to_the_recipient(scene: Scene) -> None:
    receipt, migration = scene.processing()

    failed = services.fail_migration(scene.deps, migration.id, "Archief van Noord onbereikbaar")

    assert failed.failure_reason == "Archief van Noord onbereikbaar"
    assert scene.status(receipt.items[0].id) is ItemStatus.FAILED
    [email] = scene.emails_of_kind("migration_failed")
    assert email.to == ("baas@zuid.nl",)
    assert "Reden: Archief van Noord onbereikbaar" in email.body
    [row] = services.incoming_overview(scene.deps, actor_id=scene.zuid.super_user.id).rows
    assert row.can_retry


def test_a_failure_from_an_error_is_e_mailed_in_dutch_and_readable_in_english(
    scene: Scene,
) -> None:
    _, migration = scene.processing()
    error = ArchiveError("integrity_failed", missing=2, total=10)

    failed = services.fail_migration(scene.deps, migration.id, error)

    assert failed.failure_reason == str(error)
    assert (failed.failure_code, failed.failure_params) == (
        "integrity_failed",
        (("missing", "2"), ("total", "10")),
    )
    assert failed.failure_message("nl") == error.message("nl")
    assert failed.failure_message("en") == error.message("en")
    [email] = scene.emails_of_kind("migration_failed")
    assert f"Reden: {error.message('nl')}" in email.body


def test_a_failure_given_as_text_or_stored_without_a_code_reads_as_it_was_stored(
    scene: Scene,
) -> None:
    _, migration = scene.processing()

    failed = services.fail_migration(scene.deps, migration.id, "Archief van Noord onbereikbaar")
    older = attrs.evolve(failed, failure_code=None, failure_params=())
    unknown = attrs.evolve(failed, failure_code="code_of_a_later_version")

    assert failed.failure_code is None
    for migration_now in (failed, older, unknown):
        assert migration_now.failure_message("en") == "Archief van Noord onbereikbaar"


def test_a_failure_whose_error_names_a_status_is_kept_in_dutch_only(scene: Scene) -> None:
    _, migration = scene.processing()
    error = Conflict("item_started", code="0042", name="Bakkerij", status=ItemStatus.QUEUED)

    failed = services.fail_migration(scene.deps, migration.id, error)

    assert failed.failure_code is None
    assert failed.failure_message("en") == error.message("nl")


def test_a_completed_migration_cannot_fail(scene: Scene) -> None:
    _, migration = completed(scene)

    with scene.refused(
        RuleViolation, "item_completed", code="0042", name="Bakkerij de Korenschoof"
    ):
        services.fail_migration(scene.deps, migration.id, "te laat")
