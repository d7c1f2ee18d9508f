"""Signing in: the password check is the embedder's (it owns the hashing scheme); the
use case finds the user, records the attempt, and gives every failure the same answer."""

from __future__ import annotations

from collections.abc import Callable

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import NotAllowed
from migrationkit.domain.model import User
from migrationkit.domain.rules import has_invisible_characters
from migrationkit.services.audit import record, record_refusal
from migrationkit.services.dependencies import Dependencies


def sign_in(
    deps: Dependencies, *, email: str, password_matches: Callable[[str | None], bool]
) -> User:
    """The user with this e-mail address, when ``password_matches`` accepts their stored
    hash. It is called with ``None`` for an unknown address, so that it can spend the same
    time on a decoy. An unknown address and a wrong password get one refusal
    (``sign_in_failed``); the trail names the user only when the address is known, and
    never keeps what was typed."""
    typed = email.strip()
    with deps.uow() as uow:
        # An address with invisible characters is nobody's, and not one to query for.
        user = None if has_invisible_characters(typed) else uow.users.get_by_email(typed)
        stored = None if user is None else uow.users.password_hash(user.id)
    if not password_matches(stored) or user is None or not stored:
        error = NotAllowed("sign_in_failed")
        record_refusal(
            deps,
            action=AuditAction.SIGN_IN,
            error=error,
            actor_id=None if user is None else user.id,
        )
        raise error
    with deps.uow() as uow:
        record(uow, deps, user, AuditAction.SIGN_IN)
        uow.commit()
    return user
