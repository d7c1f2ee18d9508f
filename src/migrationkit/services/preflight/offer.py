"""The offer's checks: the dry run of Verzenden, for each administration every rule of
R1-R10 and the guide's checklist, decided now or later."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import Administration, AuthorizationFlow, Connection, OfferItem
from migrationkit.domain.rules import (
    expiry_of,
    require_no_authorizers_in_flow,
    require_not_in_open_offer,
    require_one_source,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.preflight.report import Check, first_refusal, judge, later, passed
from migrationkit.services.preflight.texts import (
    AT_START,
    CODE_NAME_FREE,
    IN_PACKAGE,
    NO_AUTHORIZERS,
    NOT_IN_OPEN_OFFER,
    ONE_SOURCE,
    PACKAGE_FIRST,
    SAME_PACKAGE,
    SUBSCRIPTION,
    SUPER_USER,
    TRANSFER_CODE,
    USERS_STAY,
    USERS_STAY_NOTE,
    VALIDITY,
)

#: A row that belongs to one administration: an offered item, an authorization flow.
_OfAdministration = TypeVar("_OfAdministration", OfferItem, AuthorizationFlow)


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
        return first_refusal(check for entry in self.administrations for check in entry.checks)


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
    ids = [administration.id for administration in administrations]
    open_items = _by_administration(uow.items.list_open_for_administrations(ids))
    flows = _by_administration(uow.flows.list_for_administrations(ids))
    entries = []
    for administration in administrations:
        its_open_items = open_items.get(administration.id, [])
        its_flows = flows.get(administration.id, [])
        checks = (
            passed("R1", SUPER_USER),
            later(
                "R2",
                SAME_PACKAGE,
                (
                    f"Bij de start kiest de nieuwe omgeving een koppeling met {package}; een "
                    "ander boekhoudpakket kan niet.",
                    f"At the start the new environment chooses a connection of {package}; "
                    "another accounting package is not possible.",
                ),
            ),
            passed("R3", ONE_SOURCE, (connection.name, connection.name)),
            judge(
                "R4",
                NOT_IN_OPEN_OFFER,
                partial(require_not_in_open_offer, administration, its_open_items),
            ),
            later(
                "R5",
                TRANSFER_CODE,
                (
                    "Wordt bij het verzenden gemaakt en per e-mail naar de ontvangers gestuurd; "
                    "jij krijgt een kopie.",
                    "Made on sending and e-mailed to the recipients; you get a copy.",
                ),
            ),
            passed(
                "R6",
                VALIDITY,
                (
                    f"Geldig tot {show_moment(valid_until)} als je nu verstuurt.",
                    f"Valid until {show_moment(valid_until)} if you send now.",
                ),
            ),
            later(
                "R7",
                SUBSCRIPTION,
                (
                    "Wordt gecontroleerd bij het invoeren van de code in de nieuwe omgeving.",
                    "Checked when the code is entered in the new environment.",
                ),
            ),
            later("R8", CODE_NAME_FREE, AT_START),
            later("R9", IN_PACKAGE, AT_START),
            judge(
                "R10",
                NO_AUTHORIZERS,
                partial(require_no_authorizers_in_flow, administration, its_flows),
            ),
            passed("checklist", USERS_STAY, USERS_STAY_NOTE),
            later(
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


def _by_administration(rows: Iterable[_OfAdministration]) -> dict[int, list[_OfAdministration]]:
    grouped: dict[int, list[_OfAdministration]] = {}
    for row in rows:
        grouped.setdefault(row.administration_id, []).append(row)
    return grouped


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
