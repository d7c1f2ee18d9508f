"""The Migratieverslag's manifest rows, read from the copies a move across stores recorded
(each verified against the target store before Voltooid) and their documents."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _Repository
from migrationkit.adapters.sqlalchemy.tables import document_copies, documents
from migrationkit.domain.manifest import ManifestEntry
from migrationkit.domain.model import document_address


class SqlAlchemyManifestRepository(_Repository, ports.ManifestRepository):
    def copied_page(
        self, migration_id: int, *, after_document_id: int = 0, limit: int = 1000
    ) -> Sequence[ManifestEntry]:
        copy, document = document_copies.c, documents.c
        rows = self._connection.execute(
            select(
                copy.document_id,
                copy.source_store,
                copy.archive_store,
                copy.size,
                copy.sha256,
                document.filename,
                document.received_at,
            )
            .join(documents, document.id == copy.document_id)
            .where(copy.migration_id == migration_id, copy.document_id > after_document_id)
            .order_by(copy.document_id)
            .limit(limit)
        )
        return [
            ManifestEntry(
                document_id=row.document_id,
                old_address=document_address(row.source_store, row.document_id),
                new_address=document_address(row.archive_store, row.document_id),
                filename=row.filename,
                size=row.size,
                sha256=row.sha256,
                uploaded_at=row.received_at,
            )
            for row in rows
        ]
