"""The fake of the Migratieverslag's manifest rows, over the in-memory copies."""

from __future__ import annotations

from collections.abc import Sequence

from migrationkit import ports
from migrationkit.domain.manifest import ManifestEntry
from migrationkit.domain.model import document_address
from migrationkit.testing._repositories._base import _Repository
from migrationkit.testing._repositories.tables import COPIES, DOCUMENTS


class InMemoryManifestRepository(_Repository, ports.ManifestRepository):
    def copied_page(
        self, migration_id: int, *, after_document_id: int = 0, limit: int = 1000
    ) -> Sequence[ManifestEntry]:
        tx = self._tx
        copies = [
            copy
            for (copied_in, _), copy in sorted(tx.read(COPIES.name).items())
            if copied_in == migration_id
        ]
        entries = []
        for copy in copies:
            if copy.document_id <= after_document_id:
                continue
            document = DOCUMENTS.get(tx, copy.document_id)
            assert document is not None  # a copy's document stays
            entries.append(
                ManifestEntry(
                    document_id=copy.document_id,
                    old_address=document_address(copy.source_store, copy.document_id),
                    new_address=document_address(copy.archive_store, copy.document_id),
                    filename=document.filename,
                    size=copy.size,
                    sha256=copy.sha256,
                    uploaded_at=document.received_at,
                )
            )
            if len(entries) == limit:
                break
        return entries
