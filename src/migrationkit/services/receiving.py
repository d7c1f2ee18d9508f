"""The recipient's side: redeem a code, reject, choose targets, start, retry, overview."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

import attrs

from migrationkit.domain import codes
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import InvalidInput, Locked, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccountingPackage,
    Connection,
    ItemStatus,
    Migration,
    MigrationTarget,
    OfferItem,
    PackageAdministration,
    TransferOffer,
    User,
)
from migrationkit.domain.overviews import PAGE_SIZE
from migrationkit.domain.rules import (
    clean_reason,
    displayed_status,
    require_may_take_in,
    require_package_administration_available,
    require_recipient,
    require_redeemable,
    require_unique_code_name,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import _emails, _load
from migrationkit.services._pages import OverviewPage, overview_query, paged
from migrationkit.services._transitions import change_status, change_statuses
from migrationkit.services.audit import audited, record, record_many
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.moving import ids
from migrationkit.services.preflight import Occupants, TargetChoice, carrying, start_report

log = logging.getLogger(__name__)


@attrs.frozen
class RedeemedOffer:
    """What a redeemed code opens: the offer and its items, with their statuses now."""

    offer: TransferOffer
    items: tuple[OfferItem, ...]
    source_environment_name: str
    #: The migrations of the started items, by item id.
    migrations: Mapping[int, Migration] = attrs.field(factory=dict)

    @property
    def selectable(self) -> tuple[OfferItem, ...]:
        """The items that can still be rejected or started."""
        return tuple(item for item in self.items if item.status is ItemStatus.OFFERED)

    @property
    def counts(self) -> tuple[tuple[ItemStatus, int], ...]:
        """How many items each status has, in the statuses' order, leaving out the ones
        no item has: the whole request at a glance."""
        counted = Counter(item.status for item in self.items)
        return tuple((status, counted[status]) for status in ItemStatus if counted[status])

    @property
    def running(self) -> bool:
        """Whether a move of the request still runs: a page showing it asks again."""
        return any(item.status in (ItemStatus.QUEUED, ItemStatus.PROCESSING) for item in self.items)


@attrs.frozen
class IncomingRow:
    """A row of "Administraties die klaar staan om gemigreerd te worden"."""

    item_id: int
    offer_id: int
    offered_at: datetime
    administration_code: str
    administration_name: str
    package: AccountingPackage
    source_environment_name: str
    status: ItemStatus
    migration: Migration | None
    rejection_reason: str | None

    @property
    def can_retry(self) -> bool:
        return self.status is ItemStatus.FAILED


def _failures_locked(deps: Dependencies, uow: UnitOfWork, user: User, now: datetime) -> None:
    """R7: too many wrong codes by this user or into this environment lock redeeming."""
    since = now - deps.policy.lockout.window
    for failures in (
        uow.redeem_attempts.failures_for_user(user.id, since),
        uow.redeem_attempts.failures_for_environment(user.environment_id, since),
    ):
        try:
            deps.policy.lockout.require_unlocked(failures, now)
        except Locked:
            deps.metrics.locked_out("transfer_code")
            raise


def _as_shown(uow: UnitOfWork, offer: TransferOffer, now: datetime) -> tuple[OfferItem, ...]:
    """The offer's items with the status the recipient sees (an expired one reads Verlopen)."""
    return tuple(
        attrs.evolve(item, status=displayed_status(item, offer, now))
        for item in uow.items.list_for_offer(offer.id)
    )


