"""The takeover's targets: for the items the recipient selected, a proposal each from one
listing of the chosen connection's package administrations (the domain's matching: the
same code, else the same name, else none), to confirm or change before Start migratie."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from migrationkit.domain import matching
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import InvalidInput, MigrationError, RuleViolation
from migrationkit.domain.machine import Event, next_status
from migrationkit.domain.matching import Match, Proposal
from migrationkit.domain.model import (
    Connection,
    OfferItem,
    PackageAdministration,
    TransferOffer,
)
from migrationkit.domain.rules import displayed_status, require_recipient, require_same_package
from migrationkit.services import _load
from migrationkit.services.audit import audited
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.preflight import TargetChoice
from migrationkit.services.receiving import linked_in, not_linked


@attrs.frozen
class TargetProposals:
    """The selected items of an offer, each with its proposal from one connection: what
    the targets page shows and what its form's changes are read against."""

    offer: TransferOffer
    connection: Connection
    #: The connection's package administrations not linked in the environment yet, as the
    #: package listed them once for all items.
    available: tuple[PackageAdministration, ...]
    #: Unmatched first, then matched by name, then by code.
    proposals: tuple[Proposal, ...]

    @property
    def fingerprint(self) -> str:
        return matching.fingerprint(self.proposals)

    def count(self, match: Match | str) -> int:
        """How many proposals were found so (``Match`` or its value, as a template says)."""
        wanted = Match(match)
        return sum(1 for proposal in self.proposals if proposal.match is wanted)

    def choices(
        self, changed: Mapping[int, str], fingerprint: str
    ) -> tuple[tuple[TargetChoice, ...], Mapping[int, MigrationError]]:
        """The start's choices: each item's proposal unless a code was typed for it in
        ``changed`` (by item id), and the refusal of each item without a target. Refused
        whole (``proposals_changed``) when the proposals are not the ones the form was
        filled in against (``fingerprint``)."""
        if fingerprint != self.fingerprint:
            raise RuleViolation("proposals_changed")
        chosen = matching.choose(self.proposals, changed, self.available)
        choices = tuple(
            TargetChoice(item.id, self.connection.id, target.package_admin_id)
            for item, target in chosen.targets
        )
        return choices, chosen.refusals


@audited(AuditAction.OPEN)
def propose_targets(
    deps: Dependencies,
    *,
    actor_id: int,
    offer_id: int,
    item_ids: Sequence[int],
    connection_id: int,
) -> TargetProposals:
    """A proposal for each selected item (still Aangeboden) among the package
    administrations of one of the actor's connections of the offer's package (R2) that are
    not linked in the environment yet (R9); the package is asked once, outside the
    transaction, whatever the number of items."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_recipient(offer, actor)
        connection = _load.connection(uow, connection_id, actor.environment_id)
        require_same_package(offer.package, connection)
        now = deps.clock.now()
        offered = {item.id: item for item in uow.items.list_for_offer(offer.id)}
        if not item_ids:
            raise InvalidInput("no_administrations")
        items: list[OfferItem] = []
        for item_id in item_ids:
            item = offered.get(item_id)
            if item is None:
                raise RuleViolation("unknown_item")
            if item in items:
                raise InvalidInput("duplicate_administration", code=item.code, name=item.name)
            next_status(
                displayed_status(item, offer, now), Event.START, code=item.code, name=item.name
            )
            items.append(item)
        linked = linked_in(uow, connection)
    available = not_linked(deps, connection, linked)
    return TargetProposals(offer, connection, available, matching.propose(items, available))
