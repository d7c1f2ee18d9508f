"""Migrations, the document copies they make and the charge of each."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from migrationkit import ports
from migrationkit.domain.model import Charge, ItemStatus, Migration, MigrationTarget, OfferItem
from migrationkit.ports import ArchiveTotals, DocumentCopy
from migrationkit.testing._repositories._base import _existing, _Repository
from migrationkit.testing._repositories.archive import _totals
from migrationkit.testing._repositories.tables import (
    CHARGES,
    CONNECTIONS,
    COPIES,
    DOCUMENTS,
    ENVIRONMENTS,
    ITEMS,
    MIGRATIONS,
    VERIFIED_COPIES,
)


class InMemoryDocumentCopyRepository(_Repository, ports.DocumentCopyRepository):
    def add_many(self, migration_id: int, copies: Sequence[DocumentCopy], at: datetime) -> int:
        tx = self._tx
        _existing(tx, MIGRATIONS, migration_id, "unknown_migration")
        new = 0
        for copy in copies:
            _existing(tx, DOCUMENTS, copy.document_id, "unknown_document")
            if COPIES.get(tx, (migration_id, copy.document_id)) is None:
                COPIES.put(tx, (migration_id, copy.document_id), copy)
                new += 1
        return new

    def totals(self, migration_id: int) -> ArchiveTotals:
        return _totals(self._of(migration_id))

    def list_page(
        self,
        migration_id: int,
        *,
        after_document_id: int = 0,
        limit: int = 1000,
        unverified: bool = False,
    ) -> Sequence[DocumentCopy]:
        return [
            c
            for c in self._of(migration_id)
            if c.document_id > after_document_id
            and not (unverified and VERIFIED_COPIES.get(self._tx, (migration_id, c.document_id)))
        ][:limit]

    def record_verified(self, migration_id: int, document_ids: Collection[int]) -> None:
        for document_id in document_ids:
            if COPIES.get(self._tx, (migration_id, document_id)) is not None:
                VERIFIED_COPIES.put(self._tx, (migration_id, document_id), True)

    def forget(self, migration_id: int, document_ids: Collection[int]) -> int:
        forgotten = 0
        for document_id in set(document_ids):
            if COPIES.get(self._tx, (migration_id, document_id)) is not None:
                COPIES.delete(self._tx, (migration_id, document_id))
                VERIFIED_COPIES.delete(self._tx, (migration_id, document_id))
                forgotten += 1
        return forgotten

    def list_mismatched(self, migration_id: int, administration_id: int) -> Sequence[int]:
        tx = self._tx
        mismatched = []
        for document in DOCUMENTS.rows(tx):
            if document.administration_id != administration_id:
                continue
            copy = COPIES.get(tx, (migration_id, document.id))
            if copy is None or (copy.size, copy.sha256) != (document.size, document.sha256):
                mismatched.append(document.id)
        return mismatched

    def _of(self, migration_id: int) -> list[DocumentCopy]:
        """The migration's copies, ordered by document id."""
        return [
            copy
            for (copied_in, _), copy in sorted(self._tx.read(COPIES.name).items())
            if copied_in == migration_id
        ]


