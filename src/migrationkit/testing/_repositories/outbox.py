"""The outbox of e-mails."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import attrs

from migrationkit import ports
from migrationkit.domain.model import Email
from migrationkit.ports import OutboxMessage
from migrationkit.testing._repositories._base import _Repository
from migrationkit.testing._repositories.tables import OUTBOX


def _oldest_first(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    return sorted(messages, key=lambda m: (m.created_at, m.id))


class InMemoryOutboxRepository(_Repository, ports.OutboxRepository):
    def add(self, email: Email, at: datetime) -> OutboxMessage:
        tx = self._tx
        message = OutboxMessage(id=tx.next_id(OUTBOX.name), email=email, created_at=at)
        OUTBOX.put(tx, message.id, message)
        return message

    def list_pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        return [m for m in _oldest_first(OUTBOX.rows(self._tx)) if m.sent_at is None][:limit]

    def claim_pending(
        self, limit: int, *, now: datetime, until: datetime
    ) -> Sequence[OutboxMessage]:
        """Holds the database's claim lock until the transaction ends, as SQLite's one
        writer would: a dispatcher claiming at the same moment waits, then sees this one's
        claims."""
        tx = self._tx
        tx.hold_claims()
        claimable = [
            message
            for message in _oldest_first(OUTBOX.rows(tx))
            if message.sent_at is None
            and (message.claimed_until is None or message.claimed_until <= now)
        ]
        claimed = [attrs.evolve(message, claimed_until=until) for message in claimable[:limit]]
        for message in claimed:
            OUTBOX.put(tx, message.id, message)
        return claimed

    def release(self, message_ids: Collection[int], *, until: datetime) -> None:
        tx = self._tx
        for message_id in message_ids:
            message = OUTBOX.get(tx, message_id)
            if message is not None and message.sent_at is None and message.claimed_until == until:
                OUTBOX.put(tx, message_id, attrs.evolve(message, claimed_until=None))

    def list_recent(self, limit: int = 100) -> Sequence[OutboxMessage]:
        return _oldest_first(OUTBOX.rows(self._tx))[::-1][:limit]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        tx = self._tx
        message = OUTBOX.get(tx, message_id)
        if message is None:
            raise KeyError(f"no outbox message {message_id}")
        OUTBOX.put(
            tx, message_id, attrs.evolve(message, sent_at=at, email=message.email.without_secret())
        )
