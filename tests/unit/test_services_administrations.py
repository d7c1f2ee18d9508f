"""The Administraties tab: the list, internal migration (R16) and access per user."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from migrationkit import services
from migrationkit.domain.errors import InvalidInput, NotAllowed, NotFound, RuleViolation
from migrationkit.domain.model import AccountingPackage, Administration, ItemStatus

if TYPE_CHECKING:
    from conftest import Scene


# --- the list ----------------------------------------------------------------------------------


def test_the_list_is_ordered_by_code_and_shows_the_status_of_an_open_offer(scene: Scene) -> None:
    offered = scene.administration("0042", "Bakkerij")
    scene.administration("0001", "Slagerij")
    moving = scene.administration("0050", "Groenteboer")
    scene.offer(offered)
    scene.started(moving)

    rows = services.list_administrations(scene.deps, actor_id=scene.noord.super_user.id)

    assert [(r.administration.code, r.offer_status, r.is_moving) for r in rows] == [
        ("0001", None, False),
        ("0042", ItemStatus.OFFERED, False),
        ("0050", ItemStatus.QUEUED, True),
    ]
    assert {r.connection for r in rows} == {scene.noord.connection}


def test_a_plain_user_sees_only_the_administrations_with_toegang_ja(scene: Scene) -> None:
    granted = scene.administration("0042", "Bakkerij")
    scene.administration("0001", "Slagerij")
    services.set_access(
        scene.deps,
        actor_id=scene.noord.super_user.id,
        administration_id=granted.id,
        user_id=scene.noord.user.id,
        granted=True,
    )

    rows = services.list_administrations(scene.deps, actor_id=scene.noord.user.id)

    assert [r.administration for r in rows] == [granted]


# --- + Administratie(s) toevoegen --------------------------------------------------------------


def add(
    scene: Scene, *package_admin_ids: str, actor_id: int | None = None
) -> tuple[Administration, ...]:
    return services.add_administrations(
        scene.deps,
        actor_id=actor_id or scene.noord.super_user.id,
        connection_id=scene.noord.connection.id,
        package_admin_ids=package_admin_ids,
        inbox_domain="inbox.example.nl",
    )


def test_administrations_are_added_from_the_package_with_an_inbox_of_their_own(
    scene: Scene,
) -> None:
    noord_package(scene, "div-1", "0042", "Bakkerij De Korenschoof")
    noord_package(scene, "div-2", "0043", "Slagerij")

    added = add(scene, "div-1", "div-2")

    assert [(a.code, a.name, a.email, a.package_admin_id) for a in added] == [
        ("0042", "Bakkerij De Korenschoof", "bakkerijdekorenschoof-0042@inbox.example.nl", "div-1"),
        ("0043", "Slagerij", "slagerij-0043@inbox.example.nl", "div-2"),
    ]
    assert {(a.environment_id, a.connection_id) for a in added} == {
        (scene.noord.environment.id, scene.noord.connection.id)
    }
    rows = services.list_administrations(scene.deps, actor_id=scene.noord.super_user.id)
    assert [r.administration for r in rows] == list(added)


def test_adding_nothing_is_refused(scene: Scene) -> None:
    with scene.refused(InvalidInput, "no_administrations"):
        add(scene)


def test_a_plain_user_may_not_add_administrations(scene: Scene) -> None:
    noord_package(scene, "div-1", "0042", "Bakkerij")

    with scene.refused(NotAllowed, "not_super_user"):
        add(scene, "div-1", actor_id=scene.noord.user.id)


def test_a_connection_of_another_environment_cannot_be_added_from(scene: Scene) -> None:
    scene.package_administration("zuid-1", "0042", "Bakkerij")

    with scene.refused(NotFound, "unknown_connection"):
        services.add_administrations(
            scene.deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.zuid.connection.id,
            package_admin_ids=["zuid-1"],
            inbox_domain="inbox.example.nl",
        )


def test_an_administration_the_package_does_not_know_is_refused_and_nothing_is_added(
    scene: Scene,
) -> None:
    noord_package(scene, "div-1", "0042", "Bakkerij")

    with scene.refused(
        RuleViolation,
        "package_administration_missing",
        connection="Exact Online (NL) Noord",
        package_admin_id="div-9",
    ):
        add(scene, "div-1", "div-9")


def test_an_administration_linked_already_is_refused(scene: Scene) -> None:
    scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    noord_package(scene, "div-1", "0042", "Bakkerij")

    with scene.refused(
        RuleViolation, "package_administration_linked", code="0042", name="Bakkerij"
    ):
        add(scene, "div-1")


def test_the_same_administration_chosen_twice_is_refused(scene: Scene) -> None:
    noord_package(scene, "div-1", "0042", "Bakkerij")

    with scene.refused(InvalidInput, "duplicate_administration", code="0042", name="Bakkerij"):
        add(scene, "div-1", "div-1")


def test_a_code_and_name_present_in_the_environment_are_refused(scene: Scene) -> None:
    scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    noord_package(scene, "div-2", "0042", "Bakkerij")

    with scene.refused(
        RuleViolation, "code_name_taken", code="0042", environment="Noord", name="Bakkerij"
    ):
        add(scene, "div-2")


# --- relink (R16) ------------------------------------------------------------------------------


def relink(
    scene: Scene,
    administration: Administration,
    package_admin_id: str,
    *,
    connection_id: int | None = None,
    actor_id: int | None = None,
) -> Administration:
    return services.relink_administration(
        scene.deps,
        actor_id=actor_id or scene.noord.super_user.id,
        administration_id=administration.id,
        connection_id=connection_id or scene.noord.connection.id,
        package_admin_id=package_admin_id,
    )


def noord_package(scene: Scene, package_admin_id: str, code: str, name: str) -> None:
    scene.package_administration(package_admin_id, code, name, connection=scene.noord.connection)


def test_a_super_user_relinks_an_administration_to_another_package_administration(
    scene: Scene,
) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    document = scene.document(administration, "factuur.pdf")
    noord_package(scene, "div-2", "2042", "Bakkerij BV")

    relinked = relink(scene, administration, "div-2")

    assert relinked.id == administration.id
    assert (relinked.code, relinked.name, relinked.package_admin_id) == (
        "2042",
        "Bakkerij BV",
        "div-2",
    )
    assert relinked.email == administration.email
    assert scene.reloaded(administration) == relinked
    with scene.world.uow() as uow:
        assert uow.documents.list_for_administration(administration.id) == [document]


def test_an_administration_may_be_relinked_to_another_connection_of_its_package(
    scene: Scene,
) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    second = scene.connection(scene.noord, AccountingPackage.EXACT_ONLINE_NL)
    scene.package_administration("div-1", "0042", "Bakkerij", connection=second)

    relinked = relink(scene, administration, "div-1", connection_id=second.id)

    assert relinked.connection_id == second.id


def test_a_relink_that_keeps_code_and_name_does_not_clash_with_itself(scene: Scene) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    noord_package(scene, "div-2", "0042", "Bakkerij")

    assert relink(scene, administration, "div-2").package_admin_id == "div-2"


def test_a_plain_user_may_not_relink(scene: Scene) -> None:
    administration = scene.administration()
    noord_package(scene, "div-2", "2042", "Bakkerij BV")

    with scene.refused(NotAllowed, "not_super_user"):
        relink(scene, administration, "div-2", actor_id=scene.noord.user.id)


def test_an_administration_of_another_environment_cannot_be_relinked(scene: Scene) -> None:
    theirs = scene.administration(office=scene.zuid)
    noord_package(scene, "div-2", "2042", "Bakkerij BV")

    with scene.refused(NotFound, "unknown_administration"):
        relink(scene, theirs, "div-2")


def test_a_connection_of_another_environment_is_refused(scene: Scene) -> None:
    administration = scene.administration()
    scene.package_administration("zuid-2", "2042", "Bakkerij BV")

    with scene.refused(NotFound, "unknown_connection"):
        relink(scene, administration, "zuid-2", connection_id=scene.zuid.connection.id)


def test_a_connection_of_another_package_is_refused(scene: Scene) -> None:
    administration = scene.administration()
    xero = scene.connection(scene.noord, AccountingPackage.XERO)
    scene.package_administration("x-1", "0042", "Bakkerij", connection=xero)

    with scene.refused(
        RuleViolation, "package_mismatch", source_package="Exact Online (NL)", target_package="Xero"
    ):
        relink(scene, administration, "x-1", connection_id=xero.id)


def test_a_package_administration_that_does_not_exist_is_refused(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(
        RuleViolation,
        "package_administration_missing",
        connection="Exact Online (NL) Noord",
        package_admin_id="div-9",
    ):
        relink(scene, administration, "div-9")


def test_a_package_administration_linked_to_another_administration_is_refused(
    scene: Scene,
) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    scene.administration("0043", "Slagerij", package_admin_id="div-2")
    noord_package(scene, "div-2", "0043", "Slagerij")

    with scene.refused(
        RuleViolation, "package_administration_linked", code="0043", name="Slagerij"
    ):
        relink(scene, administration, "div-2")


def test_relinking_to_where_it_already_is_is_refused(scene: Scene) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    noord_package(scene, "div-1", "0042", "Bakkerij")

    with scene.refused(RuleViolation, "relink_same_target", code="0042", name="Bakkerij"):
        relink(scene, administration, "div-1")


def test_a_relink_onto_a_code_and_name_present_in_the_environment_is_refused(
    scene: Scene,
) -> None:
    administration = scene.administration("0042", "Bakkerij", package_admin_id="div-1")
    other = scene.connection(scene.noord, AccountingPackage.EXACT_ONLINE_NL)
    scene.administration("0043", "Slagerij", connection=other, package_admin_id="div-2")
    noord_package(scene, "div-3", "0043", "Slagerij")

    with scene.refused(
        RuleViolation, "code_name_taken", code="0043", environment="Noord", name="Slagerij"
    ):
        relink(scene, administration, "div-3")


@pytest.mark.parametrize("stage", ["started", "processing"])
def test_an_administration_that_is_moving_cannot_be_relinked(scene: Scene, stage: str) -> None:
    administration = scene.administration("0042", "Bakkerij")
    if stage == "started":
        scene.started(administration)
    else:
        scene.processing(administration)
    noord_package(scene, "div-2", "2042", "Bakkerij BV")

    with scene.refused(RuleViolation, "administration_moving", code="0042", name="Bakkerij"):
        relink(scene, administration, "div-2")


# --- access ------------------------------------------------------------------------------------


def set_access(
    scene: Scene,
    administration: Administration,
    user_id: int,
    *,
    granted: bool = True,
    actor_id: int | None = None,
) -> None:
    services.set_access(
        scene.deps,
        actor_id=actor_id or scene.noord.super_user.id,
        administration_id=administration.id,
        user_id=user_id,
        granted=granted,
    )


def test_every_user_of_the_environment_is_listed_with_toegang_nee_at_first(scene: Scene) -> None:
    administration = scene.administration()

    access = services.list_access(
        scene.deps, actor_id=scene.noord.super_user.id, administration_id=administration.id
    )

    assert [(a.user.email, a.granted) for a in access] == [
        ("baas@noord.nl", False),
        ("medewerker@noord.nl", False),
    ]


def test_a_super_user_grants_and_revokes_access(scene: Scene) -> None:
    administration = scene.administration()
    user = scene.noord.user

    set_access(scene, administration, user.id)
    granted = services.has_access(scene.deps, user_id=user.id, administration_id=administration.id)
    set_access(scene, administration, user.id, granted=False)
    revoked = services.has_access(scene.deps, user_id=user.id, administration_id=administration.id)

    assert (granted, revoked) == (True, False)


def test_access_to_another_environments_administration_is_never_had(scene: Scene) -> None:
    theirs = scene.administration(office=scene.zuid)
    services.set_access(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        administration_id=theirs.id,
        user_id=scene.zuid.user.id,
        granted=True,
    )

    assert not services.has_access(
        scene.deps, user_id=scene.noord.user.id, administration_id=theirs.id
    )
    assert not services.has_access(scene.deps, user_id=scene.noord.user.id, administration_id=99)


def test_a_plain_user_may_not_grant_access(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotAllowed, "not_super_user"):
        set_access(scene, administration, scene.noord.user.id, actor_id=scene.noord.user.id)


def test_access_cannot_be_granted_to_a_user_of_another_environment(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotFound, "unknown_user"):
        set_access(scene, administration, scene.zuid.user.id)


def test_access_to_another_environments_administration_cannot_be_granted(scene: Scene) -> None:
    theirs = scene.administration(office=scene.zuid)

    with scene.refused(NotFound, "unknown_administration"):
        set_access(scene, theirs, scene.noord.user.id)


def test_access_for_an_unknown_user_is_refused(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotFound, "unknown_user"):
        set_access(scene, administration, 999)