class InMemoryMigrationRepository(_Repository, ports.MigrationRepository):
    def add(
        self,
        item: OfferItem,
        *,
        target_environment_id: int,
        target: MigrationTarget,
        at: datetime,
    ) -> Migration:
        """Also raises ``Conflict("item_started")`` when the item has a migration already."""
        tx = self._tx
        _existing(tx, ITEMS, item.id, "unknown_item")
        _existing(tx, ENVIRONMENTS, target_environment_id, "unknown_environment")
        _existing(tx, CONNECTIONS, target.connection_id, "unknown_connection")
        migration = Migration(
            id=tx.next_id(MIGRATIONS.name),
            item_id=item.id,
            administration_id=item.administration_id,
            target_environment_id=target_environment_id,
            target=target,
            started_at=at,
        )
        MIGRATIONS.put(tx, migration.id, migration)
        return migration

    def add_many(
        self,
        starts: Sequence[tuple[OfferItem, MigrationTarget]],
        *,
        target_environment_id: int,
        at: datetime,
    ) -> Sequence[Migration]:
        return [
            self.add(item, target_environment_id=target_environment_id, target=target, at=at)
            for item, target in starts
        ]

    def get(self, migration_id: int) -> Migration | None:
        return MIGRATIONS.get(self._tx, migration_id)

    def get_for_item(self, item_id: int) -> Migration | None:
        return next((m for m in MIGRATIONS.rows(self._tx) if m.item_id == item_id), None)

    def list_for_items(self, item_ids: Collection[int]) -> Sequence[Migration]:
        wanted = set(item_ids)
        return [m for m in MIGRATIONS.rows(self._tx) if m.item_id in wanted]

    def list_for_offer(self, offer_id: int) -> Sequence[Migration]:
        items = {i.id for i in ITEMS.rows(self._tx) if i.offer_id == offer_id}
        return [m for m in MIGRATIONS.rows(self._tx) if m.item_id in items]

    def list_unfinished_into(self, environment_id: int) -> Sequence[Migration]:
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if m.target_environment_id == environment_id and m.finished_at is None
        ]

    def finished_into(self, administration_id: int, environment_id: int) -> bool:
        return any(
            m.administration_id == administration_id
            and m.target_environment_id == environment_id
            and m.finished_at is not None
            for m in MIGRATIONS.rows(self._tx)
        )

    def record_claim(self, migration_id: int, *, lease_for: timedelta) -> None:
        migration = self._migration(migration_id)
        self._store(
            migration,
            attempts=migration.attempts + 1,
            lease_expires_at=self._tx.database.clock.now() + lease_for,
            failure_reason=None,
            failure_code=None,
            failure_params=(),
        )

    def record_progress(
        self,
        migration_id: int,
        *,
        documents_total: int,
        documents_done: int,
        bytes_total: int,
        bytes_done: int,
    ) -> None:
        self._store(
            self._migration(migration_id),
            documents_total=documents_total,
            documents_done=documents_done,
            bytes_total=bytes_total,
            bytes_done=bytes_done,
        )

    def record_failure(
        self,
        migration_id: int,
        reason: str,
        *,
        code: str | None = None,
        params: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._store(
            self._migration(migration_id),
            failure_reason=reason,
            failure_code=code,
            failure_params=() if code is None else tuple(params),
        )

    def record_finish(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), finished_at=at)

    def start_links_attempt(self, migration_id: int, *, attempts_seen: int) -> bool:
        migration = self._migration(migration_id)
        if migration.links_rewritten_at is not None or migration.links_attempts != attempts_seen:
            return False
        self._store(migration, links_attempts=attempts_seen + 1)
        return True

    def record_links_rewritten(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), links_rewritten_at=at)

    def record_source_released(self, migration_id: int, at: datetime) -> None:
        self._store(self._migration(migration_id), source_released_at=at)

    def list_after_finish(
        self, *, link_attempts: int, released_before: datetime
    ) -> Sequence[Migration]:
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if m.finished_at is not None
            and (
                (m.links_rewritten_at is None and m.links_attempts < link_attempts)
                or (m.source_released_at is None and m.finished_at < released_before)
            )
        ]

    def heartbeat(self, migration_id: int, *, lease_for: timedelta) -> bool:
        tx = self._tx
        migration = MIGRATIONS.get(tx, migration_id)
        if migration is None or self._status(migration) is not ItemStatus.PROCESSING:
            return False
        self._store(migration, lease_expires_at=tx.database.clock.now() + lease_for)
        return True

    def list_to_run(self) -> Sequence[Migration]:
        """Ordered by id; leases compared with the database's clock."""
        now = self._tx.database.clock.now()
        return [
            m
            for m in MIGRATIONS.rows(self._tx)
            if self._status(m) is ItemStatus.QUEUED
            or (
                self._status(m) is ItemStatus.PROCESSING
                and (m.lease_expires_at is None or m.lease_expires_at < now)
            )
        ]

    def _status(self, migration: Migration) -> ItemStatus:
        item: OfferItem = _existing(self._tx, ITEMS, migration.item_id, "unknown_item")
        return item.status

    def _migration(self, migration_id: int) -> Migration:
        migration: Migration = _existing(self._tx, MIGRATIONS, migration_id, "unknown_migration")
        return migration

    def _store(self, migration: Migration, **changes: Any) -> None:
        MIGRATIONS.put(self._tx, migration.id, attrs.evolve(migration, **changes))


class InMemoryChargeRepository(_Repository, ports.ChargeRepository):
    def add(self, charge: Charge) -> bool:
        tx = self._tx
        if CHARGES.get(tx, charge.migration_id) is not None:
            return False
        CHARGES.put(tx, charge.migration_id, charge)
        return True

    def list_for_environment(self, environment_id: int) -> Sequence[Charge]:
        """Ordered by migration id."""
        return [c for c in CHARGES.rows(self._tx) if c.environment_id == environment_id]
