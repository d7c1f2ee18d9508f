"""Sessions on the server, on the fakes: opened after a sign-in, resumed by the id in the
cookie (kept only as a keyed digest), over 8 hours after the sign-in or 30 minutes after the
last request, listed and ended by their own user; a new password ends them all. And the
sign-in's reservation: a right password takes its attempt back, a wrong one keeps it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from migrationkit import services
from migrationkit.domain.errors import InvalidInput, NotAllowed, NotFound
from migrationkit.domain.model import Role, User
from migrationkit.domain.sessions import session_digest
from migrationkit.services.dependencies import SIGN_IN_LOCKOUT

if TYPE_CHECKING:
    from conftest import Scene

OLD = "oude-hash"
NEW = "een nieuw wachtwoord"


def add_user(scene: Scene, email: str = "boekhouder@noord.nl") -> User:
    with scene.world.uow() as uow:
        user = uow.users.add(scene.noord.environment.id, email, "Boekhouder", Role.USER, OLD)
        uow.commit()
    return user


def resumes(scene: Scene, secret: str) -> bool:
    try:
        services.resume_session(scene.deps, secret=secret)
    except NotAllowed as error:
        if error.code != "session_ended":
            raise
        return False
    return True


def change(scene: Scene, user: User, *, current_right: bool, new: str = NEW) -> None:
    services.change_password(
        scene.deps,
        actor_id=user.id,
        password_matches=lambda stored: current_right and stored == OLD,
        new_password=new,
        hash_password=lambda password: f"hash van {password}",
    )


def stored_hash(scene: Scene, user: User) -> str | None:
    with scene.world.uow() as uow:
        return uow.users.password_hash(user.id)


def test_a_session_is_resumed_by_its_id_and_stored_only_as_its_digest(scene: Scene) -> None:
    user = add_user(scene)
    issued = services.open_session(scene.deps, actor_id=user.id, user_agent="Firefox\x00\n")

    resumed = services.resume_session(scene.deps, secret=issued.secret)

    assert resumed.user == user
    assert resumed.session.id == issued.session.id
    assert resumed.session.user_agent == "Firefox"
    assert len(issued.secret) >= 43
    digests = scene.world.database.snapshot()["session_digests"]
    assert list(digests.values()) == [session_digest(issued.secret, scene.deps.policy.code_secret)]
    assert issued.secret not in repr(scene.world.database.snapshot())
    assert not resumes(scene, issued.secret + "x")


def test_a_session_lasts_eight_hours_from_the_sign_in_however_busy(scene: Scene) -> None:
    issued = services.open_session(scene.deps, actor_id=add_user(scene).id)

    for _ in range(8 * 6 - 1):
        scene.world.clock.advance(timedelta(minutes=10))
        assert resumes(scene, issued.secret)
    scene.world.clock.advance(timedelta(minutes=10))

    assert not resumes(scene, issued.secret)
    assert services.list_sessions(scene.deps, actor_id=issued.session.user_id) == ()


def test_a_session_ends_thirty_minutes_after_its_last_request(scene: Scene) -> None:
    issued = services.open_session(scene.deps, actor_id=add_user(scene).id)

    scene.world.clock.advance(timedelta(minutes=29))
    assert resumes(scene, issued.secret)
    scene.world.clock.advance(timedelta(minutes=29))
    assert resumes(scene, issued.secret)
    scene.world.clock.advance(timedelta(minutes=30))

    assert not resumes(scene, issued.secret)


def test_sessions_are_listed_and_ended_by_their_own_user_only(scene: Scene) -> None:
    user, other = add_user(scene), add_user(scene, "ander@noord.nl")
    first = services.open_session(scene.deps, actor_id=user.id, user_agent="Firefox")
    scene.world.clock.advance(timedelta(minutes=1))
    second = services.open_session(scene.deps, actor_id=user.id, user_agent="Chrome")
    third = services.open_session(scene.deps, actor_id=user.id)
    theirs = services.open_session(scene.deps, actor_id=other.id)

    listed = services.list_sessions(scene.deps, actor_id=user.id)
    assert [s.id for s in listed] == [third.session.id, second.session.id, first.session.id]
    with pytest.raises(NotFound) as refused:
        services.end_session(scene.deps, actor_id=user.id, session_id=theirs.session.id)
    assert refused.value.code == "unknown_session"

    services.end_session(scene.deps, actor_id=user.id, session_id=first.session.id)
    assert not resumes(scene, first.secret)
    assert (
        services.end_other_sessions(scene.deps, actor_id=user.id, session_id=third.session.id) == 1
    )
    assert [resumes(scene, i.secret) for i in (second, third, theirs)] == [False, True, True]
    services.sign_out(scene.deps, actor_id=user.id, session_id=third.session.id)
    assert not resumes(scene, third.secret)


def test_a_new_password_is_stored_and_ends_every_session_of_the_user(scene: Scene) -> None:
    user, other = add_user(scene), add_user(scene, "ander@noord.nl")
    mine = [services.open_session(scene.deps, actor_id=user.id) for _ in range(3)]
    theirs = services.open_session(scene.deps, actor_id=other.id)

    change(scene, user, current_right=True)

    assert stored_hash(scene, user) == f"hash van {NEW}"
    assert [resumes(scene, issued.secret) for issued in mine] == [False] * 3
    assert resumes(scene, theirs.secret)
    assert services.list_sessions(scene.deps, actor_id=user.id) == ()


@pytest.mark.parametrize(
    ("current_right", "new", "code"),
    [
        (False, NEW, "password_wrong"),
        (True, "te kort", "password_too_short"),
        (True, "x" * 201, "password_too_long"),
    ],
)
def test_a_refused_new_password_changes_nothing(
    scene: Scene, current_right: bool, new: str, code: str
) -> None:
    user = add_user(scene)
    issued = services.open_session(scene.deps, actor_id=user.id)

    with pytest.raises(InvalidInput) as refused:
        change(scene, user, current_right=current_right, new=new)

    assert refused.value.code == code
    assert stored_hash(scene, user) == OLD
    assert resumes(scene, issued.secret)


def test_wrong_current_passwords_count_towards_the_sign_in_lockout(scene: Scene) -> None:
    user = add_user(scene)
    for _ in range(SIGN_IN_LOCKOUT.max_failures):
        with pytest.raises(InvalidInput):
            change(scene, user, current_right=False)

    with pytest.raises(InvalidInput) as refused:
        change(scene, user, current_right=True)  # locked: the right one is refused alike

    assert refused.value.code == "password_wrong"
    assert stored_hash(scene, user) == OLD
    with pytest.raises(NotAllowed):
        services.sign_in(scene.deps, email=user.email, password_matches=lambda s: s == OLD)


def test_a_right_password_takes_its_reserved_attempt_back(scene: Scene) -> None:
    user = add_user(scene)

    for _ in range(3 * SIGN_IN_LOCKOUT.max_failures):
        services.sign_in(scene.deps, email=user.email, password_matches=lambda s: s == OLD)

    with scene.world.uow() as uow:
        assert (
            uow.sign_in_failures.since(user.id, scene.world.clock.now() - timedelta(days=1)) == []
        )
