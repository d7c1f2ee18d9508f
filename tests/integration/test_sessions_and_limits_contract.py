"""The contracts of ``SessionRepository``, ``SignInFailureRepository``,
``RateLimitRepository`` and the row locks of users and environments, on SQLite, PostgreSQL
and the in-memory fake (``uow_factory`` runs each test on all three); and the databases
removing a removed user's sessions (``engine``: SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from sqlalchemy import Engine, delete

from migrationkit.adapters.sqlalchemy import unit_of_work_factory
from migrationkit.adapters.sqlalchemy.tables import users
from migrationkit.domain.model import Role, User
from migrationkit.domain.sessions import UserSession
from migrationkit.ports import UnitOfWork

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def uow(uow_factory: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
    with uow_factory() as uow:
        yield uow


@attrs.frozen
class People:
    noord: User
    zuid: User


@pytest.fixture
def people(uow: UnitOfWork) -> People:
    noord = uow.environments.add("Noord", has_subscription=True, archive_store="local")
    zuid = uow.environments.add("Zuid", has_subscription=True, archive_store="local")
    return People(
        uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER, "oud"),
        uow.users.add(zuid.id, "baas@zuid.nl", "Baas Zuid", Role.SUPER_USER),
    )


def test_a_session_round_trips_and_is_found_by_its_digest(uow: UnitOfWork, people: People) -> None:
    session = uow.sessions.add(
        user_id=people.noord.id, digest="a" * 64, user_agent="Firefox", at=T0
    )

    assert session == UserSession(session.id, people.noord.id, T0, T0, "Firefox")
    assert uow.sessions.find("a" * 64) == session
    assert uow.sessions.find("b" * 64) is None
    uow.sessions.touch(session.id, T0 + MINUTE)
    assert uow.sessions.find("a" * 64) == attrs.evolve(session, last_seen_at=T0 + MINUTE)


def test_sessions_end_one_all_but_one_or_when_over(uow: UnitOfWork, people: People) -> None:
    def add(user: User, digest: str, at: datetime) -> UserSession:
        return uow.sessions.add(user_id=user.id, digest=digest * 64, user_agent="", at=at)

    first = add(people.noord, "1", T0)
    second = add(people.noord, "2", T0 + MINUTE)
    third = add(people.noord, "3", T0 + 2 * MINUTE)
    zuids = add(people.zuid, "4", T0)

    assert uow.sessions.list_for_user(people.noord.id) == [third, second, first]
    assert uow.sessions.end(second.id) is True
    assert uow.sessions.end(second.id) is False
    assert uow.sessions.end_for_user(people.noord.id, keep=third.id) == 1
    assert uow.sessions.list_for_user(people.noord.id) == [third]
    assert uow.sessions.end_for_user(people.noord.id) == 1
    assert uow.sessions.list_for_user(people.zuid.id) == [zuids]

    late = add(people.noord, "5", T0 + 10 * MINUTE)
    assert uow.sessions.end_over(started_by=T0, seen_by=T0 - MINUTE) == 1  # started at T0
    assert uow.sessions.end_over(started_by=T0, seen_by=T0 + 10 * MINUTE) == 1  # seen then
    assert uow.sessions.find("5" * 64) is None
    assert late.id not in [s.id for s in uow.sessions.list_for_user(people.noord.id)]


def test_refused_sign_ins_are_counted_per_user_and_taken_back(
    uow: UnitOfWork, people: People
) -> None:
    failures = uow.sign_in_failures
    kept = [failures.add(user_id=people.noord.id, at=T0 + m * MINUTE) for m in (10, 0, 5)]
    failures.add(user_id=people.zuid.id, at=T0)

    assert failures.since(people.noord.id, T0) == [T0, T0 + 5 * MINUTE, T0 + 10 * MINUTE]
    assert failures.since(people.noord.id, T0 + 5 * MINUTE) == [T0 + 5 * MINUTE, T0 + 10 * MINUTE]
    failures.remove(kept[2])
    assert failures.since(people.noord.id, T0) == [T0, T0 + 10 * MINUTE]
    assert failures.since(people.zuid.id, T0) == [T0]


def test_a_password_hash_is_replaced_and_rows_are_locked(uow: UnitOfWork, people: People) -> None:
    uow.users.set_password_hash(people.noord.id, "nieuw")

    assert uow.users.password_hash(people.noord.id) == "nieuw"
    assert uow.users.password_hash(people.zuid.id) == ""
    assert uow.users.lock(people.noord.id) == people.noord
    assert uow.users.lock(999) is None
    noord = uow.environments.get(people.noord.environment_id)
    assert uow.environments.lock(people.noord.environment_id) == noord
    assert uow.environments.lock(999) is None


def test_calls_are_counted_per_key_and_window_and_old_windows_forgotten(uow: UnitOfWork) -> None:
    limits = uow.rate_limits

    assert [limits.hit("token:1", T0) for _ in range(3)] == [1, 2, 3]
    assert limits.hit("token:2", T0) == 1
    assert limits.hit("token:1", T0 + MINUTE) == 1
    assert limits.purge(T0 + MINUTE) == 2
    assert limits.hit("token:1", T0) == 1
    assert limits.hit("token:1", T0 + MINUTE) == 2


def test_removing_a_user_removes_their_sessions_and_refused_sign_ins(engine: Engine) -> None:
    with unit_of_work_factory(engine, b"s" * 32)() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        user = uow.users.add(environment.id, "weg@noord.nl", "Weg", Role.USER)
        uow.sessions.add(user_id=user.id, digest="c" * 64, user_agent="", at=T0)
        uow.sign_in_failures.add(user_id=user.id, at=T0)
        uow.commit()
        uow.connection.execute(delete(users).where(users.c.id == user.id))
        uow.commit()

        assert uow.sessions.find("c" * 64) is None
        assert uow.sign_in_failures.since(user.id, T0) == []
