"""propose_targets: a proposal for each selected item from one listing of the connection,
confirmed or changed, then started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from migrationkit import services
from migrationkit.domain.errors import RuleViolation
from migrationkit.domain.matching import Match
from migrationkit.domain.model import AccountingPackage, Administration

if TYPE_CHECKING:
    from conftest import Scene


def offered(scene: Scene, count: int) -> tuple[services.OfferReceipt, list[Administration]]:
    """Noord offers ``count`` administrations to Zuid, who redeems the code; Zuid's package
    holds each under the same code."""
    administrations = [scene.administration(f"{n:04d}", f"Klant {n}") for n in range(1, count + 1)]
    for administration in administrations:
        scene.package_administration(
            f"zuid-{administration.code}", administration.code, administration.name
        )
    receipt = scene.offer(*administrations)
    scene.redeem(receipt)
    return receipt, administrations


def propose(scene: Scene, receipt: services.OfferReceipt, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "actor_id": scene.zuid.super_user.id,
        "offer_id": receipt.offer.id,
        "item_ids": [item.id for item in receipt.items],
        "connection_id": scene.zuid.connection.id,
    }
    return services.propose_targets(scene.deps, **(arguments | changes))


@pytest.fixture
def listings(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connection ids the Exact package was asked to list, one entry per call."""
    connector = scene.world.connectors.connector(AccountingPackage.EXACT_ONLINE_NL)
    asked: list[int] = []
    listed = connector.list_administrations

    def counted(connection: Any) -> Any:
        asked.append(connection.id)
        return listed(connection)

    monkeypatch.setattr(connector, "list_administrations", counted)
    return asked


def test_three_hundred_items_are_proposed_from_one_listing(
    scene: Scene, listings: list[int]
) -> None:
    receipt, _administrations = offered(scene, 300)

    proposals = propose(scene, receipt)

    assert listings == [scene.zuid.connection.id]
    assert proposals.count(Match.CODE) == 300
    assert [p.item.id for p in proposals.proposals] == [item.id for item in receipt.items]


def test_a_package_administration_linked_already_is_not_proposed(scene: Scene) -> None:
    receipt, _administrations = offered(scene, 2)
    scene.administration("0001", "Klant 1", office=scene.zuid, package_admin_id="zuid-0001")

    proposals = propose(scene, receipt)

    assert [(p.item.code, p.match) for p in proposals.proposals] == [
        ("0001", Match.NONE),
        ("0002", Match.CODE),
    ]


def test_a_connection_of_another_package_is_refused(scene: Scene) -> None:
    receipt, _administrations = offered(scene, 1)
    twinfield = scene.connection(scene.zuid, AccountingPackage.TWINFIELD)

    with scene.refused(RuleViolation, "package_mismatch"):
        propose(scene, receipt, connection_id=twinfield.id)


def test_an_item_no_longer_offered_is_refused(scene: Scene) -> None:
    receipt, _administrations = offered(scene, 2)
    services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[1].id
    )

    with scene.refused(RuleViolation, "item_withdrawn"):
        propose(scene, receipt)


def test_the_proposals_with_one_changed_start_with_their_targets(scene: Scene) -> None:
    receipt, _administrations = offered(scene, 3)
    scene.package_administration("zuid-9", "9009", "Klant 3 B.V.")
    proposals = propose(scene, receipt)
    third = receipt.items[2]

    choices, refusals = proposals.choices({third.id: "9009"}, proposals.fingerprint)
    migrations = services.start_migrations(
        scene.deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id, choices=choices
    )

    assert refusals == {}
    assert [m.target.package_admin_id for m in migrations] == ["zuid-0001", "zuid-0002", "zuid-9"]


def test_changes_against_other_proposals_than_these_are_refused(scene: Scene) -> None:
    receipt, _administrations = offered(scene, 2)
    before = propose(scene, receipt)
    scene.administration("0002", "Klant 2", office=scene.zuid, package_admin_id="zuid-0002")
    after = propose(scene, receipt)

    with pytest.raises(RuleViolation) as refused:
        after.choices({}, before.fingerprint)

    assert refused.value.code == "proposals_changed"
