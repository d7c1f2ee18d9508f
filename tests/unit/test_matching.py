"""The takeover's matching: the same code, else the same name, else none; one to one;
unmatched first; changes typed as a code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.matching import (
    Match,
    Proposal,
    choose,
    find_by_code,
    fingerprint,
    propose,
)
from migrationkit.domain.model import OfferItem, PackageAdministration

if TYPE_CHECKING:
    from conftest import Build, Refused


def pa(code: str, name: str) -> PackageAdministration:
    return PackageAdministration(f"pa-{code}", code, name)


def items(build: Build, *pairs: tuple[str, str]) -> list[OfferItem]:
    return [
        build.item(number, code=code, name=name) for number, (code, name) in enumerate(pairs, 1)
    ]


def shown(proposals: Sequence[Proposal]) -> list[tuple[str, str | None, Match]]:
    return [(p.item.code, p.target.code if p.target else None, p.match) for p in proposals]


def test_the_same_code_is_proposed_first(build: Build) -> None:
    offered = items(build, ("1001", "Bakkerij"))
    proposals = propose(offered, [pa("2001", "Bakkerij"), pa("1001", "Andere naam")])
    assert shown(proposals) == [("1001", "1001", Match.CODE)]


def test_the_same_name_is_proposed_when_the_code_changed(build: Build) -> None:
    offered = items(build, ("1002", "Fietsenmakerij  van Dijk"))
    proposals = propose(offered, [pa("7002", "Fietsenmakerij Van Dijk")])
    assert shown(proposals) == [("1002", "7002", Match.NAME)]


def test_nothing_is_proposed_when_neither_code_nor_name_is_there(build: Build) -> None:
    offered = items(build, ("1003", "Hoveniers Groen"))
    assert shown(propose(offered, [pa("9003", "Groen Hoveniers B.V.")])) == [
        ("1003", None, Match.NONE)
    ]


def test_unmatched_come_first_then_by_name_then_by_code_each_in_the_offers_order(
    build: Build,
) -> None:
    offered = items(build, ("1", "A"), ("2", "B"), ("3", "C"), ("4", "D"), ("5", "E"))
    available = [pa("1", "A"), pa("22", "B"), pa("5", "E"), pa("44", "D")]
    assert shown(propose(offered, available)) == [
        ("3", None, Match.NONE),
        ("2", "22", Match.NAME),
        ("4", "44", Match.NAME),
        ("1", "1", Match.CODE),
        ("5", "5", Match.CODE),
    ]


def test_a_package_administration_taken_by_its_code_is_not_proposed_again_by_name(
    build: Build,
) -> None:
    offered = items(build, ("1", "Bakkerij"), ("2", "Bakkerij"))
    available = [pa("1", "Bakkerij")]
    assert shown(propose(offered, available)) == [
        ("2", None, Match.NONE),
        ("1", "1", Match.CODE),
    ]


def test_a_name_shared_by_two_candidates_or_two_items_is_left_to_the_user(
    build: Build,
) -> None:
    two_candidates = propose(
        items(build, ("1", "Bakkerij")), [pa("8", "Bakkerij"), pa("9", "bakkerij")]
    )
    two_items = propose(items(build, ("1", "Bakkerij"), ("2", "Bakkerij")), [pa("9", "Bakkerij")])
    assert [p.match for p in two_candidates] == [Match.NONE]
    assert [p.match for p in two_items] == [Match.NONE, Match.NONE]


def test_a_code_held_by_two_candidates_falls_back_to_the_name(build: Build) -> None:
    available = [pa("1", "Andere"), PackageAdministration("x", "1", "Nog een"), pa("7", "A")]
    assert shown(propose(items(build, ("1", "A")), available)) == [("1", "7", Match.NAME)]


def test_the_accepted_proposals_and_the_changed_codes_are_the_targets(build: Build) -> None:
    offered = items(build, ("1", "A"), ("2", "B"), ("3", "C"))
    available = [pa("1", "A"), pa("2", "B"), pa("9", "Iets anders")]
    proposals = propose(offered, available)

    chosen = choose(proposals, {3: " 9 ", 2: "", 1: "2"}, available)

    assert {item.code: target.code for item, target in chosen.targets} == {
        "3": "9",
        "1": "2",
        "2": "2",
    }
    assert chosen.refusals == {}


def test_an_item_without_proposal_or_change_and_an_unknown_code_are_refused_per_item(
    build: Build,
) -> None:
    offered = items(build, ("1", "A"), ("2", "B"), ("3", "C"))
    available = [pa("1", "A")]

    chosen = choose(propose(offered, available), {3: "404"}, available)

    assert [item.code for item, _target in chosen.targets] == ["1"]
    assert {item_id: error.code for item_id, error in chosen.refusals.items()} == {
        2: "target_not_chosen",
        3: "target_code_unknown",
    }


def test_a_typed_code_ignores_case_and_spaces_and_must_be_one(
    build: Build, refused: Refused
) -> None:
    available = [pa("AB1", "A"), pa("X", "B"), PackageAdministration("y", "x", "C")]
    assert find_by_code(" ab1 ", available).code == "AB1"
    with refused(InvalidInput, "target_code_ambiguous"):
        find_by_code("x", available)
    with refused(InvalidInput, "target_code_unknown"):
        find_by_code("zz", available)


def test_the_fingerprint_changes_with_what_is_proposed_and_not_with_the_order(
    build: Build,
) -> None:
    offered = items(build, ("1", "A"), ("2", "B"))
    first = propose(offered, [pa("1", "A"), pa("2", "B")])
    assert fingerprint(first) == fingerprint(tuple(reversed(first)))
    assert fingerprint(first) != fingerprint(propose(offered, [pa("1", "A")]))
