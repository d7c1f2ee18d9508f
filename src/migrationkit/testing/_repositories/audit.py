"""The audit log and its search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from migrationkit import ports
from migrationkit.domain.audit import AuditEvent, AuditRecord
from migrationkit.ports import AuditSearchWord
from migrationkit.testing._repositories._base import _Repository
from migrationkit.testing._repositories.tables import AUDIT_EVENTS


def _matches_word(event: AuditEvent, word: AuditSearchWord) -> bool:
    """As the database's search: the word in any of the event's texts, ignoring case, or
    the event's action, outcome, object kind or channel among those the word names."""
    record = event.record
    texts = (
        record.actor_email,
        record.origin.address,
        record.origin.channel,
        record.subject_type,
        None if record.subject_id is None else str(record.subject_id),
        record.error_code,
        record.message_nl,
        record.message_en,
    )
    needle = word.text.lower()
    return (
        any(text is not None and needle in text.lower() for text in texts)
        or record.action in word.actions
        or record.outcome in word.outcomes
        or record.subject_type in word.subject_types
        or record.origin.channel in word.channels
    )


class InMemoryAuditRepository(_Repository, ports.AuditRepository):
    """Append-only: it has no way to change or remove an event."""

    def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        tx = self._tx
        event = AuditEvent(id=tx.next_id(AUDIT_EVENTS.name), at=at, record=record)
        AUDIT_EVENTS.put(tx, event.id, event)
        return event

    def append_many(self, records: Sequence[AuditRecord], at: datetime) -> None:
        for record in records:
            self.append(record, at)

    def search(
        self,
        environment_id: int,
        words: Sequence[AuditSearchWord],
        *,
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[AuditEvent]:
        found = [
            event
            for event in AUDIT_EVENTS.rows(self._tx)
            if event.record.environment_id == environment_id
            and (before_id is None or event.id < before_id)
            and all(_matches_word(event, word) for word in words)
        ]
        return sorted(found, key=lambda event: event.id, reverse=True)[:limit]
