"""The SQL outbox seals an e-mail's secret (a transfer code) at rest (R5), on SQLite and on
PostgreSQL: no row holds the code in plain text, not even before the e-mail is sent; the
dispatcher still reads it; a sent e-mail forgets it; a secret sealed under another server
secret is as good as none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import Engine, insert, select

from migrationkit.adapters.connectors.tokens import KEY_LABEL as TOKENS_LABEL
from migrationkit.adapters.sealing import sealing_key
from migrationkit.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from migrationkit.adapters.sqlalchemy.repositories import OUTBOX_KEY_LABEL
from migrationkit.adapters.sqlalchemy.tables import outbox
from migrationkit.domain.model import CODE_NOT_KEPT, CODE_PLACEHOLDER, Email
from migrationkit.serialization import to_json

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = b"outbox-sealing-tests-server-secret-0123456789"
CODE = "7KQ2-M9XD-4HRT-BN3W-PZ8C-J6VA"
#: Every spelling of the code that someone could look for in a dump.
SPELLINGS = (CODE, CODE.replace("-", ""), CODE.lower(), CODE.replace("-", "").lower())


def code_email() -> Email:
    return Email(
        to=("zuid@example.nl",),
        subject="Migratieverzoek van Kantoor Noord",
        body=f"De overdrachtscode is {CODE_PLACEHOLDER}.",
        kind="offer_code",
        cc=("noord@example.nl",),
        secret=CODE,
    )


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(outbox)).mappings()]


def holds_code(row: dict[str, Any]) -> bool:
    return any(spelling in repr(row) for spelling in SPELLINGS)


def test_an_unsent_code_is_sealed_in_its_row_and_read_back_by_the_dispatcher(
    engine: Engine,
) -> None:
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        added = uow.outbox.add(code_email(), T0)
        uow.commit()

    [row] = rows(engine)
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        [pending] = uow.outbox.list_pending()
        [recent] = uow.outbox.list_recent()
        [claimed] = uow.outbox.claim_pending(5, now=T0, until=T0 + timedelta(minutes=10))
        uow.commit()

    assert not holds_code(row)
    assert row["sealed_secret"]
    assert added.email == code_email()
    assert pending.email == recent.email == claimed.email == code_email()
    assert claimed.email.text() == f"De overdrachtscode is {CODE}."


def test_the_seal_is_a_fernet_token_under_the_outboxs_own_key(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        uow.outbox.add(code_email(), T0)
        uow.commit()

    sealed = rows(engine)[0]["sealed_secret"].encode()

    assert sealing_key(SECRET, OUTBOX_KEY_LABEL).decrypt(sealed) == CODE.encode()
    # The connector tokens' key, from the same server secret, does not open it.
    with pytest.raises(InvalidToken):
        sealing_key(SECRET, TOKENS_LABEL).decrypt(sealed)


def test_a_sent_email_forgets_its_sealed_secret(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        message = uow.outbox.add(code_email(), T0)
        uow.outbox.mark_sent(message.id, T0 + timedelta(minutes=1))
        uow.commit()

    [row] = rows(engine)
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        [sent] = uow.outbox.list_recent()

    assert row["sealed_secret"] is None
    assert not holds_code(row)
    assert sent.email == code_email().without_secret()
    assert sent.email.text() == f"De overdrachtscode is {CODE_NOT_KEPT}."


def test_an_email_without_a_secret_has_no_seal(engine: Engine) -> None:
    plain = attrs.evolve(code_email(), body="Je migratie is gestart.", secret=None)
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        uow.outbox.add(plain, T0)
        uow.commit()

    [row] = rows(engine)
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        [pending] = uow.outbox.list_pending()

    assert row["sealed_secret"] is None
    assert pending.email == plain


def test_a_secret_sealed_under_another_server_secret_reads_as_not_kept(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        uow.outbox.add(code_email(), T0)
        uow.commit()

    with SqlAlchemyUnitOfWork(engine, b"another-server-secret-of-enough-bytes-0123") as uow:
        [pending] = uow.outbox.list_pending()

    assert pending.email.secret is None
    assert pending.email.text() == f"De overdrachtscode is {CODE_NOT_KEPT}."


def test_a_row_from_before_the_seal_is_still_read_and_forgets_its_code_when_sent(
    engine: Engine,
) -> None:
    """Revision 0006 has no key to seal the codes of e-mails that were waiting already: such
    a row keeps its code in the JSON until it is sent, as before."""
    with engine.begin() as connection:
        message_id = connection.execute(
            insert(outbox).values(email=to_json(code_email()), created_at=T0).returning(outbox.c.id)
        ).scalar_one()

    with SqlAlchemyUnitOfWork(engine, SECRET) as uow:
        [pending] = uow.outbox.list_pending()
        uow.outbox.mark_sent(message_id, T0 + timedelta(minutes=1))
        uow.commit()

    assert pending.email == code_email()
    assert not any(holds_code(row) for row in rows(engine))
