"""Migrations, the document copies they make and the charge of each."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Executable,
    RowMapping,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import (
    _dialect_insert,
    _Repository,
    _violates,
)
from migrationkit.adapters.sqlalchemy.repositories.archive import _copy_of_document, _totals
from migrationkit.adapters.sqlalchemy.tables import (
    charges,
    document_copies,
    documents,
    migration_code_name,
    migration_item_once,
    migration_package_link,
    migrations,
    offer_items,
)
from migrationkit.domain.errors import Conflict
from migrationkit.domain.model import Charge, ItemStatus, Migration, MigrationTarget, OfferItem
from migrationkit.ports import ArchiveTotals, DocumentCopy
from migrationkit.serialization import from_json, to_json


def document_copy_from_row(row: RowMapping) -> DocumentCopy:
    return DocumentCopy(
        document_id=row["document_id"],
        archive_store=row["archive_store"],
        blob_key=row["blob_key"],
        sha256=row["sha256"],
        size=row["size"],
        source_store=row["source_store"],
        source_key=row["source_key"],
    )


def migration_from_row(row: RowMapping) -> Migration:
    return Migration(
        id=row["id"],
        item_id=row["item_id"],
        administration_id=row["administration_id"],
        target_environment_id=row["target_environment_id"],
        target=MigrationTarget(
            connection_id=row["target_connection_id"],
            package_admin_id=row["target_package_admin_id"],
            code=row["target_code"],
            name=row["target_name"],
        ),
        failure_reason=row["failure_reason"],
        failure_code=row["failure_code"],
        failure_params=_params_from_json(row["failure_params"]),
        attempts=row["attempts"],
        documents_total=row["documents_total"],
        documents_done=row["documents_done"],
        bytes_total=row["bytes_total"],
        bytes_done=row["bytes_done"],
        lease_expires_at=row["lease_expires_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        links_rewritten_at=row["links_rewritten_at"],
        links_attempts=row["links_attempts"],
        source_released_at=row["source_released_at"],
    )


def _params_from_json(text: str | None) -> tuple[tuple[str, str], ...]:
    return () if text is None else tuple(from_json(text, dict[str, str]).items())


def charge_from_row(row: RowMapping) -> Charge:
    return Charge(
        migration_id=row["migration_id"],
        environment_id=row["environment_id"],
        administration_id=row["administration_id"],
        charged_at=row["charged_at"],
    )


#: The columns of a ``DocumentCopy`` row that come from the copy itself.
_COPY_COLUMNS = (
    "document_id",
    "archive_store",
    "blob_key",
    "sha256",
    "size",
    "source_store",
    "source_key",
)


def _copies_from_arrays(
    migration_id: int, copies: Sequence[DocumentCopy], at: datetime
) -> Executable:
    """PostgreSQL's insert of the copies that are new, from one array per column."""
    arrays = [
        bindparam(
            f"{column}s",
            [getattr(copy, column) for copy in copies],
            type_=postgresql.ARRAY(document_copies.c[column].type),
        )
        for column in _COPY_COLUMNS
    ]
    rows = func.unnest(*arrays).table_valued(*_COPY_COLUMNS).render_derived()
    values = select(
        literal(migration_id, document_copies.c.migration_id.type),
        literal(at, document_copies.c.copied_at.type),
        *(rows.c[column] for column in _COPY_COLUMNS),
    )
    return (
        postgresql.insert(document_copies)
        .from_select(["migration_id", "copied_at", *_COPY_COLUMNS], values)
        .on_conflict_do_nothing(
            index_elements=[document_copies.c.migration_id, document_copies.c.document_id]
        )
    )


