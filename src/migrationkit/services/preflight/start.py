"""The start's checks: the dry run of Start migratie, for each chosen item and its target
every rule of R1-R10, with the package asked outside any transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import InvalidInput, MigrationError, NotFound, RuleViolation
from migrationkit.domain.machine import Event, next_status
from migrationkit.domain.model import (
    Administration,
    Connection,
    Environment,
    ItemStatus,
    Migration,
    OfferItem,
    PackageAdministration,
    TransferOffer,
)
from migrationkit.domain.rules import (
    displayed_status,
    is_expired,
    require_package_administration_available,
    require_recipient,
    require_same_package,
    require_subscription,
    require_unique_code_name,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.preflight.report import (
    Check,
    first_refusal,
    judge,
    later,
    passed,
    refused,
)
from migrationkit.services.preflight.texts import (
    CODE_ENTERED,
    CODE_NAME_FREE_HERE,
    HAS_SUBSCRIPTION,
    IN_PACKAGE_HERE,
    NO_ACCESS_YET,
    NOT_EXPIRED,
    ONCE_CHOSEN,
    SAME_PACKAGE,
    STILL_OFFERED,
    SUPER_USER,
    TAKEN_IN,
    USERS_STAY,
)


@attrs.frozen
class TargetChoice:
    """The recipient's choice for one item: which connection, which package administration.
    A connection id 0 or an empty package administration id means: not chosen yet."""

    item_id: int
    connection_id: int
    package_admin_id: str


@attrs.frozen
class ItemChecks:
    """The checks of one offered item with its chosen target."""

    item: OfferItem
    choice: TargetChoice
    #: The chosen connection, when it is one of the environment's.
    connection: Connection | None
    #: The chosen administration as the package knows it, when the package knows it.
    package_administration: PackageAdministration | None
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return not any(check.refused for check in self.checks)

    def target(self) -> tuple[Connection, PackageAdministration]:
        """The chosen connection and package administration, which a passed item has."""
        if self.connection is None or self.package_administration is None:
            raise ValueError(f"item {self.item.id} has no target: its checks did not pass")
        return self.connection, self.package_administration


@attrs.frozen
class StartPreflight:
    """The start's checks for each chosen item, before anything starts."""

    offer: TransferOffer
    environment: Environment
    items: tuple[ItemChecks, ...]
    #: When the report was made: what it says holds for that moment.
    checked_at: datetime

    @property
    def passed(self) -> bool:
        return all(entry.passed for entry in self.items)

    def first_error(self) -> MigrationError | None:
        """The refusal a start would get: item by item, the first refused check in the order
        the start judges them (the subscription, the connection, the status, the package,
        the code and name), then the rest."""
        return first_refusal(
            check
            for entry in self.items
            for check in sorted(entry.checks, key=lambda check: _START_ORDER.get(check.rule, 99))
        )


#: Which refusal a start names first when an item fails more than one check: where the item
#: stands before where it goes, and R9 before R8, so an administration added straight from
#: the package hears the guide's warning.
_START_ORDER = {"R7": 0, "R2": 1, "R4": 2, "R6": 3, "R9": 4, "R8": 5}


@attrs.frozen
class _Chosen:
    item: OfferItem
    choice: TargetChoice
    connection: Connection | None
    same_package: Check


def _chosen_connection(
    offer: TransferOffer,
    item: OfferItem,
    choice: TargetChoice,
    connections: Mapping[int, Connection],
) -> _Chosen:
    """R2: the chosen connection is one of the environment's (``connections``), of the
    offer's package."""
    if not choice.connection_id:
        error: MigrationError = InvalidInput("target_not_chosen", code=item.code, name=item.name)
        return _Chosen(item, choice, None, refused("R2", SAME_PACKAGE, error))
    connection = connections.get(choice.connection_id)
    if connection is None:  # another environment's is unknown, exactly as a missing one
        return _Chosen(
            item, choice, None, refused("R2", SAME_PACKAGE, NotFound("unknown_connection"))
        )
    label = offer.package.label
    check = judge(
        "R2",
        SAME_PACKAGE,
        partial(require_same_package, offer.package, connection),
        (f"{label}: {connection.name}", f"{label}: {connection.name}"),
    )
    return _Chosen(item, choice, connection, check)


#: What the package said of one chosen administration: the administration when it knows it,
#: or why it could not tell.
_Answer = tuple[PackageAdministration | None, MigrationError | None]


