"""Archive documents, the holds on their blobs, and the redirects from old addresses."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import attrs

from migrationkit import ports
from migrationkit.domain.model import Document, document_address
from migrationkit.ports import MAX_REDIRECTS, ArchiveTotals, DocumentCopy, DocumentRedirect
from migrationkit.testing._repositories._base import _existing, _Repository
from migrationkit.testing._repositories.tables import (
    ADMINISTRATIONS,
    BLOB_HOLDS,
    COPIES,
    DOCUMENTS,
    REDIRECTS,
)


class InMemoryDocumentRepository(_Repository, ports.DocumentRepository):
    def add(
        self,
        administration_id: int,
        *,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        archive_store: str,
        blob_key: str,
        received_at: datetime,
    ) -> Document:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        document = Document(
            id=tx.next_id(DOCUMENTS.name),
            administration_id=administration_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            archive_store=archive_store,
            blob_key=blob_key,
            received_at=received_at,
        )
        DOCUMENTS.put(tx, document.id, document)
        return document

    def get(self, document_id: int) -> Document | None:
        return DOCUMENTS.get(self._tx, document_id)

    def list_for_administration(self, administration_id: int) -> Sequence[Document]:
        return [d for d in DOCUMENTS.rows(self._tx) if d.administration_id == administration_id]

    def list_page(
        self, administration_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> Sequence[Document]:
        documents = self.list_for_administration(administration_id)
        return [d for d in documents if d.id > after_id][:limit]

    def totals(self, administration_id: int) -> ArchiveTotals:
        return _totals(self.list_for_administration(administration_id))

    def list_uncopied(
        self,
        administration_id: int,
        migration_id: int,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        limit: int = 1000,
    ) -> Sequence[Document]:
        tx = self._tx
        return [
            d
            for d in self.list_for_administration(administration_id)
            if d.id > after_id
            and (up_to_id is None or d.id <= up_to_id)
            and COPIES.get(tx, (migration_id, d.id)) is None
        ][:limit]

    def point_at_copies(self, administration_id: int, migration_id: int) -> int:
        tx = self._tx
        moved = 0
        for document in self.list_for_administration(administration_id):
            copy = COPIES.get(tx, (migration_id, document.id))
            if copy is not None:
                DOCUMENTS.put(
                    tx,
                    document.id,
                    attrs.evolve(
                        document, archive_store=copy.archive_store, blob_key=copy.blob_key
                    ),
                )
                moved += 1
        return moved

    def referenced_keys(self, archive_store: str, blob_keys: Collection[str]) -> set[str]:
        wanted = set(blob_keys)
        return {
            d.blob_key
            for d in DOCUMENTS.rows(self._tx)
            if d.archive_store == archive_store and d.blob_key in wanted
        }

    def hold_blobs(self, archive_store: str, blob_keys: Collection[str]) -> None:
        """Writes a row per blob: of two units of work that hold one, the later commit
        fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        for key in sorted(set(blob_keys)):
            BLOB_HOLDS.put(self._tx, (archive_store, key), True)


def _totals(rows: Sequence[Document] | Sequence[DocumentCopy]) -> ArchiveTotals:
    return ArchiveTotals(documents=len(rows), bytes=sum(row.size for row in rows))


class InMemoryDocumentRedirectRepository(_Repository, ports.DocumentRedirectRepository):
    def add_for_migration(self, migration_id: int, administration_id: int, at: datetime) -> int:
        tx = self._tx
        moved = []
        for document in DOCUMENTS.rows(tx):
            copy = COPIES.get(tx, (migration_id, document.id))
            if (
                document.administration_id == administration_id
                and copy is not None
                and copy.archive_store != document.archive_store
            ):
                moved.append(
                    DocumentRedirect(
                        old_address=document.address,
                        new_address=document_address(copy.archive_store, document.id),
                        document_id=document.id,
                        migration_id=migration_id,
                    )
                )
        # A document that comes back to a store it once left lives at its old address again.
        for redirect in moved:
            REDIRECTS.delete(tx, redirect.new_address)
        for redirect in moved:
            REDIRECTS.put(tx, redirect.old_address, redirect)
        return len(moved)

    def resolve(self, old_address: str) -> str | None:
        address = old_address
        for _ in range(MAX_REDIRECTS):
            redirect = REDIRECTS.get(self._tx, address)
            if redirect is None:
                break
            address = redirect.new_address
        return None if address == old_address else address

    def list_for_migration(self, migration_id: int) -> Sequence[DocumentRedirect]:
        """Ordered by document id."""
        return sorted(
            (r for r in REDIRECTS.rows(self._tx) if r.migration_id == migration_id),
            key=lambda r: r.document_id,
        )
