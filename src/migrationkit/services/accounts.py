"""Signing in: the password check is the embedder's (it owns the hashing scheme); the
use case finds the user, records the attempt, locks an account under attack, and gives
every failure the same answer.

The lockout holds under any number of attempts at once: before a password is looked at,
its attempt is reserved in a short transaction that holds the user's row (``SELECT ... FOR
UPDATE``; SQLite's one writer), counts the refused sign-ins in the window and records this
one as refused in advance; a right password takes it back afterwards. So at most
``Policy.sign_in_lockout.max_failures`` passwords are ever checked per window, however
many arrive together, and the slow hash is checked outside any transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.emails import LANGUAGES
from migrationkit.domain.errors import NotAllowed, RuleViolation
from migrationkit.domain.model import User
from migrationkit.domain.rules import has_invisible_characters
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import record, record_refusal
from migrationkit.services.dependencies import Dependencies


def sign_in(
    deps: Dependencies, *, email: str, password_matches: Callable[[str | None], bool]
) -> User:
    """The user with this e-mail address, when ``password_matches`` accepts their stored
    hash. It is called with ``None`` for an unknown address and for a locked account, so
    that it can spend the same time on a decoy. An unknown address and a wrong password get
    one refusal (``sign_in_failed``), and so does every attempt on an account with
    ``Policy.sign_in_lockout`` refused sign-ins in its window (the trail says
    ``sign_in_locked``; its password is not looked at). The trail names the user only when
    the address is known, and never keeps what was typed. ``open_session`` gives the
    signed-in user a session."""
    typed = email.strip()

    def by_address(uow: UnitOfWork) -> User | None:
        # An address with invisible characters is nobody's, and not one to query for.
        return None if has_invisible_characters(typed) else uow.users.get_by_email(typed)

    user, attempt, locked = _checked(deps, by_address, password_matches)
    if user is None or attempt is None:
        deps.metrics.sign_in_refused()
        if locked:
            deps.metrics.locked_out("sign_in")
        record_refusal(
            deps,
            action=AuditAction.SIGN_IN,
            error=NotAllowed("sign_in_locked" if locked else "sign_in_failed"),
            actor_id=None if user is None else user.id,
        )
        raise NotAllowed("sign_in_failed")
    with deps.uow() as uow:
        uow.sign_in_failures.remove(attempt)
        record(uow, deps, user, AuditAction.SIGN_IN)
        uow.commit()
    return user


def check_password(
    deps: Dependencies, actor_id: int, password_matches: Callable[[str | None], bool]
) -> tuple[User, int | None]:
    """The actor, and the attempt reserved for their right password (still counted as
    refused until the caller takes it back with ``sign_in_failures.remove``); no attempt
    for a wrong password or a locked account, which answer alike."""
    user, attempt, _ = _checked(deps, lambda uow: _load.user(uow, actor_id), password_matches)
    assert user is not None  # _load.user raises for an unknown actor
    return user, attempt


def _checked(
    deps: Dependencies,
    find: Callable[[UnitOfWork], User | None],
    password_matches: Callable[[str | None], bool],
) -> tuple[User | None, int | None, bool]:
    """The user ``find`` finds; the id of the attempt reserved for them when their password
    matched (``None`` for a wrong password and a locked account); whether it was locked."""
    with deps.uow() as uow:
        user = find(uow)
        attempt = None if user is None else _reserve(deps, uow, user)
        stored = None if user is None or attempt is None else uow.users.password_hash(user.id)
        uow.commit()
    locked = user is not None and attempt is None
    # Checked even for nobody and a locked account (against a decoy): it takes as long.
    if not password_matches(stored) or not stored:
        return user, None, locked
    return user, attempt, locked


def _reserve(deps: Dependencies, uow: UnitOfWork, user: User) -> int | None:
    """Holding the user's row: the id of this attempt, recorded as refused in advance, or
    ``None`` when the refused sign-ins in the window fill the lockout. A locked account gets
    the answer of a wrong password, even for the right one: the lock tells a guesser
    nothing, not even that the address exists."""
    uow.users.lock(user.id)
    policy = deps.policy.sign_in_lockout
    now = deps.clock.now()
    if policy.locked_until(uow.sign_in_failures.since(user.id, now - policy.window), now):
        return None
    return uow.sign_in_failures.add(user_id=user.id, at=now)


def choose_language(deps: Dependencies, actor_id: int, language: str) -> User:
    """The actor's language from now on ("nl" or "en"): the portal speaks it after their next
    sign-in too, and their e-mails are written in it. Another is refused
    (``unknown_language``) and nothing changes."""
    if language not in LANGUAGES:
        raise RuleViolation("unknown_language", language=language[:20])
    with deps.uow() as uow:
        user = _load.user(uow, actor_id)
        if user.language != language:
            uow.users.set_language(user.id, language)
            uow.commit()
    return user if user.language == language else attrs.evolve(user, language=language)
