"""Signing in: the password check is the embedder's (it owns the hashing scheme); the
use case finds the user, records the attempt, locks an account under attack, and gives
every failure the same answer."""

from __future__ import annotations

from collections.abc import Callable

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import NotAllowed
from migrationkit.domain.model import User
from migrationkit.domain.rules import has_invisible_characters
from migrationkit.ports import UnitOfWork
from migrationkit.services.audit import record, record_refusal
from migrationkit.services.dependencies import Dependencies


def sign_in(
    deps: Dependencies, *, email: str, password_matches: Callable[[str | None], bool]
) -> User:
    """The user with this e-mail address, when ``password_matches`` accepts their stored
    hash. It is called with ``None`` for an unknown address, so that it can spend the same
    time on a decoy. An unknown address and a wrong password get one refusal
    (``sign_in_failed``), and so does every attempt on an account with
    ``Policy.sign_in_lockout`` refused sign-ins in its window (the trail says
    ``sign_in_locked``). The trail names the user only when the address is known, and never
    keeps what was typed."""
    typed = email.strip()
    with deps.uow() as uow:
        # An address with invisible characters is nobody's, and not one to query for.
        user = None if has_invisible_characters(typed) else uow.users.get_by_email(typed)
        stored = None if user is None else uow.users.password_hash(user.id)
        locked = user is not None and _locked(deps, uow, user)
    # The password is checked even when locked: the answer takes as long either way.
    matched = password_matches(stored)
    if locked or not matched or user is None or not stored:
        error = NotAllowed("sign_in_failed")
        record_refusal(
            deps,
            action=AuditAction.SIGN_IN,
            error=NotAllowed("sign_in_locked") if locked else error,
            actor_id=None if user is None else user.id,
        )
        raise error
    with deps.uow() as uow:
        record(uow, deps, user, AuditAction.SIGN_IN)
        uow.commit()
    return user


def _locked(deps: Dependencies, uow: UnitOfWork, user: User) -> bool:
    """Whether the user's refused sign-ins fill the lockout's window. A locked account
    gets the answer of a wrong password, even for the right one: the lock tells a guesser
    nothing, not even that the address exists."""
    policy = deps.policy.sign_in_lockout
    since = deps.clock.now() - policy.window
    return uow.audit.refused_since(AuditAction.SIGN_IN, user.id, since) >= policy.max_failures
