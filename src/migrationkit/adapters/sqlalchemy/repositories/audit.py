"""The audit log and its search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, RowMapping, String, cast, func, insert, or_, select

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _escape_like, _Repository
from migrationkit.adapters.sqlalchemy.tables import audit_events
from migrationkit.domain.audit import AuditAction, AuditEvent, AuditOutcome, AuditRecord, Origin
from migrationkit.ports import AuditSearchWord


def audit_event_from_row(row: RowMapping) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        record=AuditRecord(
            action=AuditAction(row["action"]),
            outcome=AuditOutcome(row["outcome"]),
            origin=Origin(channel=row["channel"], address=row["address"]),
            actor_user_id=row["actor_user_id"],
            actor_email=row["actor_email"],
            environment_id=row["environment_id"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            error_code=row["error_code"],
            message_nl=row["message_nl"],
            message_en=row["message_en"],
        ),
    )


class SqlAlchemyAuditRepository(_Repository, ports.AuditRepository):
    def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        return audit_event_from_row(self._insert(audit_events, **_row(record, at)))

    def append_many(self, records: Sequence[AuditRecord], at: datetime) -> None:
        if records:
            self._connection.execute(insert(audit_events), [_row(r, at) for r in records])

    def search(
        self,
        environment_id: int,
        words: Sequence[AuditSearchWord],
        *,
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[AuditEvent]:
        column = audit_events.c
        statement = select(audit_events).where(column.environment_id == environment_id)
        if before_id is not None:
            statement = statement.where(column.id < before_id)
        texts = (
            column.actor_email,
            column.address,
            column.channel,
            column.subject_type,
            cast(column.subject_id, String),
            column.error_code,
            column.message_nl,
            column.message_en,
        )
        for word in words:
            pattern = "%" + _escape_like(word.text.lower()) + "%"
            alternatives: list[ColumnElement[bool]] = [
                func.lower(text_column).like(pattern, escape="\\") for text_column in texts
            ]
            if word.actions:
                alternatives.append(column.action.in_([a.value for a in word.actions]))
            if word.outcomes:
                alternatives.append(column.outcome.in_([o.value for o in word.outcomes]))
            if word.subject_types:
                alternatives.append(column.subject_type.in_(sorted(word.subject_types)))
            if word.channels:
                alternatives.append(column.channel.in_(sorted(word.channels)))
            statement = statement.where(or_(*alternatives))
        statement = statement.order_by(column.id.desc()).limit(limit)
        return [audit_event_from_row(row) for row in self._all(statement)]


def _row(record: AuditRecord, at: datetime) -> dict[str, object]:
    return {
        "at": at,
        "action": record.action.value,
        "outcome": record.outcome.value,
        "channel": record.origin.channel,
        "address": record.origin.address,
        "actor_user_id": record.actor_user_id,
        "actor_email": record.actor_email,
        "environment_id": record.environment_id,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "error_code": record.error_code,
        "message_nl": record.message_nl,
        "message_en": record.message_en,
    }
