"""Matching for a takeover: each offered administration is proposed the recipient's package
administration with the same code, else the same name, else none; the user confirms the
proposals or changes them by typing another code.

A proposal is one to one: no package administration is proposed for two items, so a
proposal that is accepted as it stands is never refused because another item took its
target. Where the rule cannot tell (two candidates with the code, two items or two candidates
with the name), it proposes nothing and leaves the choice to the user.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from migrationkit.domain.errors import InvalidInput, MigrationError
from migrationkit.domain.model import OfferItem, PackageAdministration


class Match(enum.Enum):
    """How a proposal was found; the order in which the page lists them: what needs the
    user first."""

    NONE = "none"
    NAME = "name"
    CODE = "code"


@attrs.frozen
class Proposal:
    """One item and the package administration proposed for it (None: no match)."""

    item: OfferItem
    target: PackageAdministration | None
    match: Match


@attrs.frozen
class Choices:
    """The targets chosen for the proposals: the item id and its package administration
    for each item that has one, and the refusal for each item that has none."""

    targets: tuple[tuple[OfferItem, PackageAdministration], ...]
    refusals: Mapping[int, MigrationError]


def _same_code(code: str) -> str:
    return code.strip().casefold()


def _same_name(name: str) -> str:
    """Names compare without regard to case or to how many spaces stand between words."""
    return " ".join(name.split()).casefold()


def propose(
    items: Sequence[OfferItem], available: Sequence[PackageAdministration]
) -> tuple[Proposal, ...]:
    """A proposal for each of ``items`` from ``available``: the same code, else the same
    name, else none; unmatched first, then those matched by name (their code changed), then
    by code, each group in the items' order."""
    codes = Counter(_same_code(pa.code) for pa in available)
    by_code = {_same_code(pa.code): pa for pa in available if codes[_same_code(pa.code)] == 1}
    matched: dict[int, Proposal] = {}
    for item in items:
        found = by_code.get(_same_code(item.code))
        if found is not None:
            matched[item.id] = Proposal(item, found, Match.CODE)
    taken = {p.target.package_admin_id for p in matched.values() if p.target is not None}
    left = [pa for pa in available if pa.package_admin_id not in taken]
    left_names = Counter(_same_name(pa.name) for pa in left)
    by_name = {_same_name(pa.name): pa for pa in left if left_names[_same_name(pa.name)] == 1}
    unmatched = [item for item in items if item.id not in matched]
    item_names = Counter(_same_name(item.name) for item in unmatched)
    for item in unmatched:
        name = _same_name(item.name)
        if item_names[name] == 1 and name in by_name:
            matched[item.id] = Proposal(item, by_name[name], Match.NAME)
    proposals = [matched.get(item.id) or Proposal(item, None, Match.NONE) for item in items]
    order = list(Match)
    return tuple(sorted(proposals, key=lambda proposal: order.index(proposal.match)))


def find_by_code(typed: str, available: Sequence[PackageAdministration]) -> PackageAdministration:
    """The package administration whose code the user typed (case and the spaces around it
    ignored); refused when none or more than one has it."""
    wanted = _same_code(typed)
    found = [pa for pa in available if _same_code(pa.code) == wanted]
    if not found:
        raise InvalidInput("target_code_unknown", code=typed.strip())
    if len(found) > 1:
        raise InvalidInput("target_code_ambiguous", code=typed.strip())
    return found[0]


def choose(
    proposals: Sequence[Proposal],
    changed: Mapping[int, str],
    available: Sequence[PackageAdministration],
) -> Choices:
    """Each item's target: the code typed for it in ``changed`` (by item id; blank keeps
    the proposal), else its proposal; an item with neither is refused with
    ``target_not_chosen``."""
    targets = []
    refusals: dict[int, MigrationError] = {}
    for proposal in proposals:
        item = proposal.item
        typed = changed.get(item.id, "").strip()
        try:
            if typed:
                targets.append((item, find_by_code(typed, available)))
            elif proposal.target is not None:
                targets.append((item, proposal.target))
            else:
                raise InvalidInput("target_not_chosen", code=item.code, name=item.name)
        except MigrationError as error:
            refusals[item.id] = error
    return Choices(tuple(targets), refusals)


def fingerprint(proposals: Sequence[Proposal]) -> str:
    """A short digest of what was proposed for which item: a form that sends only what the
    user changed carries it, so that proposals that changed since the page was shown (the
    package's list changed) are shown again rather than taken unseen."""
    digest = hashlib.sha256()
    for proposal in sorted(proposals, key=lambda p: p.item.id):
        target = proposal.target.package_admin_id if proposal.target else ""
        digest.update(f"{proposal.item.id}\x1f{target}\x1e".encode())
    return digest.hexdigest()[:16]