@audited(AuditAction.REDEEM)
def redeem_code(
    deps: Dependencies,
    *,
    actor_id: int,
    code: str,
    accepted_terms: bool,
    accepted_costs: bool,
) -> RedeemedOffer:
    """Enters a transfer code: binds the offer to the actor's environment (R3, R5-R7).

    A wrong code is recorded and counts towards the lockout; during a lockout every code,
    the right one too, gets the lockout's answer. Redemptions into one environment are
    counted and evaluated one at a time (a lock on the environment's row).
    """
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        # Each redemption into the environment waits here for the one before it to commit,
        # so its wrong code is counted before the next code is looked at: however many codes
        # arrive at once, no more are evaluated than the lockout allows (R7).
        uow.environments.lock(actor.environment_id)
        environment = _load.environment(uow, actor.environment_id)
        require_may_take_in(
            actor, environment, accepted_terms=accepted_terms, accepted_costs=accepted_costs
        )
        now = deps.clock.now()
        _failures_locked(deps, uow, actor, now)
        typo: InvalidInput | None = None
        try:
            digest = codes.digest_code(codes.normalise_code(code), deps.policy.code_secret)
        except InvalidInput as error:
            digest, typo = None, error
        offer = None if digest is None else uow.offers.find_by_digest(digest)
        if offer is None or digest is None or not codes.digests_match(offer.code_digest, digest):
            uow.redeem_attempts.add_failure(user_id=actor.id, environment_id=environment.id, at=now)
            uow.commit()
            if typo is not None:
                raise typo
            raise RuleViolation("code_unknown")
        require_redeemable(offer, uow.items.list_for_offer(offer.id), environment, now)
        if not uow.offers.bind_target(
            offer.id, environment_id=environment.id, user_id=actor.id, at=now
        ):
            raise RuleViolation("code_used")
        source = _load.environment(uow, offer.source_environment_id)
        offer = _load.offer(uow, offer.id)
        items = _as_shown(uow, offer, now)
        record(uow, deps, actor, AuditAction.REDEEM, ("offer", offer.id))
        uow.commit()
    return RedeemedOffer(offer, items, source.name)


@audited(AuditAction.OPEN)
def redeemed_offer(deps: Dependencies, *, actor_id: int, offer_id: int) -> RedeemedOffer:
    """An offer the actor's environment redeemed earlier, as ``redeem_code`` showed it."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_recipient(offer, actor)
        now = deps.clock.now()
        items = _as_shown(uow, offer, now)
        source = _load.environment(uow, offer.source_environment_id)
        migrations = {m.item_id: m for m in uow.migrations.list_for_offer(offer.id)}
    return RedeemedOffer(offer, items, source.name, migrations)


@audited(AuditAction.REJECT)
def reject_items(
    deps: Dependencies,
    *,
    actor_id: int,
    offer_id: int,
    item_ids: Sequence[int] | None = None,
    reason: str | None = None,
) -> tuple[OfferItem, ...]:
    """Afwijzen: the recipient refuses the whole request (``item_ids`` None) or some items,
    with an optional reason; the sender is e-mailed (R11). All or nothing."""
    why = clean_reason(reason)
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_recipient(offer, actor)
        now = deps.clock.now()
        if item_ids is None:
            chosen = [
                item
                for item in uow.items.list_for_offer(offer.id)
                if displayed_status(item, offer, now) is ItemStatus.OFFERED
            ]
            if not chosen:
                raise RuleViolation("no_open_items")
        else:
            chosen = _load.chosen_items(uow, offer, item_ids)
            if not chosen:
                raise InvalidInput("no_administrations")
        rejected = tuple(
            change_status(
                uow,
                item,
                Event.REJECT,
                at=now,
                offer=offer,
                actor_user_id=actor.id,
                rejection_reason=why,
            )
            for item in chosen
        )
        _emails.post(uow, _emails.rejected(offer, rejected, why), now)
        record(uow, deps, actor, AuditAction.REJECT, ("offer", offer.id))
        uow.commit()
    return rejected


@audited(AuditAction.OPEN)
def available_package_administrations(
    deps: Dependencies, *, actor_id: int, connection_id: int
) -> tuple[PackageAdministration, ...]:
    """The package administrations of one of the actor's connections that are not linked in
    the environment yet: what the recipient can choose as a target (R9). The package is
    asked once per connection in a request (``Dependencies.package_listings``): call it
    once per connection, not per administration shown."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
        linked = linked_in(uow, connection)
    return not_linked(deps, connection, linked)


def linked_in(uow: UnitOfWork, connection: Connection) -> frozenset[str]:
    """The package administrations of ``connection`` that its environment has linked."""
    return frozenset(
        a.package_admin_id for a in uow.administrations.list_for_connection(connection.id)
    )


def not_linked(
    deps: Dependencies, connection: Connection, linked: frozenset[str]
) -> tuple[PackageAdministration, ...]:
    """The package's administrations of ``connection`` but those ``linked``: one listing,
    asked outside any transaction, once per connection in a request
    (``Dependencies.package_listings``)."""
    listed = deps.package_listings().administrations(deps.connectors, connection)
    return tuple(pa for pa in listed if pa.package_admin_id not in linked)


