"""The Migratieverslag: for each Voltooid migration, the manifest of every document (old
and new address, file name, size, SHA-256, upload time) and a statement of the move's facts
with the manifest's digests, signed with the server's key; and one summary of an offer's
migrations. Only the super users of the two offices may have them; to anyone else a
migration or offer is unknown, exactly as another office's (``NotFound``).

The manifest is read from the database a page at a time, never whole: a move across stores
lists the copies the engine recorded (each verified against the target store before
Voltooid); a move on one store wrote nothing per document, so it lists the administration's
documents that were there at the finish, at the addresses they kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import NotFound
from migrationkit.domain.manifest import (
    DIFFERS,
    PASSED,
    STATEMENT_FORMAT,
    SUMMARY_FORMAT,
    LinksOutcome,
    ManifestDigests,
    ManifestEntry,
    MigrationFacts,
    MigrationReport,
    OfferReport,
    StatusReached,
    canonical_json,
    timestamp,
)
from migrationkit.domain.model import ItemStatus, document_address
from migrationkit.ports import ReportSigner, UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.engine import LINK_ATTEMPTS

#: How many manifest rows are read in one query.
MANIFEST_PAGE = 2000


@audited(AuditAction.OPEN)
def migration_manifest(
    deps: Dependencies, *, actor_id: int, migration_id: int
) -> Iterator[ManifestEntry]:
    """The manifest's rows, ordered by document id, read a page at a time as they are
    consumed (the access is checked at once, before the first row is asked for)."""
    with deps.uow() as uow:
        facts = _facts(deps, uow, actor_id, migration_id)
    return _entries(deps, facts)


@audited(AuditAction.OPEN)
def migration_report(
    deps: Dependencies, signer: ReportSigner, *, actor_id: int, migration_id: int
) -> MigrationReport:
    """The Migratieverslag of a Voltooid migration, its statement signed by ``signer``."""
    with deps.uow() as uow:
        facts = _facts(deps, uow, actor_id, migration_id)
    return _report(deps, signer, facts)


@audited(AuditAction.OPEN)
def offer_report(
    deps: Dependencies, signer: ReportSigner, *, actor_id: int, offer_id: int
) -> OfferReport:
    """The summary report of every migration of an offer, for a super user of either office."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        offer = _load.offer(uow, offer_id)
        sides = (offer.source_environment_id, offer.target_environment_id)
        if not actor.is_super_user or actor.environment_id not in sides:
            raise NotFound("unknown_offer")
        items = uow.items.list_for_offer(offer_id)
        completed = []
        for item in items:
            migration = uow.migrations.get_for_item(item.id)
            if item.status is ItemStatus.COMPLETED and migration is not None:
                completed.append(_facts(deps, uow, actor_id, migration.id))
        not_completed = tuple(item for item in items if item.status is not ItemStatus.COMPLETED)
        source = _load.environment(uow, offer.source_environment_id).name
        target = _load.environment(uow, offer.target_environment_id or 0).name
    reports = tuple(_report(deps, signer, facts) for facts in completed)
    statement = canonical_json(
        {
            "format": SUMMARY_FORMAT,
            "offer_id": offer_id,
            "source_environment": source,
            "target_environment": target,
            "migrations": [
                {
                    "migration_id": report.facts.migration.id,
                    "statement_sha256": hashlib.sha256(report.statement).hexdigest(),
                }
                for report in reports
            ],
            "not_completed": [
                {"code": item.code, "name": item.name, "status": item.status.value}
                for item in not_completed
            ],
        }
    )
    return OfferReport(
        offer_id=offer_id,
        source_environment=source,
        target_environment=target,
        offered_by=offer.sender_email,
        reports=reports,
        not_completed=not_completed,
        statement=statement,
        signature=signer.sign(statement),
        public_key=signer.public_key,
    )


