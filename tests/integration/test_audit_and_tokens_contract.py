"""The contracts of ``ApiTokenRepository`` and ``AuditRepository`` on SQLite, PostgreSQL and
the in-memory fake (``uow_factory`` runs each test on all three), and the databases' own
refusal to change or remove an audit event (``engine``: SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from migrationkit.adapters.sqlalchemy import unit_of_work_factory
from migrationkit.domain.api_tokens import ApiToken
from migrationkit.domain.audit import AuditAction, AuditEvent, AuditOutcome, AuditRecord, Origin
from migrationkit.domain.model import Role, User
from migrationkit.ports import AuditSearchWord, UnitOfWork

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = b"integration-tests-secret-key-32-bytes!!"


@pytest.fixture
def uow(uow_factory: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
    with uow_factory() as uow:
        yield uow


@attrs.frozen
class People:
    noord: User
    boekhouder: User
    zuid: User


@pytest.fixture
def people(uow: UnitOfWork) -> People:
    noord = uow.environments.add("Noord", has_subscription=True, archive_store="local")
    zuid = uow.environments.add("Zuid", has_subscription=True, archive_store="local")
    return People(
        uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER),
        uow.users.add(noord.id, "boekhouder@noord.nl", "Boekhouder", Role.USER),
        uow.users.add(zuid.id, "baas@zuid.nl", "Baas Zuid", Role.SUPER_USER),
    )


def add_token(uow: UnitOfWork, user: User, name: str, digest: str, at: datetime = T0) -> ApiToken:
    return uow.api_tokens.add(user_id=user.id, name=name, digest=digest, shown="mkt_abcd", at=at)


# --- API tokens ------------------------------------------------------------------------------


def test_a_token_round_trips_and_is_found_by_its_digest_while_active(
    uow: UnitOfWork, people: People
) -> None:
    token = add_token(uow, people.noord, "CRM", "a" * 64)

    assert token == ApiToken(
        id=token.id, user_id=people.noord.id, name="CRM", shown="mkt_abcd", created_at=T0
    )
    assert uow.api_tokens.find_active("a" * 64) == token
    assert uow.api_tokens.find_active("b" * 64) is None

    assert uow.api_tokens.revoke(token.id, T0 + timedelta(hours=1)) is True
    assert uow.api_tokens.revoke(token.id, T0 + timedelta(hours=2)) is False
    assert uow.api_tokens.revoke(token.id + 100, T0) is False
    assert uow.api_tokens.find_active("a" * 64) is None
    (listed,) = uow.api_tokens.list_for_user(people.noord.id)
    assert listed.revoked_at == T0 + timedelta(hours=1)


def test_a_users_tokens_are_listed_newest_first_and_no_one_elses(
    uow: UnitOfWork, people: People
) -> None:
    old = add_token(uow, people.noord, "Oud", "1" * 64, T0)
    new = add_token(uow, people.noord, "Nieuw", "2" * 64, T0 + timedelta(days=1))
    same_moment = add_token(uow, people.noord, "Zelfde moment", "3" * 64, T0 + timedelta(days=1))
    add_token(uow, people.boekhouder, "Van een ander", "4" * 64)

    assert [t.id for t in uow.api_tokens.list_for_user(people.noord.id)] == [
        same_moment.id,
        new.id,
        old.id,
    ]
    assert uow.api_tokens.list_for_user(people.zuid.id) == []


def test_the_last_use_is_written_at_most_once_a_minute(uow: UnitOfWork, people: People) -> None:
    token = add_token(uow, people.noord, "CRM", "a" * 64)

    def last_used() -> datetime | None:
        return uow.api_tokens.list_for_user(people.noord.id)[0].last_used_at

    uow.api_tokens.mark_used(token.id, T0)
    assert last_used() == T0
    uow.api_tokens.mark_used(token.id, T0 + timedelta(seconds=59))
    assert last_used() == T0
    uow.api_tokens.mark_used(token.id, T0 + timedelta(seconds=60))
    assert last_used() == T0 + timedelta(seconds=60)
    uow.api_tokens.mark_used(token.id + 100, T0)  # an unknown token: nothing to write


# --- the audit trail -------------------------------------------------------------------------


def record(actor: User, **changes: object) -> AuditRecord:
    """A done offer by ``actor`` from the portal, changed as given."""
    return attrs.evolve(
        AuditRecord(
            action=AuditAction.OFFER,
            outcome=AuditOutcome.DONE,
            origin=Origin("portal", "192.0.2.1"),
            actor_user_id=actor.id,
            actor_email=actor.email,
            environment_id=actor.environment_id,
        ),
        **changes,
    )


def search(
    uow: UnitOfWork,
    actor: User,
    *words: str | AuditSearchWord,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    given = [AuditSearchWord(w) if isinstance(w, str) else w for w in words]
    return list(uow.audit.search(actor.environment_id, given, limit=limit, before_id=before_id))


def test_an_event_round_trips_with_every_field(uow: UnitOfWork, people: People) -> None:
    refused = record(
        people.noord,
        action=AuditAction.REDEEM,
        outcome=AuditOutcome.REFUSED,
        origin=Origin("api", "2001:db8::1"),
        subject_type="offer",
        subject_id=12,
        error_code="code_unknown",
        message_nl="Deze overdrachtscode is onbekend.",
        message_en="This transfer code is unknown.",
    )

    event = uow.audit.append(refused, T0)

    assert event == AuditEvent(event.id, T0, refused)
    assert search(uow, people.noord) == [event]


def test_many_events_are_appended_at_once_in_their_order(uow: UnitOfWork, people: People) -> None:
    records = [record(people.noord, subject_type="migration", subject_id=n) for n in (3, 1, 2)]

    uow.audit.append_many(records, T0)

    assert [e.record for e in search(uow, people.noord)] == records[::-1]


def test_events_come_newest_first_per_environment_in_pages(uow: UnitOfWork, people: People) -> None:
    noord = [uow.audit.append(record(people.noord), T0 + timedelta(minutes=n)) for n in range(5)]
    uow.audit.append(record(people.zuid), T0)
    uow.audit.append(record(people.noord, environment_id=None, actor_user_id=None), T0)

    assert search(uow, people.noord) == noord[::-1]
    assert search(uow, people.noord, limit=2) == [noord[4], noord[3]]
    assert search(uow, people.noord, limit=2, before_id=noord[3].id) == [noord[2], noord[1]]
    assert search(uow, people.noord, before_id=noord[0].id) == []
    assert [e.record.actor_email for e in search(uow, people.zuid)] == ["baas@zuid.nl"]


def test_each_word_is_found_in_any_text_column_ignoring_case(
    uow: UnitOfWork, people: People
) -> None:
    plain = uow.audit.append(record(people.boekhouder), T0)
    detailed = uow.audit.append(
        record(
            people.noord,
            outcome=AuditOutcome.REFUSED,
            origin=Origin("api", "203.0.113.9"),
            subject_type="offer_item",
            subject_id=4711,
            error_code="already_offered",
            message_nl="Administratie 0042 staat al in een openstaand migratieverzoek.",
            message_en="Administration 0042 is already in an open migration request.",
        ),
        T0,
    )

    for word in (
        "BAAS@Noord",
        "203.0.113",
        "API",
        "offer_item",
        "4711",
        "already_OFFERED",
        "openstaand",
        "open migration",
    ):
        assert search(uow, people.noord, *word.split()) == [detailed], word
    assert search(uow, people.noord, "boekhouder") == [plain]
    assert search(uow, people.noord, "portal") == [plain]
    assert search(uow, people.noord, "noord.nl") == [detailed, plain]
    assert search(uow, people.noord, "noord.nl", "api") == [detailed]
    assert search(uow, people.noord, "boekhouder", "api") == []


def test_a_word_also_finds_the_actions_and_outcomes_it_names(
    uow: UnitOfWork, people: People
) -> None:
    offered = uow.audit.append(record(people.noord), T0)
    relinked = uow.audit.append(record(people.noord, action=AuditAction.RELINK), T0)
    refused = uow.audit.append(
        record(people.noord, action=AuditAction.RELINK, outcome=AuditOutcome.REFUSED), T0
    )
    relink = AuditSearchWord("interne", actions=frozenset({AuditAction.RELINK}))
    refusals = AuditSearchWord("geweigerd", outcomes=frozenset({AuditOutcome.REFUSED}))

    assert search(uow, people.noord, relink) == [refused, relinked]
    assert search(uow, people.noord, refusals) == [refused]
    assert search(uow, people.noord, relink, refusals) == [refused]
    assert search(uow, people.noord, AuditSearchWord("interne")) == []
    assert offered not in search(uow, people.noord, relink)


def test_a_word_also_finds_the_object_kinds_and_channels_it_names(
    uow: UnitOfWork, people: People
) -> None:
    offer = uow.audit.append(record(people.noord, subject_type="offer", subject_id=7), T0)
    from_api = uow.audit.append(record(people.noord, origin=Origin("api", "192.0.2.9")), T0)
    requests = AuditSearchWord("migratieverzoek", subject_types=frozenset({"offer"}))
    portal = AuditSearchWord("portaal", channels=frozenset({"portal"}))

    assert search(uow, people.noord, requests) == [offer]
    assert search(uow, people.noord, portal) == [offer]
    assert search(uow, people.noord, AuditSearchWord("portaal")) == []
    assert from_api not in search(uow, people.noord, portal)


def test_the_search_takes_like_wildcards_and_backslashes_literally(
    uow: UnitOfWork, people: People
) -> None:
    percent = uow.audit.append(record(people.noord, message_nl="50% korting"), T0)
    uow.audit.append(record(people.noord, message_nl="500 korting"), T0)
    underscore = uow.audit.append(record(people.noord, error_code="code_unknown"), T0)
    uow.audit.append(record(people.noord, error_code="codexunknown"), T0)
    backslash = uow.audit.append(record(people.noord, message_nl="map C:\\archief"), T0)
    uow.audit.append(record(people.noord, message_nl="map C:archief"), T0)

    assert search(uow, people.noord, "50%") == [percent]
    assert search(uow, people.noord, "%") == [percent]
    assert search(uow, people.noord, "e_u") == [underscore]
    assert search(uow, people.noord, "_") == [underscore]
    assert search(uow, people.noord, "c:\\a") == [backslash]
    assert search(uow, people.noord, "\\") == [backslash]


# --- append-only, whoever asks ---------------------------------------------------------------


def appended(engine: Engine) -> AuditEvent:
    """One committed event."""
    with unit_of_work_factory(engine, SECRET)() as uow:
        user = User(1, 1, "baas@noord.nl", "Baas", Role.SUPER_USER)
        event = uow.audit.append(record(user, message_nl="origineel"), T0)
        uow.commit()
    return event


def stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT * FROM audit_events"))]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET message_nl = 'vervalst'",
        "UPDATE audit_events SET actor_email = NULL WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_event(engine: Engine, statement: str) -> None:
    event = appended(engine)
    before = stored(engine)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement), {"id": event.id})

    assert stored(engine) == before


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_trail(postgres_engine: Engine) -> None:
    appended(postgres_engine)
    before = stored(postgres_engine)

    try:
        with pytest.raises(DBAPIError, match="append-only"), postgres_engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
        assert stored(postgres_engine) == before
    finally:
        # As the other tests' fixtures empty the tables: with the owner's triggers set aside.
        with postgres_engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("DELETE FROM audit_events"))
