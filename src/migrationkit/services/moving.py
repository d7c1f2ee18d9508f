"""The worker's side of a migration: claim it, report progress, finish or fail it, and the
sweeper's reconciliation.

The archive itself is carried by the engine (``services.engine``); these use cases are the
status changes around it, each one transaction with its e-mails.
"""

from __future__ import annotations

import logging
from datetime import datetime

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import MigrationError, NotFound
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    ItemStatus,
    Migration,
    OfferItem,
    PackageAdministration,
)
from migrationkit.domain.rules import charge_for, moved_administration
from migrationkit.ports import UnitOfWork
from migrationkit.services import _emails, _load
from migrationkit.services._transitions import change_status
from migrationkit.services.audit import audited
from migrationkit.services.dependencies import Dependencies

log = logging.getLogger(__name__)


@attrs.frozen
class Progress:
    """Where a migration stands: its status and how much of the archive is done."""

    migration: Migration
    status: ItemStatus
    administration_name: str
    #: The offer the migration's item came in, and how many items it has (a summary
    #: Migratieverslag covers them all).
    offer_id: int
    offer_items: int

    @property
    def percent(self) -> int:
        total = self.migration.documents_total
        if self.status is ItemStatus.COMPLETED:
            return 100
        return 0 if total == 0 else min(100, self.migration.documents_done * 100 // total)


def claim_migration(deps: Dependencies, migration_id: int) -> Migration | None:
    """In de wachtrij -> Aan het verwerken, with a lease; ``None`` when the migration is not
    waiting (another worker has it, or it is done), so a job that runs twice does nothing."""
    with deps.uow() as uow:
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        if item.status is not ItemStatus.QUEUED:
            return None
        now = deps.clock.now()
        if not uow.items.compare_and_set(item, ItemStatus.PROCESSING, event=Event.CLAIM, at=now):
            return None
        uow.migrations.record_claim(migration.id, lease_for=deps.policy.lease_for)
        uow.commit()
        claimed = _load.migration(uow, migration.id)
    deps.metrics.move_claimed()
    log.info("migration_claimed", extra=ids(claimed, item.offer_id))
    return claimed


def hand_back(deps: Dependencies, migration_id: int, *, attempt: int) -> bool:
    """Aan het verwerken -> In de wachtrij at once, as when a lease runs out, and a wake-up
    enqueued: a worker asked to stop gives back the migration it holds (its claim number
    ``attempt``), so the next worker takes it over now rather than a lease later. Whether
    it did; not when the migration changed meanwhile (finished, failed, or claimed again)."""
    with deps.uow() as uow:
        # The heartbeat first: on PostgreSQL it locks the migration's row against a claim.
        if not uow.migrations.heartbeat(migration_id, lease_for=deps.policy.lease_for):
            return False
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        if migration.attempts != attempt or not uow.items.compare_and_set(
            item, ItemStatus.QUEUED, event=Event.LEASE_EXPIRED, at=deps.clock.now()
        ):
            return False
        uow.commit()
    log.info("migration_handed_back", extra=ids(migration, item.offer_id))
    deps.queue.enqueue_migration(migration_id)
    return True


def ids(migration: Migration, offer_id: int) -> dict[str, int]:
    """The ids that every log line about a migration carries (``extra`` of a log record,
    which the structured logs write as keys): the target environment's, and the claim's
    number as ``attempt``."""
    return {
        "migration_id": migration.id,
        "offer_id": offer_id,
        "item_id": migration.item_id,
        "environment_id": migration.target_environment_id,
        "attempt": migration.attempts,
    }


def requeue_stale(deps: Dependencies) -> list[int]:
    """The reconciler, for the sweeper: every migration Aan het verwerken whose lease ran out
    goes back In de wachtrij (compare-and-set, so a worker that finishes meanwhile wins), and
    every migration In de wachtrij is enqueued again, so the database's truth wins over a
    lost wake-up. The ids enqueued, in order."""
    with deps.uow() as uow:
        now = deps.clock.now()
        waiting: list[tuple[Migration, OfferItem]] = []
        for migration in uow.migrations.list_to_run():
            item = _load.item(uow, migration.item_id)
            # A worker that finished or failed it meanwhile wins the compare-and-set.
            if item.status is ItemStatus.QUEUED or (
                item.status is ItemStatus.PROCESSING
                and uow.items.compare_and_set(
                    item, ItemStatus.QUEUED, event=Event.LEASE_EXPIRED, at=now
                )
            ):
                waiting.append((migration, item))
        uow.commit()
    for migration, item in waiting:
        lease_expired = item.status is ItemStatus.PROCESSING
        log.info(
            "migration_requeued",
            extra=ids(migration, item.offer_id) | {"lease_expired": lease_expired},
        )
        deps.queue.enqueue_migration(migration.id)
    return [migration.id for migration, _ in waiting]


def record_progress(
    deps: Dependencies,
    migration_id: int,
    *,
    documents_total: int,
    documents_done: int,
    bytes_total: int,
    bytes_done: int,
) -> None:
    """Stores progress in documents and bytes, readable at any moment."""
    with deps.uow() as uow:
        uow.migrations.record_progress(
            migration_id,
            documents_total=documents_total,
            documents_done=documents_done,
            bytes_total=bytes_total,
            bytes_done=bytes_done,
        )
        uow.commit()


def complete_migration(deps: Dependencies, migration_id: int) -> Migration:
    """The finish, in one transaction (``complete_within``)."""
    with deps.uow() as uow:
        complete_within(uow, migration_id, deps.clock.now(), deps.policy.portal_url)
        uow.commit()
        migration = _load.migration(uow, migration_id)
        offer_id = _load.item(uow, migration.item_id).offer_id
    completed(deps, migration, offer_id)
    return migration


def completed(deps: Dependencies, migration: Migration, offer_id: int) -> None:
    """Logs and counts a finish once it is committed (Voltooid)."""
    seconds = _seconds_since_start(migration, deps.clock.now())
    deps.metrics.move_ended(status="completed", seconds=seconds, error_code=None)
    log.info(
        "migration_finished",
        extra=ids(migration, offer_id)
        | {
            "documents": migration.documents_total,
            "bytes": migration.bytes_total,
            "seconds": seconds,
        },
    )


#: Where the portal serves a migration's Migratieverslag; the Voltooid e-mails link it.
REPORT_PATH = "/migraties/{migration_id}/migratieverslag.pdf"


def complete_within(uow: UnitOfWork, migration_id: int, at: datetime, portal_url: str) -> None:
    """The finish inside the caller's transaction, so that the engine commits it with the
    archive's last changes (R14, R15): the administration changes environment, connection
    and maybe code; nobody in the target has access yet; the target is charged once; sender
    and recipient are e-mailed; Voltooid."""
    migration = _load.migration(uow, migration_id)
    item = _load.item(uow, migration.item_id)
    offer = _load.offer(uow, item.offer_id)
    item = change_status(uow, item, Event.COMPLETE, at=at)
    target = migration.target
    connection = _load.connection(uow, target.connection_id, migration.target_environment_id)
    administration = uow.administrations.replace(
        moved_administration(
            _load.administration(uow, migration.administration_id, offer.source_environment_id),
            connection,
            PackageAdministration(target.package_admin_id, target.code, target.name),
        )
    )
    uow.access.clear_for_administration(administration.id)
    uow.charges.add(charge_for(migration, at))
    uow.migrations.record_finish(migration.id, at)
    report = portal_url.rstrip("/") + REPORT_PATH.format(migration_id=migration.id)
    _emails.post(uow, _emails.completed_to_sender(offer, item, report), at)
    recipient = _load.redeemer(uow, offer)
    letter = _emails.completed_to_recipient(recipient.email, item, target.code, report)
    _emails.post(uow, letter, at)


def fail_migration(
    deps: Dependencies, migration_id: int, reason: MigrationError | str
) -> Migration:
    """Aan het verwerken -> Mislukt, with a readable reason e-mailed to the recipient in
    their language. An error is kept with its code and params as well, so that the
    portal shows the reason in the reader's language (``Migration.failure_message``); a
    reason given as text is shown as it is."""
    text = reason if isinstance(reason, str) else reason.message("nl")
    code, params = _kept_error(reason)
    with deps.uow() as uow:
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        offer = _load.offer(uow, item.offer_id)
        item = change_status(uow, item, Event.FAIL, at=deps.clock.now())
        uow.migrations.record_failure(migration.id, text, code=code, params=params)
        recipient = _load.redeemer(uow, offer)
        wording = reason if isinstance(reason, str) else reason.message
        _emails.post(uow, _emails.failed(recipient.email, item, wording), deps.clock.now())
        uow.commit()
        failed = _load.migration(uow, migration.id)
    seconds = _seconds_since_start(failed, deps.clock.now())
    deps.metrics.move_ended(status="failed", seconds=seconds, error_code=code or "other")
    log.warning(
        "migration_failed",
        extra=ids(failed, offer.id) | {"error_code": code or "other", "seconds": seconds},
    )
    return failed


def _seconds_since_start(migration: Migration, now: datetime) -> float | None:
    started = migration.started_at
    return None if started is None else max(0.0, (now - started).total_seconds())


def _kept_error(reason: MigrationError | str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The code and params (as text) to keep of a failure's reason: none for a text, nor
    for an error with a param whose words depend on the language (a status, an event),
    which is then kept as its Dutch text only."""
    if isinstance(reason, str) or not all(
        isinstance(value, str | int) for value in reason.params.values()
    ):
        return None, ()
    return reason.code, tuple((name, str(value)) for name, value in reason.params.items())


@audited(AuditAction.OPEN)
def migration_progress(deps: Dependencies, *, actor_id: int, migration_id: int) -> Progress:
    """The progress of a migration, for a super user of the sending or receiving side."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        offer = _load.offer(uow, item.offer_id)
        sides = (offer.source_environment_id, migration.target_environment_id)
        if actor.environment_id not in sides:
            raise NotFound("unknown_migration")
        offer_items = len(uow.items.list_for_offer(offer.id))
        return Progress(migration, item.status, item.name, offer.id, offer_items)
