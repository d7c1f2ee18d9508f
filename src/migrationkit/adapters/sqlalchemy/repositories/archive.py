"""Archive documents, the locks on their blobs, and the redirects from old addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    ScalarSelect,
    String,
    Table,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    update,
)

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _dialect_insert, _Repository
from migrationkit.adapters.sqlalchemy.tables import document_copies, document_redirects, documents
from migrationkit.domain.model import Document
from migrationkit.ports import MAX_REDIRECTS, ArchiveTotals, DocumentRedirect

T = TypeVar("T")


def document_from_row(row: RowMapping) -> Document:
    return Document(
        id=row["id"],
        administration_id=row["administration_id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        archive_store=row["archive_store"],
        blob_key=row["blob_key"],
        received_at=row["received_at"],
    )


def document_redirect_from_row(row: RowMapping) -> DocumentRedirect:
    return DocumentRedirect(
        old_address=row["old_address"],
        new_address=row["new_address"],
        document_id=row["document_id"],
        migration_id=row["migration_id"],
    )


class SqlAlchemyDocumentRepository(_Repository, ports.DocumentRepository):
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
        row = self._insert(
            documents,
            administration_id=administration_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            archive_store=archive_store,
            blob_key=blob_key,
            received_at=received_at,
        )
        return document_from_row(row)

    def get(self, document_id: int) -> Document | None:
        row = self._one(select(documents).where(documents.c.id == document_id))
        return None if row is None else document_from_row(row)

    def list_for_administration(self, administration_id: int) -> Sequence[Document]:
        statement = (
            select(documents)
            .where(documents.c.administration_id == administration_id)
            .order_by(documents.c.id)
        )
        return [document_from_row(row) for row in self._all(statement)]

    def list_page(
        self, administration_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> Sequence[Document]:
        return self._page(administration_id, after_id, limit)

    def totals(self, administration_id: int) -> ArchiveTotals:
        return _totals(
            self._connection, documents, documents.c.administration_id == administration_id
        )

    def list_uncopied(
        self,
        administration_id: int,
        migration_id: int,
        *,
        after_id: int = 0,
        up_to_id: int | None = None,
        limit: int = 1000,
    ) -> Sequence[Document]:
        # A page of the archive, then its recorded copies by a range of the copies' key: two
        # plain range scans, whatever the planner believes of tables filled a moment ago.
        up_to = () if up_to_id is None else (documents.c.id <= up_to_id,)
        uncopied: list[Document] = []
        while len(uncopied) < limit and (
            page := self._page(administration_id, after_id, limit, *up_to)
        ):
            copied = set(
                self._connection.execute(
                    select(document_copies.c.document_id).where(
                        document_copies.c.migration_id == migration_id,
                        document_copies.c.document_id.between(page[0].id, page[-1].id),
                    )
                ).scalars()
            )
            uncopied.extend(document for document in page if document.id not in copied)
            after_id = page[-1].id
        return uncopied[:limit]

    def point_at_copies(self, administration_id: int, migration_id: int) -> int:
        result = self._connection.execute(
            update(documents)
            .where(
                documents.c.administration_id == administration_id,
                _copy_of_document(migration_id, document_copies.c.document_id).is_not(None),
            )
            .values(
                archive_store=_copy_of_document(migration_id, document_copies.c.archive_store),
                blob_key=_copy_of_document(migration_id, document_copies.c.blob_key),
            )
        )
        return result.rowcount

    def referenced_keys(self, archive_store: str, blob_keys: Collection[str]) -> set[str]:
        statement = (
            select(documents.c.blob_key)
            .where(documents.c.archive_store == archive_store, documents.c.blob_key.in_(blob_keys))
            .distinct()
        )
        return set(self._connection.execute(statement).scalars())

    def hold_blobs(self, archive_store: str, blob_keys: Collection[str]) -> None:
        # SQLite: the unit of work took the one write lock when it began (BEGIN IMMEDIATE).
        if self._connection.dialect.name != "postgresql" or not blob_keys:
            return
        holds = sorted({_blob_hold(archive_store, key) for key in blob_keys})
        self._connection.execute(_HOLD_BLOBS, {"space": BLOB_HOLDS, "holds": holds})

    def _page(
        self, administration_id: int, after_id: int, limit: int, *where: ColumnElement[bool]
    ) -> Sequence[Document]:
        statement = (
            select(documents)
            .where(
                documents.c.administration_id == administration_id,
                documents.c.id > after_id,
                *where,
            )
            .order_by(documents.c.id)
            .limit(limit)
        )
        return [document_from_row(row) for row in self._all(statement)]


#: The first key of the advisory locks of ``hold_blobs``, apart from any other use of them.
BLOB_HOLDS = 0x6D6B_0B10


#: Takes the advisory locks in the order of their keys (PostgreSQL evaluates a volatile
#: function of the select list after the sort), so two releases never wait on each other.
_HOLD_BLOBS = text(
    "SELECT pg_advisory_xact_lock(:space, hold)"
    " FROM unnest(CAST(:holds AS integer[])) AS hold ORDER BY hold"
)


def _blob_hold(archive_store: str, blob_key: str) -> int:
    """A blob's advisory lock key: 32 bits of a hash of its store and key (blobs that share
    one take turns, which does no harm)."""
    digest = hashlib.sha256(f"{archive_store}\0{blob_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _copy_of_document(
    migration_id: int, column: ColumnElement[T], *where: ColumnElement[bool]
) -> ScalarSelect[T]:
    """``column`` of the current document's copy in the migration, or NULL.

    The engine's queries pair documents with their copies this way, never with a join: a
    correlated scalar subquery is run per document as one probe of the copies' primary key,
    so its cost grows with the archive whatever the planner believes of the tables. (A join
    planned on the statistics of a table just filled, before PostgreSQL analysed it, can
    compare every document with every copy.)"""
    return (
        select(column)
        .where(
            document_copies.c.migration_id == migration_id,
            document_copies.c.document_id == documents.c.id,
            *where,
        )
        .scalar_subquery()
    )


def _totals(connection: Connection, table: Table, where: ColumnElement[bool]) -> ArchiveTotals:
    """How many rows of ``table`` match and the sum of their ``size``, in one query."""
    count, size = connection.execute(
        select(func.count(), func.coalesce(func.sum(table.c.size), 0)).where(where)
    ).one()
    return ArchiveTotals(documents=count, bytes=int(size))


def _address(store: ColumnElement[str], document_id: ColumnElement[int]) -> ColumnElement[str]:
    """``document_address`` in SQL: ``<store>/<id>``."""
    return store + "/" + cast(document_id, String)


class SqlAlchemyDocumentRedirectRepository(_Repository, ports.DocumentRedirectRepository):
    def add_for_migration(self, migration_id: int, administration_id: int, at: datetime) -> int:
        copy_store = _copy_of_document(migration_id, document_copies.c.archive_store)
        moved = select(
            _address(documents.c.archive_store, documents.c.id).label("old_address"),
            _address(copy_store, documents.c.id).label("new_address"),
            documents.c.id.label("document_id"),
            literal(migration_id).label("migration_id"),
            literal(at, document_redirects.c.created_at.type).label("created_at"),
        ).where(
            documents.c.administration_id == administration_id,
            copy_store.is_not(None),
            copy_store != documents.c.archive_store,
        )
        # A document that comes back to a store it once left lives at its old address again.
        live_again = select(moved.subquery().c.new_address)
        self._connection.execute(
            delete(document_redirects).where(document_redirects.c.old_address.in_(live_again))
        )
        statement = _dialect_insert(self._connection, document_redirects).from_select(
            ["old_address", "new_address", "document_id", "migration_id", "created_at"], moved
        )
        excluded = statement.excluded
        # Counted by the database, not by returning a row per redirect: the finish of a big
        # archive would hold them all in the worker's memory.
        written = self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[document_redirects.c.old_address],
                set_={
                    "new_address": excluded.new_address,
                    "document_id": excluded.document_id,
                    "migration_id": excluded.migration_id,
                    "created_at": excluded.created_at,
                },
            ),
            execution_options={"preserve_rowcount": True},
        )
        return written.rowcount

    def resolve(self, old_address: str) -> str | None:
        address = old_address
        for _ in range(MAX_REDIRECTS):
            new_address = self._connection.execute(
                select(document_redirects.c.new_address).where(
                    document_redirects.c.old_address == address
                )
            ).scalar_one_or_none()
            if new_address is None:
                break
            address = new_address
        return None if address == old_address else address

    def list_for_migration(self, migration_id: int) -> Sequence[DocumentRedirect]:
        statement = (
            select(document_redirects)
            .where(document_redirects.c.migration_id == migration_id)
            .order_by(document_redirects.c.document_id)
        )
        return [document_redirect_from_row(row) for row in self._all(statement)]