@audited(AuditAction.START)
def start_migrations(
    deps: Dependencies, *, actor_id: int, offer_id: int, choices: Sequence[TargetChoice]
) -> tuple[Migration, ...]:
    """Start migratie: each chosen item goes to In de wachtrij with its target, and one job
    per migration is enqueued after the commit (R2, R6-R9, R13). All or nothing.

    Refused with the first refusal of the dry run's report (``preflight_start``), which the
    refusal carries (``report_of``); inside the transaction the compare-and-set and R8/R9
    are checked again, as someone may have acted since. If the queue is unreachable the start
    still stands: the database holds it, and the sweeper enqueues whatever should run and is
    not.
    """
    report = start_report(deps, actor_id, offer_id, choices)
    error = report.first_error()
    if error is not None:
        raise carrying(error, report)
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        require_recipient(offer, actor)
        environment = _load.environment(uow, actor.environment_id)
        now = deps.clock.now()
        targets = [entry.target() for entry in report.items]
        occupants = Occupants.read(uow, environment.id, targets)
        items = {item.id: item for item in uow.items.list_for_offer(offer.id)}
        for connection, chosen in targets:
            linked = occupants.linking(connection, chosen.package_admin_id)
            found = require_package_administration_available(
                connection,
                chosen.package_admin_id,
                chosen,
                [linked] if linked is not None else [],
            )
            existing = occupants.holding_pair(found)
            require_unique_code_name(
                environment, found.code, found.name, [existing] if existing else []
            )
        started = change_statuses(
            uow,
            [items[entry.item.id] for entry in report.items],
            Event.START,
            at=now,
            offer=offer,
            actor_user_id=actor.id,
        )
        migrations = uow.migrations.add_many(
            [
                (
                    item,
                    MigrationTarget(
                        connection_id=connection.id,
                        package_admin_id=found.package_admin_id,
                        code=found.code,
                        name=found.name,
                    ),
                )
                for item, (connection, found) in zip(started, targets, strict=True)
            ],
            target_environment_id=environment.id,
            at=now,
        )
        _emails.post(uow, _emails.started(offer, started), now)
        record_many(uow, deps, actor, AuditAction.START, [("migration", m.id) for m in migrations])
        uow.commit()
    for migration in migrations:
        log.info("migration_queued", extra=ids(migration, offer_id))
        _wake(deps, migration.id)
    return tuple(migrations)


def _wake(deps: Dependencies, migration_id: int) -> None:
    """Asks the queue to run a migration; a lost wake-up is made good by the sweeper."""
    try:
        deps.queue.enqueue_migration(migration_id)
    except Exception:  # the queue is a signal, not the truth: never undo a recorded start
        log.warning("could not enqueue migration %s; the sweeper will", migration_id, exc_info=True)


@audited(AuditAction.RETRY)
def retry_migration(deps: Dependencies, *, actor_id: int, migration_id: int) -> Migration:
    """Mislukt -> In de wachtrij: the recipient tries again; the move resumes where it
    stopped (R13)."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        require_recipient(_load.offer(uow, item.offer_id), actor, "unknown_migration")
        change_status(uow, item, Event.RETRY, at=deps.clock.now(), actor_user_id=actor.id)
        record(uow, deps, actor, AuditAction.RETRY, ("migration", migration.id))
        uow.commit()
    _wake(deps, migration.id)
    return migration


@audited(AuditAction.OPEN)
def incoming_overview(
    deps: Dependencies,
    *,
    actor_id: int,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    statuses: Collection[ItemStatus] | None = None,
) -> OverviewPage[IncomingRow]:
    """A page of the administrations offered to the actor's environment, newest first, with
    each word of the search somewhere in the row (ignoring case), only those showing one of
    ``statuses`` when given, from ``cursor`` (the ``older`` or ``newer`` of a page before)
    on."""
    query = overview_query(
        search=search, cursor=cursor, limit=limit, now=deps.clock.now(), statuses=statuses
    )
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        entries, older, newer = paged(uow.items.incoming_page(actor.environment_id, query), query)
        moves = {m.item_id: m for m in uow.migrations.list_for_items([e.item.id for e in entries])}
    rows = tuple(
        IncomingRow(
            item_id=entry.item.id,
            offer_id=entry.offer.id,
            offered_at=entry.offer.created_at,
            administration_code=entry.item.code,
            administration_name=entry.item.name,
            package=entry.offer.package,
            source_environment_name=entry.source_environment_name,
            status=displayed_status(entry.item, entry.offer, query.now),
            migration=moves.get(entry.item.id),
            rejection_reason=entry.item.rejection_reason,
        )
        for entry in entries
    )
    return OverviewPage(rows, older, newer)