class SqlAlchemyDocumentCopyRepository(_Repository, ports.DocumentCopyRepository):
    def add_many(self, migration_id: int, copies: Sequence[DocumentCopy], at: datetime) -> int:
        """No RETURNING of a row per copy: the count of new rows is the statement's row
        count. On PostgreSQL one ``INSERT ... SELECT FROM unnest(arrays)``, a parameter per
        column, not per value (psycopg parses a statement of thousands of parameters in
        Python); on SQLite one statement run for each copy."""
        if not copies:
            return 0
        counted = {"preserve_rowcount": True}
        if self._connection.dialect.name == "postgresql":
            statement = _copies_from_arrays(migration_id, copies, at)
            return self._connection.execute(statement, execution_options=counted).rowcount
        statement = _dialect_insert(self._connection, document_copies).on_conflict_do_nothing(
            index_elements=[document_copies.c.migration_id, document_copies.c.document_id]
        )
        rows = [
            {"migration_id": migration_id, "copied_at": at}
            | {column: getattr(copy, column) for column in _COPY_COLUMNS}
            for copy in copies
        ]
        return self._connection.execute(statement, rows, execution_options=counted).rowcount

    def totals(self, migration_id: int) -> ArchiveTotals:
        return _totals(
            self._connection, document_copies, document_copies.c.migration_id == migration_id
        )

    def list_page(
        self,
        migration_id: int,
        *,
        after_document_id: int = 0,
        limit: int = 1000,
        unverified: bool = False,
    ) -> Sequence[DocumentCopy]:
        copy = document_copies.c
        statement = (
            select(document_copies)
            .where(
                copy.migration_id == migration_id,
                copy.document_id > after_document_id,
                *([copy.verified.is_(False)] if unverified else []),
            )
            .order_by(copy.document_id)
            .limit(limit)
        )
        return [document_copy_from_row(row) for row in self._all(statement)]

    def record_verified(self, migration_id: int, document_ids: Collection[int]) -> None:
        if document_ids:
            self._connection.execute(
                update(document_copies)
                .where(*self._of(migration_id, document_ids))
                .values(verified=True)
            )

    def forget(self, migration_id: int, document_ids: Collection[int]) -> int:
        if not document_ids:
            return 0
        counted = {"preserve_rowcount": True}
        statement = delete(document_copies).where(*self._of(migration_id, document_ids))
        return self._connection.execute(statement, execution_options=counted).rowcount

    def _of(self, migration_id: int, document_ids: Collection[int]) -> list[ColumnElement[bool]]:
        """The copies of these documents: on PostgreSQL ``= ANY`` of one array parameter (a
        page of thousands of ids is no statement of thousands of parameters)."""
        copy = document_copies.c
        ids = sorted(document_ids)
        if self._connection.dialect.name == "postgresql":
            array = bindparam("document_ids", ids, type_=postgresql.ARRAY(copy.document_id.type))
            return [copy.migration_id == migration_id, copy.document_id == any_(array)]
        return [copy.migration_id == migration_id, copy.document_id.in_(ids)]

    def list_mismatched(self, migration_id: int, administration_id: int) -> Sequence[int]:
        copy = document_copies.c
        matching = _copy_of_document(
            migration_id,
            copy.document_id,
            copy.size == documents.c.size,
            copy.sha256 == documents.c.sha256,
        )
        statement = (
            select(documents.c.id)
            .where(documents.c.administration_id == administration_id, matching.is_(None))
            .order_by(documents.c.id)
        )
        return list(self._connection.execute(statement).scalars())


