"""The outbox of e-mails, their secrets sealed at rest."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime

import attrs
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Connection, RowMapping, select, update

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _Repository
from migrationkit.adapters.sqlalchemy.tables import outbox
from migrationkit.domain.model import Email
from migrationkit.ports import OutboxMessage
from migrationkit.serialization import from_json, to_json

log = logging.getLogger(__name__)


#: The HKDF label of the key that seals the outbox's secrets (``adapters.sealing``).
OUTBOX_KEY_LABEL = b"migrationkit outbox secrets v1"


class SqlAlchemyOutboxRepository(_Repository, ports.OutboxRepository):
    """The outbox; an e-mail's secret (a transfer code) is sealed at rest with ``sealer``
    (the key of ``OUTBOX_KEY_LABEL``), so a dump of the database shows no code even before
    the e-mail is sent, and it is forgotten once sent (R5)."""

    def __init__(self, connection: Connection, sealer: Fernet) -> None:
        super().__init__(connection)
        self._sealer = sealer

    def add(self, email: Email, at: datetime) -> OutboxMessage:
        sealed = None if email.secret is None else self._sealer.encrypt(email.secret.encode())
        row = self._insert(
            outbox,
            email=to_json(email.without_secret()),
            sealed_secret=None if sealed is None else sealed.decode(),
            created_at=at,
        )
        return self._message(row)

    def list_pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        statement = (
            select(outbox)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        return [self._message(row) for row in self._all(statement)]

    def claim_pending(
        self, limit: int, *, now: datetime, until: datetime
    ) -> Sequence[OutboxMessage]:
        column = outbox.c
        # Rows another dispatcher is claiming right now are locked: skipped, not waited for.
        # (SQLite renders no FOR UPDATE: its units of work take the write lock when they open.)
        claimable = (
            select(column.id)
            .where(
                column.sent_at.is_(None),
                column.claimed_until.is_(None) | (column.claimed_until <= now),
            )
            .order_by(column.created_at, column.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = self._connection.execute(
            update(outbox)
            .where(column.id.in_(claimable.scalar_subquery()))
            .values(claimed_until=until)
            .returning(*outbox.c)
        ).mappings()
        messages = [self._message(row) for row in claimed]
        return sorted(messages, key=lambda message: (message.created_at, message.id))

    def release(self, message_ids: Collection[int], *, until: datetime) -> None:
        if not message_ids:
            return
        self._connection.execute(
            update(outbox)
            .where(
                outbox.c.id.in_(message_ids),
                outbox.c.sent_at.is_(None),
                outbox.c.claimed_until == until,
            )
            .values(claimed_until=None)
        )

    def list_recent(self, limit: int = 100) -> Sequence[OutboxMessage]:
        statement = (
            select(outbox).order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit)
        )
        return [self._message(row) for row in self._all(statement)]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        stored = self._connection.execute(
            select(outbox.c.email).where(outbox.c.id == message_id)
        ).scalar_one_or_none()
        if stored is None:
            return
        # A row from before the secret was sealed holds it in the JSON: dropped there too.
        forgotten = from_json(stored, Email).without_secret()
        self._connection.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(sent_at=at, email=to_json(forgotten), sealed_secret=None)
        )

    def _message(self, row: RowMapping) -> OutboxMessage:
        email = from_json(row["email"], Email)
        if row["sealed_secret"] is not None:
            email = attrs.evolve(email, secret=self._unseal(row["id"], row["sealed_secret"]))
        return OutboxMessage(
            id=row["id"],
            email=email,
            created_at=row["created_at"],
            sent_at=row["sent_at"],
            claimed_until=row["claimed_until"],
        )

    def _unseal(self, message_id: int, sealed: str) -> str | None:
        try:
            return self._sealer.decrypt(sealed.encode()).decode()
        except InvalidToken:
            # Sealed under another secret: the e-mail goes out saying the code is not kept.
            log.warning(
                "the secret of outbox message %s cannot be opened with this server's secret",
                message_id,
            )
            return None