def _asked(deps: Dependencies, chosen: Sequence[_Chosen]) -> list[_Answer]:
    """Asks the package for the chosen administrations (R9), outside any transaction: one
    listing per connection (``Dependencies.package_listings``), in which each is looked up.
    A listing that fails is the verdict of every item of its connection."""
    listings = deps.package_listings()
    listed: dict[int, Mapping[str, PackageAdministration] | MigrationError] = {}
    answers: list[_Answer] = []
    for each in chosen:
        connection = each.connection
        if connection is None or not each.same_package.passed:
            answers.append((None, None))
            continue
        if not each.choice.package_admin_id:
            item = each.item
            answers.append(
                (None, InvalidInput("target_not_chosen", code=item.code, name=item.name))
            )
            continue
        if connection.id not in listed:
            try:
                listed[connection.id] = {
                    pa.package_admin_id: pa
                    for pa in listings.administrations(deps.connectors, connection)
                }
            except MigrationError as error:  # the package failed or refused: the verdict
                listed[connection.id] = error
        found = listed[connection.id]
        if isinstance(found, MigrationError):
            answers.append((None, found))
        else:
            answers.append((found.get(each.choice.package_admin_id), None))
    return answers


@attrs.frozen
class Occupants:
    """What already holds the targets of a start, read in a fixed number of queries: the
    environment's administrations with a target's code and name (R8), and those linked
    through a target's connection (R9)."""

    by_code_name: Mapping[tuple[str, str], Administration]
    by_link: Mapping[tuple[int, str], Administration]

    @classmethod
    def read(
        cls,
        uow: UnitOfWork,
        environment_id: int,
        targets: Iterable[tuple[Connection, PackageAdministration]],
    ) -> Occupants:
        chosen = list(targets)
        pairs = {(found.code, found.name) for _connection, found in chosen}
        present = uow.administrations.find_by_code_names(environment_id, pairs)
        linked = [
            administration
            for connection_id in {connection.id for connection, _found in chosen}
            for administration in uow.administrations.list_for_connection(connection_id)
        ]
        return cls(
            {(a.code, a.name): a for a in present},
            {(a.connection_id, a.package_admin_id): a for a in linked},
        )

    def holding_pair(self, found: PackageAdministration) -> Administration | None:
        return self.by_code_name.get((found.code, found.name))

    def linking(self, connection: Connection, package_admin_id: str) -> Administration | None:
        return self.by_link.get((connection.id, package_admin_id))


def _still_offered(item: OfferItem) -> None:
    """R4 and R12: an item starts only from Aangeboden. An expired one is R6's to tell."""
    if item.status is not ItemStatus.EXPIRED:
        next_status(item.status, Event.START, code=item.code, name=item.name)


def _not_expired(item: OfferItem, offer: TransferOffer, now: datetime) -> None:
    """R6: an item whose code expired reads Verlopen, as the start would find it."""
    if displayed_status(item, offer, now) is ItemStatus.EXPIRED:
        raise RuleViolation("item_expired", code=item.code, name=item.name)


def _code_name_free(
    environment: Environment,
    found: PackageAdministration,
    present: Administration | None,
    reserved: bool,
) -> None:
    """R8: no administration holds the pair, nor does an unfinished migration (or an item
    chosen before it in this start) reserve it."""
    require_unique_code_name(environment, found.code, found.name, [present] if present else [])
    if reserved:
        raise RuleViolation(
            "code_name_taken", environment=environment.name, code=found.code, name=found.name
        )


def _package_administration_free(
    connection: Connection,
    choice: TargetChoice,
    found: PackageAdministration | None,
    linked: Administration | None,
    reserved: Reservations,
    item_id: int,
) -> None:
    """R9: the package knows it, and no administration links it, nor does another item's
    unfinished migration reserve it."""
    found = require_package_administration_available(
        connection, choice.package_admin_id, found, [linked] if linked else []
    )
    if reserved.holds_link(connection.id, found.package_admin_id, item_id):
        raise RuleViolation("package_administration_linked", code=found.code, name=found.name)


@attrs.define
class Reservations:
    """What unfinished migrations into the environment reserve (their targets' code and
    name, R8, and package administration, R9), by the items they belong to; and the pairs
    taken by the items judged before in this start."""

    pairs: dict[tuple[str, str], set[int]]
    links: dict[tuple[int, str], set[int]]
    chosen_before: set[tuple[str, str]] = attrs.field(factory=set)

    @classmethod
    def of(cls, reserved: Iterable[Migration]) -> Reservations:
        pairs: dict[tuple[str, str], set[int]] = {}
        links: dict[tuple[int, str], set[int]] = {}
        for m in reserved:
            pairs.setdefault((m.target.code, m.target.name), set()).add(m.item_id)
            links.setdefault((m.target.connection_id, m.target.package_admin_id), set()).add(
                m.item_id
            )
        return cls(pairs, links)

    def holds_pair(self, found: PackageAdministration, item_id: int) -> bool:
        """Whether another item's migration, or an item chosen before, takes the pair (the
        same package administration has the same code and name: R8 tells)."""
        pair = (found.code, found.name)
        return bool(self.pairs.get(pair, set()) - {item_id}) or pair in self.chosen_before

    def holds_link(self, connection_id: int, package_admin_id: str, item_id: int) -> bool:
        return bool(self.links.get((connection_id, package_admin_id), set()) - {item_id})