class SqlAlchemyMigrationRepository(_Repository, ports.MigrationRepository):
    def add(
        self,
        item: OfferItem,
        *,
        target_environment_id: int,
        target: MigrationTarget,
        at: datetime,
    ) -> Migration:
        """Also raises ``Conflict("item_started")`` when the item has a migration already."""
        statement = (
            insert(migrations)
            .values(_new_migration(item, target_environment_id, target, at))
            .returning(*migrations.c)
        )
        try:
            rows = self._guarded(
                statement,
                environment_id=target_environment_id,
                code=target.code,
                name=target.name,
                code_name=migration_code_name,
                package_link=migration_package_link,
            )
        except IntegrityError as error:
            if not _violates(error, migration_item_once):
                raise
            raise self._started(item) from error
        return migration_from_row(rows[0])

    def add_many(
        self,
        starts: Sequence[tuple[OfferItem, MigrationTarget]],
        *,
        target_environment_id: int,
        at: datetime,
    ) -> Sequence[Migration]:
        if not starts:
            return []
        try:
            with self._connection.begin_nested():
                rows = (
                    self._connection.execute(
                        insert(migrations).returning(*migrations.c),
                        [
                            _new_migration(item, target_environment_id, target, at)
                            for item, target in starts
                        ],
                    )
                    .mappings()
                    .all()
                )
        except IntegrityError:
            # Refused as a whole: one at a time, so that the refusal names its migration.
            return [
                self.add(item, target_environment_id=target_environment_id, target=target, at=at)
                for item, target in starts
            ]
        by_item = {row["item_id"]: migration_from_row(row) for row in rows}
        return [by_item[item.id] for item, _target in starts]

    def get(self, migration_id: int) -> Migration | None:
        return self._first(migrations.c.id == migration_id)

    def get_for_item(self, item_id: int) -> Migration | None:
        return self._first(migrations.c.item_id == item_id)

    def list_for_items(self, item_ids: Collection[int]) -> Sequence[Migration]:
        statement = select(migrations).where(migrations.c.item_id.in_(list(item_ids)))
        return [migration_from_row(row) for row in self._all(statement)]

    def list_for_offer(self, offer_id: int) -> Sequence[Migration]:
        statement = (
            select(migrations)
            .join(offer_items, offer_items.c.id == migrations.c.item_id)
            .where(offer_items.c.offer_id == offer_id)
            .order_by(migrations.c.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def list_unfinished_into(self, environment_id: int) -> Sequence[Migration]:
        statement = (
            select(migrations)
            .where(
                migrations.c.target_environment_id == environment_id,
                migrations.c.finished_at.is_(None),
            )
            .order_by(migrations.c.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def finished_into(self, administration_id: int, environment_id: int) -> bool:
        statement = (
            select(migrations.c.id)
            .where(
                migrations.c.administration_id == administration_id,
                migrations.c.target_environment_id == environment_id,
                migrations.c.finished_at.is_not(None),
            )
            .limit(1)
        )
        return self._one(statement) is not None

    def record_claim(self, migration_id: int, *, lease_for: timedelta) -> None:
        self._update(
            migration_id,
            attempts=migrations.c.attempts + 1,
            lease_expires_at=self._database_time(lease_for),
            failure_reason=None,
            failure_code=None,
            failure_params=None,
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
        self._update(
            migration_id,
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
        self._update(
            migration_id,
            failure_reason=reason,
            failure_code=code,
            failure_params=None if code is None else to_json(dict(params)),
        )

    def record_finish(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, finished_at=at)

    def start_links_attempt(self, migration_id: int, *, attempts_seen: int) -> bool:
        result = self._connection.execute(
            update(migrations)
            .where(
                migrations.c.id == migration_id,
                migrations.c.links_rewritten_at.is_(None),
                migrations.c.links_attempts == attempts_seen,
            )
            .values(links_attempts=attempts_seen + 1)
        )
        return result.rowcount == 1

    def record_links_rewritten(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, links_rewritten_at=at)

    def record_source_released(self, migration_id: int, at: datetime) -> None:
        self._update(migration_id, source_released_at=at)

    def list_after_finish(
        self, *, link_attempts: int, released_before: datetime
    ) -> Sequence[Migration]:
        column = migrations.c
        statement = (
            select(migrations)
            .where(
                column.finished_at.is_not(None),
                or_(
                    column.links_rewritten_at.is_(None) & (column.links_attempts < link_attempts),
                    column.source_released_at.is_(None) & (column.finished_at < released_before),
                ),
            )
            .order_by(column.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def heartbeat(self, migration_id: int, *, lease_for: timedelta) -> bool:
        processing = exists().where(
            offer_items.c.id == migrations.c.item_id,
            offer_items.c.status == ItemStatus.PROCESSING.value,
        )
        result = self._connection.execute(
            update(migrations)
            .where(migrations.c.id == migration_id, processing)
            .values(lease_expires_at=self._database_time(lease_for))
        )
        return result.rowcount == 1

    def list_to_run(self) -> Sequence[Migration]:
        status = offer_items.c.status
        lease = migrations.c.lease_expires_at
        statement = (
            select(migrations)
            .join(offer_items, offer_items.c.id == migrations.c.item_id)
            .where(
                or_(
                    status == ItemStatus.QUEUED.value,
                    (status == ItemStatus.PROCESSING.value)
                    & (lease.is_(None) | (lease < self._database_time())),
                )
            )
            .order_by(migrations.c.id)
        )
        return [migration_from_row(row) for row in self._all(statement)]

    def _started(self, item: OfferItem) -> Conflict:
        """The refusal of a second migration of one item, with the item's status now."""
        status = self._connection.execute(
            select(offer_items.c.status).where(offer_items.c.id == item.id)
        ).scalar_one()
        return Conflict("item_started", code=item.code, name=item.name, status=ItemStatus(status))

    def _first(self, where: ColumnElement[bool]) -> Migration | None:
        row = self._one(select(migrations).where(where))
        return None if row is None else migration_from_row(row)

    def _update(self, migration_id: int, **values: object) -> None:
        self._connection.execute(
            update(migrations).where(migrations.c.id == migration_id).values(**values)
        )


class SqlAlchemyChargeRepository(_Repository, ports.ChargeRepository):
    def add(self, charge: Charge) -> bool:
        statement = _dialect_insert(self._connection, charges).values(
            migration_id=charge.migration_id,
            environment_id=charge.environment_id,
            administration_id=charge.administration_id,
            charged_at=charge.charged_at,
        )
        # R15: a second charge for the same migration is not an error, just not new.
        inserted = self._connection.execute(
            statement.on_conflict_do_nothing(index_elements=[charges.c.migration_id]).returning(
                charges.c.id
            )
        ).first()
        return inserted is not None

    def list_for_environment(self, environment_id: int) -> Sequence[Charge]:
        statement = (
            select(charges)
            .where(charges.c.environment_id == environment_id)
            .order_by(charges.c.migration_id)
        )
        return [charge_from_row(row) for row in self._all(statement)]


def _new_migration(
    item: OfferItem, target_environment_id: int, target: MigrationTarget, at: datetime
) -> dict[str, object]:
    """The row of a new migration of ``item``, In de wachtrij with nothing done."""
    return {
        "item_id": item.id,
        "administration_id": item.administration_id,
        "target_environment_id": target_environment_id,
        "target_connection_id": target.connection_id,
        "target_package_admin_id": target.package_admin_id,
        "target_code": target.code,
        "target_name": target.name,
        "attempts": 0,
        "documents_total": 0,
        "documents_done": 0,
        "bytes_total": 0,
        "bytes_done": 0,
        "started_at": at,
        "links_attempts": 0,
    }
