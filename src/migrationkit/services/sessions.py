"""Sign-in sessions on the server: opened at sign-in, resumed on every request of the
browser that holds its id, listed and ended by their own user (Instellingen > Sessies),
ended all at once when the user's password changes.

The browser holds the session's id (256 random bits); the database only its keyed digest,
so a dump of the database opens no session. A session ends 8 hours after the sign-in and
30 minutes after its last request (``Policy.sessions``), both decided with the use cases'
clock, and an ended session is removed: no copy of its cookie opens anything again.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import InvalidInput, NotAllowed, NotFound
from migrationkit.domain.model import User
from migrationkit.domain.sessions import (
    UserSession,
    clean_user_agent,
    new_session_secret,
    require_new_password,
    session_digest,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load
from migrationkit.services.accounts import check_password
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies


@attrs.frozen
class IssuedSession:
    """A new session: ``secret`` is its id for the browser's cookie, never stored."""

    session: UserSession
    secret: str = attrs.field(repr=False)


@attrs.frozen
class ResumedSession:
    """The session a request belongs to, and its user."""

    session: UserSession
    user: User


def open_session(
    deps: Dependencies, *, actor_id: int, user_agent: str | None = None
) -> IssuedSession:
    """A new session for a user who just signed in (``sign_in``), with the browser's
    description of itself. Sessions that are over are removed on the way."""
    secret = new_session_secret()
    now = deps.clock.now()
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        _remove_over(deps, uow)
        session = uow.sessions.add(
            user_id=actor.id,
            digest=session_digest(secret, deps.policy.code_secret),
            user_agent=clean_user_agent(user_agent),
            at=now,
        )
        uow.commit()
    return IssuedSession(session, secret)


def resume_session(deps: Dependencies, *, secret: str) -> ResumedSession:
    """The session whose id the browser sent, with its user, and this request recorded as
    its last. ``NotAllowed("session_ended")`` for an id that opens nothing: unknown, ended,
    over its lifetime or idle too long (it is removed then), or of a removed user."""
    digest = session_digest(secret, deps.policy.code_secret)
    now = deps.clock.now()
    with deps.uow() as uow:
        session = uow.sessions.find(digest)
        user = None if session is None else uow.users.get(session.user_id)
        if session is None or user is None or deps.policy.sessions.is_over(session, now):
            if session is not None:
                uow.sessions.end(session.id)
                uow.commit()
            raise NotAllowed("session_ended")
        uow.sessions.touch(session.id, now)
        uow.commit()
    return ResumedSession(attrs.evolve(session, last_seen_at=now), user)


@audited(AuditAction.OPEN)
def list_sessions(deps: Dependencies, *, actor_id: int) -> tuple[UserSession, ...]:
    """The actor's own sessions that are not over, the last started first."""
    now = deps.clock.now()
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        return tuple(
            session
            for session in uow.sessions.list_for_user(actor.id)
            if not deps.policy.sessions.is_over(session, now)
        )


@audited(AuditAction.SIGN_OUT)
def sign_out(deps: Dependencies, *, actor_id: int, session_id: int) -> None:
    """Uitloggen: ends the actor's current session, for every copy of its cookie."""
    _end(deps, actor_id, session_id, AuditAction.SIGN_OUT)


@audited(AuditAction.END_SESSION)
def end_session(deps: Dependencies, *, actor_id: int, session_id: int) -> None:
    """Beëindigen: ends one of the actor's own sessions (on another browser, or this one).
    Another user's session is answered like a missing one."""
    _end(deps, actor_id, session_id, AuditAction.END_SESSION)


def _end(deps: Dependencies, actor_id: int, session_id: int, action: AuditAction) -> None:
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        owned = {s.id for s in uow.sessions.list_for_user(actor.id)}
        if session_id not in owned or not uow.sessions.end(session_id):
            raise NotFound("unknown_session")
        record(uow, deps, actor, action, ("session", session_id))
        uow.commit()


@audited(AuditAction.END_OTHER_SESSIONS)
def end_other_sessions(deps: Dependencies, *, actor_id: int, session_id: int) -> int:
    """Alle andere beëindigen: ends every session of the actor but ``session_id`` (the one
    they are using); how many ended."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        ended = uow.sessions.end_for_user(actor.id, keep=session_id)
        record(uow, deps, actor, AuditAction.END_OTHER_SESSIONS, ("session", session_id))
        uow.commit()
    return ended


@audited(AuditAction.CHANGE_PASSWORD)
def change_password(
    deps: Dependencies,
    *,
    actor_id: int,
    password_matches: Callable[[str | None], bool],
    new_password: str,
    hash_password: Callable[[str], str],
) -> None:
    """A new password for the actor, who proves the current one (``password_matches``, the
    embedder's check as for ``sign_in``; a wrong one counts towards the sign-in lockout,
    and during a lockout the right one is refused alike). Every session of the actor ends,
    the one in use too: each browser signs in again with the new password."""
    require_new_password(new_password)
    actor, failure = check_password(deps, actor_id, password_matches)
    if failure is None:
        raise InvalidInput("password_wrong")
    new_hash = hash_password(new_password)
    with deps.uow() as uow:
        uow.users.set_password_hash(actor.id, new_hash)
        uow.sign_in_failures.remove(failure)
        uow.sessions.end_for_user(actor.id)
        record(uow, deps, actor, AuditAction.CHANGE_PASSWORD)
        uow.commit()


def remove_over_sessions(deps: Dependencies) -> None:
    """Removes every session that is over (the sweeper's): none would open anything."""
    with deps.uow() as uow:
        _remove_over(deps, uow)
        uow.commit()


def _remove_over(deps: Dependencies, uow: UnitOfWork) -> None:
    started_by, seen_by = deps.policy.sessions.over_bounds(deps.clock.now())
    uow.sessions.end_over(started_by=started_by, seen_by=seen_by)