def _start_checks(
    offer: TransferOffer,
    environment: Environment,
    chosen: _Chosen,
    asked: _Answer,
    now: datetime,
    occupants: Occupants,
    reserved: Reservations,
) -> ItemChecks:
    item, choice, connection = chosen.item, chosen.choice, chosen.connection
    found, package_error = asked
    if found is None:
        code_name = later("R8", CODE_NAME_FREE_HERE, ONCE_CHOSEN)
    else:
        pair = f"{found.code} {found.name}"
        code_name = judge(
            "R8",
            CODE_NAME_FREE_HERE,
            partial(
                _code_name_free,
                environment,
                found,
                occupants.holding_pair(found),
                reserved.holds_pair(found, item.id),
            ),
            (pair, pair),
        )
        reserved.chosen_before.add((found.code, found.name))
    if package_error is not None:
        in_package = refused("R9", IN_PACKAGE_HERE, package_error)
    elif connection is None or not chosen.same_package.passed:
        in_package = later("R9", IN_PACKAGE_HERE, ONCE_CHOSEN)
    else:
        linked = occupants.linking(connection, choice.package_admin_id)
        where = f"{connection.name}: {choice.package_admin_id}"
        in_package = judge(
            "R9",
            IN_PACKAGE_HERE,
            partial(
                _package_administration_free, connection, choice, found, linked, reserved, item.id
            ),
            (where, where),
        )
    redeemed = (
        None
        if offer.redeemed_at is None
        else (
            f"Ingevoerd op {show_moment(offer.redeemed_at)}.",
            f"Entered on {show_moment(offer.redeemed_at)}.",
        )
    )
    valid = (
        None
        if is_expired(offer, now)
        else (
            f"Geldig tot {show_moment(offer.expires_at)}.",
            f"Valid until {show_moment(offer.expires_at)}.",
        )
    )
    checks = (
        passed("R1", SUPER_USER),
        chosen.same_package,
        passed("R3", TAKEN_IN, (environment.name, environment.name)),
        judge("R4", STILL_OFFERED, partial(_still_offered, item)),
        passed("R5", CODE_ENTERED, redeemed),
        judge("R6", NOT_EXPIRED, partial(_not_expired, item, offer, now), valid),
        judge("R7", HAS_SUBSCRIPTION, partial(require_subscription, environment)),
        code_name,
        in_package,
        passed("R10", USERS_STAY, NO_ACCESS_YET),
    )
    return ItemChecks(item, choice, connection, found, checks)


def start_report(
    deps: Dependencies, actor_id: int, offer_id: int, choices: Sequence[TargetChoice]
) -> StartPreflight:
    """Judges a start of ``choices`` by the actor: what the database can tell, then the
    package (asked outside any transaction), then R8 and R9 against what is there.

    Raises when the start cannot be judged at all: no choices, not the actor's to start (R1,
    R3), or an item that is not the offer's.
    """
    if not choices:
        raise InvalidInput("no_administrations")
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_recipient(offer, actor)
        environment = _load.environment(uow, actor.environment_id)
        items = _load.chosen_items(uow, offer, [choice.item_id for choice in choices])
        connections = {c.id: c for c in uow.connections.list_for_environment(environment.id)}
        chosen = [
            _chosen_connection(offer, item, choice, connections)
            for item, choice in zip(items, choices, strict=True)
        ]
    asked = _asked(deps, chosen)
    with deps.uow() as uow:
        now = deps.clock.now()
        reserved = Reservations.of(uow.migrations.list_unfinished_into(environment.id))
        occupants = Occupants.read(
            uow,
            environment.id,
            (
                (each.connection, found)
                for each, (found, _error) in zip(chosen, asked, strict=True)
                if each.connection is not None and found is not None
            ),
        )
    entries = tuple(
        _start_checks(offer, environment, each, answer, now, occupants, reserved)
        for each, answer in zip(chosen, asked, strict=True)
    )
    return StartPreflight(offer, environment, entries, now)


@audited(AuditAction.OPEN)
def preflight_start(
    deps: Dependencies, *, actor_id: int, offer_id: int, choices: Sequence[TargetChoice]
) -> StartPreflight:
    """The dry run of Start migratie: every check of R1-R10, with its verdict, for each
    chosen item and its target. Changes nothing, sends nothing, enqueues nothing."""
    return start_report(deps, actor_id, offer_id, choices)
