"""Signing in locks an account under attack, and the lock tells a guesser nothing: ten
refused sign-ins in a quarter of an hour, then every attempt, the right password too, gets
the answer of a wrong password until the oldest refusal ages out of the window."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from migrationkit import services
from migrationkit.domain.audit import AuditOutcome
from migrationkit.domain.errors import NotAllowed
from migrationkit.domain.model import Role, User
from migrationkit.services.dependencies import SIGN_IN_LOCKOUT

if TYPE_CHECKING:
    from conftest import Scene

RIGHT = "de-goede-hash"


def add_user(scene: Scene, email: str) -> User:
    with scene.world.uow() as uow:
        user = uow.users.add(scene.noord.environment.id, email, "Boekhouder", Role.USER, RIGHT)
        uow.commit()
    return user


def attempt(scene: Scene, email: str, *, right: bool) -> str:
    """Signs in with the right or a wrong password; the refusal's code, or "signed in"."""
    try:
        services.sign_in(
            scene.deps,
            email=email,
            password_matches=lambda stored: right and stored == RIGHT,
        )
    except NotAllowed as error:
        return error.code
    return "signed in"


def refusal_codes(scene: Scene, user: User) -> list[str | None]:
    events = scene.world.database.snapshot().get("audit_events", {}).values()
    return [
        e.record.error_code
        for e in sorted(events, key=lambda e: e.id)
        if e.record.actor_user_id == user.id and e.record.outcome is AuditOutcome.REFUSED
    ]


def test_ten_wrong_passwords_lock_the_account_and_the_right_one_gets_the_same_answer(
    scene: Scene,
) -> None:
    user = add_user(scene, "boekhouder@noord.nl")
    for _ in range(SIGN_IN_LOCKOUT.max_failures):
        assert attempt(scene, user.email, right=False) == "sign_in_failed"

    assert attempt(scene, user.email, right=True) == "sign_in_failed"
    assert attempt(scene, user.email, right=False) == "sign_in_failed"
    codes = refusal_codes(scene, user)
    assert codes == ["sign_in_failed"] * 10 + ["sign_in_locked"] * 2


def test_the_lock_opens_when_the_refusals_age_out_of_the_window(scene: Scene) -> None:
    user = add_user(scene, "boekhouder@noord.nl")
    for _ in range(SIGN_IN_LOCKOUT.max_failures):
        attempt(scene, user.email, right=False)
    assert attempt(scene, user.email, right=True) == "sign_in_failed"

    scene.world.clock.advance(SIGN_IN_LOCKOUT.window + timedelta(seconds=1))

    assert attempt(scene, user.email, right=True) == "signed in"


def test_fewer_refusals_than_the_lockout_leave_the_account_open(scene: Scene) -> None:
    user = add_user(scene, "boekhouder@noord.nl")
    for _ in range(SIGN_IN_LOCKOUT.max_failures - 1):
        attempt(scene, user.email, right=False)

    assert attempt(scene, user.email, right=True) == "signed in"


def test_one_locked_account_leaves_its_colleagues_alone(scene: Scene) -> None:
    attacked = add_user(scene, "boekhouder@noord.nl")
    colleague = add_user(scene, "collega@noord.nl")
    for _ in range(SIGN_IN_LOCKOUT.max_failures):
        attempt(scene, attacked.email, right=False)

    assert attempt(scene, colleague.email, right=True) == "signed in"


def test_an_unknown_address_answers_as_a_locked_account_does(scene: Scene) -> None:
    user = add_user(scene, "boekhouder@noord.nl")
    for _ in range(SIGN_IN_LOCKOUT.max_failures):
        attempt(scene, user.email, right=False)

    locked = attempt(scene, user.email, right=True)
    unknown = attempt(scene, "niemand@noord.nl", right=True)

    assert locked == unknown == "sign_in_failed"
