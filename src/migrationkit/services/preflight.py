"""The dry run: a pre-flight report that lists every check of the checklist and of R1-R10
with its verdict, for each administration, before an offer is sent or a start is made.

A dry run reads and asks the package; it changes nothing and sends nothing. The offer and
the start judge by the same reports: ``offer_administrations`` refuses with the first
refusal of the offer's report, ``start_migrations`` with the first of the start's, so a
report that passes promises an offer or a start that goes through, unless someone else acts
first (their compare-and-set and the database's constraints still have the last word).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import InvalidInput, MigrationError, RuleViolation
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
    expiry_of,
    is_expired,
    require_no_authorizers_in_flow,
    require_not_in_open_offer,
    require_one_source,
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


class Verdict(enum.Enum):
    """What a check says now: in order, refused (with the library's error), or that it can
    only be decided later (with a note that says when)."""

    PASSED = "passed"
    REFUSED = "refused"
    LATER = "later"

    @property
    def label_nl(self) -> str:
        return _VERDICT_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _VERDICT_LABELS[self][1]


_VERDICT_LABELS = {
    Verdict.PASSED: ("In orde", "Passed"),
    Verdict.REFUSED: ("Geweigerd", "Refused"),
    Verdict.LATER: ("Later gecontroleerd", "Checked later"),
}

#: A text in Dutch and English.
Text = tuple[str, str]


def _error_matches_verdict(
    check: Check, _: attrs.Attribute[MigrationError | None], error: MigrationError | None
) -> None:
    if (error is not None) != (check.verdict is Verdict.REFUSED):
        raise ValueError("a check carries an error exactly when it is refused")


@attrs.frozen
class Check:
    """One line of a pre-flight report: which rule ("R1".."R10", or "checklist" for an item
    of the guide's checklist), its title, its verdict, and the refusal or a note."""

    rule: str
    title_nl: str
    title_en: str
    verdict: Verdict = Verdict.PASSED
    error: MigrationError | None = attrs.field(default=None, validator=_error_matches_verdict)
    #: What to know beside the verdict: when a later check happens, until when a code holds.
    note_nl: str | None = None
    note_en: str | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def refused(self) -> bool:
        return self.verdict is Verdict.REFUSED

    def title(self, language: str = "nl") -> str:
        return self.title_en if language == "en" else self.title_nl

    def explanation(self, language: str = "nl") -> str | None:
        """The refusal's message, or else the note, in ``language`` ("nl" or "en")."""
        if self.error is not None:
            return self.error.message(language)
        return self.note_en if language == "en" else self.note_nl


def _passed(rule: str, title: Text, note: Text | None = None) -> Check:
    if note is None:
        return Check(rule, *title)
    return Check(rule, *title, note_nl=note[0], note_en=note[1])


def _later(rule: str, title: Text, note: Text) -> Check:
    return Check(rule, *title, verdict=Verdict.LATER, note_nl=note[0], note_en=note[1])


def _refused(rule: str, title: Text, error: MigrationError) -> Check:
    return Check(rule, *title, verdict=Verdict.REFUSED, error=error)


def _judge(rule: str, title: Text, run: Callable[[], object], note: Text | None = None) -> Check:
    """Runs a rule and keeps its refusal as the verdict."""
    try:
        run()
    except MigrationError as error:
        return _refused(rule, title, error)
    return _passed(rule, title, note)


def _first_error(checks: Iterable[Check]) -> MigrationError | None:
    return next((check.error for check in checks if check.error is not None), None)


# --- the offer -------------------------------------------------------------------------------

SUPER_USER: Text = (
    "Je bent supergebruiker van deze omgeving",
    "You are a super user of this environment",
)
SAME_PACKAGE: Text = ("Zelfde boekhoudpakket", "Same accounting package")
ONE_SOURCE: Text = (
    "Eén boekhoudsysteemkoppeling als bron, één nieuwe omgeving",
    "One accounting system connection as the source, one new environment",
)
NOT_IN_OPEN_OFFER: Text = (
    "Staat niet al in een openstaand migratieverzoek",
    "Not already in an open migration request",
)
TRANSFER_CODE: Text = ("Overdrachtscode", "Transfer code")
VALIDITY: Text = ("Geldigheid van de overdrachtscode", "Validity of the transfer code")
SUBSCRIPTION: Text = (
    "Nieuwe omgeving met abonnement, akkoord met voorwaarden en kosten",
    "New environment with a subscription, terms and costs accepted",
)
CODE_NAME_FREE: Text = (
    "Administratiecode en -naam vrij in de nieuwe omgeving",
    "Administration code and name free in the new environment",
)
IN_PACKAGE: Text = (
    "Administratie bestaat in het boekhoudpakket van de nieuwe omgeving en is daar nog niet "
    "gekoppeld",
    "The administration exists in the new environment's accounting package and is not "
    "linked there yet",
)
NO_AUTHORIZERS: Text = (
    "Geen autorisatoren in een autorisatieflow",
    "No authorizers in an authorization flow",
)
USERS_STAY: Text = (
    "Gebruikers en autorisatoren gaan niet mee",
    "Users and authorizers do not move",
)
PACKAGE_FIRST: Text = (
    "Migratie in het boekhoudpakket eerst afgerond",
    "Move in the accounting package finished first",
)

AT_START: Text = (
    "Wordt gecontroleerd bij de start in de nieuwe omgeving.",
    "Checked at the start in the new environment.",
)
USERS_STAY_NOTE: Text = (
    "Na de migratie heeft niemand in de nieuwe omgeving toegang totdat een supergebruiker "
    "daar die geeft (Instellingen > Administraties > Gebruikers > Toegang: Ja).",
    "After the migration nobody in the new environment has access until a super user there "
    "grants it (Settings > Administrations > Users > Access: Yes).",
)


@attrs.frozen
class AdministrationChecks:
    """The checks of one administration of an offer."""

    administration: Administration
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """Nothing refused (a check for later does not stop it)."""
        return not any(check.refused for check in self.checks)


@attrs.frozen
class OfferPreflight:
    """The offer's checks for each administration, before anything is sent."""

    connection: Connection
    #: Until when a code sent now would be valid (R6).
    valid_until: datetime
    administrations: tuple[AdministrationChecks, ...]
    #: When the report was made: what it says holds for that moment.
    checked_at: datetime

    @property
    def passed(self) -> bool:
        return all(entry.passed for entry in self.administrations)

    def first_error(self) -> MigrationError | None:
        """The refusal an offer would get: the first refused check, in the report's order."""
        return _first_error(check for entry in self.administrations for check in entry.checks)


def offer_report(
    uow: UnitOfWork,
    connection: Connection,
    administrations: Sequence[Administration],
    *,
    now: datetime,
    valid_for: timedelta,
) -> OfferPreflight:
    """Judges an offer of ``administrations`` from ``connection`` by the actor, a super user
    (R1), in the open unit of work: R4 and R10 now, R2, R5, R7-R9 later. Raises when the
    selection itself is wrong (none, twice, or another connection's: R3)."""
    require_one_source(connection, administrations)
    valid_until = expiry_of(now, valid_for)
    package = connection.package.label
    entries = []
    for administration in administrations:
        open_items = uow.items.list_open_for_administration(administration.id)
        flows = uow.flows.list_for_administration(administration.id)
        checks = (
            _passed("R1", SUPER_USER),
            _later(
                "R2",
                SAME_PACKAGE,
                (
                    f"Bij de start kiest de nieuwe omgeving een koppeling met {package}; een "
                    "ander boekhoudpakket kan niet.",
                    f"At the start the new environment chooses a connection of {package}; "
                    "another accounting package is not possible.",
                ),
            ),
            _passed("R3", ONE_SOURCE, (connection.name, connection.name)),
            _judge(
                "R4",
                NOT_IN_OPEN_OFFER,
                partial(require_not_in_open_offer, administration, open_items),
            ),
            _later(
                "R5",
                TRANSFER_CODE,
                (
                    "Wordt bij het verzenden gemaakt en per e-mail naar de ontvangers gestuurd; "
                    "jij krijgt een kopie.",
                    "Made on sending and e-mailed to the recipients; you get a copy.",
                ),
            ),
            _passed(
                "R6",
                VALIDITY,
                (
                    f"Geldig tot {show_moment(valid_until)} als je nu verstuurt.",
                    f"Valid until {show_moment(valid_until)} if you send now.",
                ),
            ),
            _later(
                "R7",
                SUBSCRIPTION,
                (
                    "Wordt gecontroleerd bij het invoeren van de code in de nieuwe omgeving.",
                    "Checked when the code is entered in the new environment.",
                ),
            ),
            _later("R8", CODE_NAME_FREE, AT_START),
            _later("R9", IN_PACKAGE, AT_START),
            _judge(
                "R10",
                NO_AUTHORIZERS,
                partial(require_no_authorizers_in_flow, administration, flows),
            ),
            _passed("checklist", USERS_STAY, USERS_STAY_NOTE),
            _later(
                "checklist",
                PACKAGE_FIRST,
                (
                    "Wordt bij de start gecontroleerd: de nieuwe omgeving kiest dan de "
                    "administratie uit haar boekhoudpakket.",
                    "Checked at the start: the new environment then chooses the administration "
                    "from its accounting package.",
                ),
            ),
        )
        entries.append(AdministrationChecks(administration, checks))
    return OfferPreflight(connection, valid_until, tuple(entries), now)


@audited(AuditAction.OPEN)
def preflight_offer(
    deps: Dependencies, *, actor_id: int, connection_id: int, administration_ids: Sequence[int]
) -> OfferPreflight:
    """The dry run of an offer: every check of R1-R10 and the checklist, with its verdict,
    for each administration. Changes nothing, sends nothing."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
        administrations = _load.administrations(uow, administration_ids, actor.environment_id)
        return offer_report(
            uow,
            connection,
            administrations,
            now=deps.clock.now(),
            valid_for=deps.policy.offer_valid_for,
        )


# --- the start -------------------------------------------------------------------------------

TAKEN_IN: Text = (
    "Het migratieverzoek is met de overdrachtscode aan jouw omgeving gebonden",
    "The migration request is bound to your environment by its transfer code",
)
CODE_ENTERED: Text = ("Overdrachtscode ingevoerd", "Transfer code entered")
STILL_OFFERED: Text = (
    "Nog Aangeboden: niet ingetrokken, afgewezen of al gestart",
    "Still Offered: not withdrawn, rejected or started already",
)
NOT_EXPIRED: Text = ("Overdrachtscode niet verlopen", "Transfer code not expired")
HAS_SUBSCRIPTION: Text = (
    "Jouw omgeving heeft een abonnement",
    "Your environment has a subscription",
)
CODE_NAME_FREE_HERE: Text = (
    "Administratiecode en -naam vrij in jouw omgeving",
    "Administration code and name free in your environment",
)
IN_PACKAGE_HERE: Text = (
    "Administratie bestaat in het boekhoudpakket en is hier nog niet gekoppeld",
    "The administration exists in the accounting package and is not linked here yet",
)
NO_ACCESS_YET: Text = (
    "Na de migratie heeft niemand in jouw omgeving toegang tot je die geeft (Instellingen > "
    "Administraties > Gebruikers > Toegang: Ja).",
    "After the migration nobody in your environment has access until you grant it "
    "(Settings > Administrations > Users > Access: Yes).",
)
ONCE_CHOSEN: Text = (
    "Wordt gecontroleerd zodra een boekhoudsysteemkoppeling en een administratie uit het "
    "boekhoudpakket zijn gekozen.",
    "Checked once an accounting system connection and an administration from the "
    "accounting package are chosen.",
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
        return _first_error(
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
    uow: UnitOfWork,
    offer: TransferOffer,
    item: OfferItem,
    choice: TargetChoice,
    environment_id: int,
) -> _Chosen:
    """R2: the chosen connection is one of the environment's, of the offer's package."""
    if not choice.connection_id:
        error: MigrationError = InvalidInput("target_not_chosen", code=item.code, name=item.name)
        return _Chosen(item, choice, None, _refused("R2", SAME_PACKAGE, error))
    try:
        connection = _load.connection(uow, choice.connection_id, environment_id)
    except MigrationError as error:
        return _Chosen(item, choice, None, _refused("R2", SAME_PACKAGE, error))
    label = offer.package.label
    check = _judge(
        "R2",
        SAME_PACKAGE,
        partial(require_same_package, offer.package, connection),
        (f"{label}: {connection.name}", f"{label}: {connection.name}"),
    )
    return _Chosen(item, choice, connection, check)


def _asked(
    deps: Dependencies, chosen: _Chosen
) -> tuple[PackageAdministration | None, MigrationError | None]:
    """Asks the package for the chosen administration (R9), when there is one to ask for."""
    if chosen.connection is None or not chosen.same_package.passed:
        return None, None
    if not chosen.choice.package_admin_id:
        item = chosen.item
        return None, InvalidInput("target_not_chosen", code=item.code, name=item.name)
    connector = deps.connectors.connector_for(chosen.connection)
    try:
        return connector.find_administration(
            chosen.connection, chosen.choice.package_admin_id
        ), None
    except MigrationError as error:  # the package failed or refused: that is the verdict
        return None, error


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
    reserved: Iterable[tuple[str, str]],
) -> None:
    """R8: no administration holds the pair, nor does an unfinished migration (or an item
    chosen before it in this start) reserve it."""
    require_unique_code_name(environment, found.code, found.name, [present] if present else [])
    if (found.code, found.name) in reserved:
        raise RuleViolation(
            "code_name_taken", environment=environment.name, code=found.code, name=found.name
        )


def _package_administration_free(
    connection: Connection,
    choice: TargetChoice,
    found: PackageAdministration | None,
    linked: Administration | None,
    reserved: Iterable[tuple[int, str]],
) -> None:
    """R9: the package knows it, and no administration links it, nor does another item's
    unfinished migration reserve it."""
    found = require_package_administration_available(
        connection, choice.package_admin_id, found, [linked] if linked else []
    )
    if (connection.id, found.package_admin_id) in reserved:
        raise RuleViolation("package_administration_linked", code=found.code, name=found.name)


def _start_checks(
    uow: UnitOfWork,
    offer: TransferOffer,
    environment: Environment,
    chosen: _Chosen,
    asked: tuple[PackageAdministration | None, MigrationError | None],
    now: datetime,
    reserved: Sequence[Migration],
    before: Sequence[ItemChecks],
) -> ItemChecks:
    item, choice, connection = chosen.item, chosen.choice, chosen.connection
    found, package_error = asked
    # What other items' unfinished migrations hold, and what this start's earlier items
    # would take (the same package administration has the same code and name: R8 tells).
    others = [m for m in reserved if m.item_id != item.id]
    pairs = {(m.target.code, m.target.name) for m in others}
    pairs |= {
        (entry.package_administration.code, entry.package_administration.name)
        for entry in before
        if entry.package_administration is not None
    }
    links = {(m.target.connection_id, m.target.package_admin_id) for m in others}
    if found is None:
        code_name = _later("R8", CODE_NAME_FREE_HERE, ONCE_CHOSEN)
    else:
        present = uow.administrations.find_by_code_name(environment.id, found.code, found.name)
        pair = f"{found.code} {found.name}"
        code_name = _judge(
            "R8",
            CODE_NAME_FREE_HERE,
            partial(_code_name_free, environment, found, present, pairs),
            (pair, pair),
        )
    if package_error is not None:
        in_package = _refused("R9", IN_PACKAGE_HERE, package_error)
    elif connection is None or not chosen.same_package.passed:
        in_package = _later("R9", IN_PACKAGE_HERE, ONCE_CHOSEN)
    else:
        linked = uow.administrations.find_linked(connection.id, choice.package_admin_id)
        where = f"{connection.name}: {choice.package_admin_id}"
        in_package = _judge(
            "R9",
            IN_PACKAGE_HERE,
            partial(_package_administration_free, connection, choice, found, linked, links),
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
        _passed("R1", SUPER_USER),
        chosen.same_package,
        _passed("R3", TAKEN_IN, (environment.name, environment.name)),
        _judge("R4", STILL_OFFERED, partial(_still_offered, item)),
        _passed("R5", CODE_ENTERED, redeemed),
        _judge("R6", NOT_EXPIRED, partial(_not_expired, item, offer, now), valid),
        _judge("R7", HAS_SUBSCRIPTION, partial(require_subscription, environment)),
        code_name,
        in_package,
        _passed("R10", USERS_STAY, NO_ACCESS_YET),
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
        chosen = [
            _chosen_connection(uow, offer, item, choice, environment.id)
            for item, choice in zip(items, choices, strict=True)
        ]
    asked = [_asked(deps, each) for each in chosen]
    with deps.uow() as uow:
        now = deps.clock.now()
        reserved = uow.migrations.list_unfinished_into(environment.id)
        entries: list[ItemChecks] = []
        for each, answer in zip(chosen, asked, strict=True):
            entries.append(
                _start_checks(uow, offer, environment, each, answer, now, reserved, entries)
            )
    return StartPreflight(offer, environment, tuple(entries), now)


@audited(AuditAction.OPEN)
def preflight_start(
    deps: Dependencies, *, actor_id: int, offer_id: int, choices: Sequence[TargetChoice]
) -> StartPreflight:
    """The dry run of Start migratie: every check of R1-R10, with its verdict, for each
    chosen item and its target. Changes nothing, sends nothing, enqueues nothing."""
    return start_report(deps, actor_id, offer_id, choices)