def _facts(deps: Dependencies, uow: UnitOfWork, actor_id: int, migration_id: int) -> MigrationFacts:
    """The migration's facts, for a super user of either office once it is Voltooid; to
    anyone else, and before Voltooid, the migration is unknown."""
    actor = _load.user(uow, actor_id)
    migration = _load.migration(uow, migration_id)
    item = _load.item(uow, migration.item_id)
    offer = _load.offer(uow, item.offer_id)
    sides = (offer.source_environment_id, migration.target_environment_id)
    if not actor.is_super_user or actor.environment_id not in sides:
        raise NotFound("unknown_migration")
    if item.status is not ItemStatus.COMPLETED or migration.finished_at is None:
        raise NotFound("report_not_ready")
    source = _load.environment(uow, offer.source_environment_id)
    target = _load.environment(uow, migration.target_environment_id)
    changes = uow.items.status_changes(item.id)
    started_by = next(
        (
            change.actor_user_id
            for change in changes
            if change.to_status is ItemStatus.QUEUED and change.actor_user_id is not None
        ),
        None,
    )
    starter = uow.users.get(started_by) if started_by is not None else None
    facts = MigrationFacts(
        migration=migration,
        item=item,
        source_environment=source.name,
        target_environment=target.name,
        source_store=source.archive_store,
        target_store=target.archive_store,
        offered_by=offer.sender_email,
        started_by=starter.email if starter is not None else None,
        statuses=tuple(StatusReached(change.to_status, change.at) for change in changes),
        links=LinksOutcome.PENDING,
    )
    return attrs.evolve(facts, links=_links(deps, uow, facts))


def _links(deps: Dependencies, uow: UnitOfWork, facts: MigrationFacts) -> str:
    migration = facts.migration
    if facts.same_store:
        return LinksOutcome.UNCHANGED
    if migration.links_rewritten_at is None:
        failed = migration.links_attempts >= LINK_ATTEMPTS
        return LinksOutcome.FAILED if failed else LinksOutcome.PENDING
    connection = uow.connections.get(migration.target.connection_id)
    if connection is None or not deps.connectors.connector_for(connection).can_rewrite_links:
        return LinksOutcome.NOT_SUPPORTED
    return LinksOutcome.REWRITTEN


def _entries(deps: Dependencies, facts: MigrationFacts) -> Iterator[ManifestEntry]:
    """The manifest's rows, a page per unit of work."""
    after = 0
    while page := _page(deps, facts, after):
        yield from page
        after = page[-1].document_id


def _page(deps: Dependencies, facts: MigrationFacts, after: int) -> Sequence[ManifestEntry]:
    migration = facts.migration
    with deps.uow() as uow:
        if not facts.same_store:
            return uow.manifests.copied_page(
                migration.id, after_document_id=after, limit=MANIFEST_PAGE
            )
        # One store: no copy was recorded; every document there at the finish kept its
        # address. A page may hold only later documents: then the next one is read.
        finished_at = migration.finished_at
        assert finished_at is not None
        while documents := uow.documents.list_page(
            migration.administration_id, after_id=after, limit=MANIFEST_PAGE
        ):
            entries = [
                ManifestEntry(
                    document_id=document.id,
                    old_address=document_address(facts.source_store, document.id),
                    new_address=document_address(facts.target_store, document.id),
                    filename=document.filename,
                    size=document.size,
                    sha256=document.sha256,
                    uploaded_at=document.received_at,
                )
                for document in documents
                if document.received_at <= finished_at
            ]
            if entries:
                return entries
            after = documents[-1].id
        return []


def _report(deps: Dependencies, signer: ReportSigner, facts: MigrationFacts) -> MigrationReport:
    digests = ManifestDigests()
    for entry in _entries(deps, facts):
        digests.add(entry)
    migration = facts.migration
    assert migration.finished_at is not None  # Voltooid (``_facts``)
    counted = (digests.documents, digests.bytes)
    verdict = PASSED if counted == (migration.documents_total, migration.bytes_total) else DIFFERS
    statement = canonical_json(
        {
            "format": STATEMENT_FORMAT,
            "migration_id": migration.id,
            "source_environment": facts.source_environment,
            "target_environment": facts.target_environment,
            "administration": {
                "old": {"code": facts.item.code, "name": facts.item.name},
                "new": {"code": migration.target.code, "name": migration.target.name},
            },
            "finished_at": timestamp(migration.finished_at),
            "documents": digests.documents,
            "bytes": digests.bytes,
            "manifest_sha256": digests.jsonl_sha256,
            "manifest_csv_sha256": digests.csv_sha256,
            "integrity": verdict,
        }
    )
    return MigrationReport(
        facts=facts,
        documents=digests.documents,
        total_bytes=digests.bytes,
        manifest_sha256=digests.jsonl_sha256,
        manifest_csv_sha256=digests.csv_sha256,
        verdict=verdict,
        statement=statement,
        signature=signer.sign(statement),
        public_key=signer.public_key,
    )
