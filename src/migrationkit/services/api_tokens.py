"""Personal API tokens: a user creates, lists and revokes their own; a program presents one
and acts as its user, with exactly that user's rights."""

from __future__ import annotations

import attrs

from migrationkit.domain.api_tokens import (
    MAX_ACTIVE,
    SHOWN,
    ApiToken,
    api_token_digest,
    clean_api_token_name,
    new_api_token,
)
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import NotAllowed, NotFound, RuleViolation
from migrationkit.domain.model import User
from migrationkit.services import _load
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies


@attrs.frozen
class IssuedApiToken:
    """A new token: ``secret`` is the token itself, shown once and never stored."""

    token: ApiToken
    secret: str = attrs.field(repr=False)


@audited(AuditAction.CREATE_API_TOKEN)
def create_api_token(deps: Dependencies, *, actor_id: int, name: str | None) -> IssuedApiToken:
    """A new token for the actor, named so they know what uses it."""
    cleaned = clean_api_token_name(name)
    secret = new_api_token()
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        active = [t for t in uow.api_tokens.list_for_user(actor.id) if t.active]
        if len(active) >= MAX_ACTIVE:
            raise RuleViolation("too_many_api_tokens", limit=MAX_ACTIVE)
        token = uow.api_tokens.add(
            user_id=actor.id,
            name=cleaned,
            digest=api_token_digest(secret, deps.policy.code_secret),
            shown=secret[:SHOWN],
            at=deps.clock.now(),
        )
        record(uow, deps, actor, AuditAction.CREATE_API_TOKEN, ("api_token", token.id))
        uow.commit()
    return IssuedApiToken(token, secret)


@audited(AuditAction.OPEN)
def list_api_tokens(deps: Dependencies, *, actor_id: int) -> tuple[ApiToken, ...]:
    """The actor's own tokens, revoked ones too, newest first."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        return tuple(uow.api_tokens.list_for_user(actor.id))


@audited(AuditAction.REVOKE_API_TOKEN)
def revoke_api_token(deps: Dependencies, *, actor_id: int, token_id: int) -> ApiToken:
    """Revokes one of the actor's own tokens; from then on it opens nothing."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        owned = {t.id: t for t in uow.api_tokens.list_for_user(actor.id)}
        token = owned.get(token_id)
        if token is None or not token.active:
            raise NotFound("unknown_api_token")
        now = deps.clock.now()
        if not uow.api_tokens.revoke(token.id, now):
            raise NotFound("unknown_api_token")
        record(uow, deps, actor, AuditAction.REVOKE_API_TOKEN, ("api_token", token.id))
        uow.commit()
    return attrs.evolve(token, revoked_at=now)


@audited(AuditAction.USE_API_TOKEN)
def authenticate_api_token(deps: Dependencies, *, token: str) -> User:
    """The user whose active token this is; anything else is refused with one answer,
    whether the token is unknown, revoked or malformed."""
    digest = api_token_digest(token, deps.policy.code_secret)
    with deps.uow() as uow:
        found = uow.api_tokens.find_active(digest)
        user = None if found is None else uow.users.get(found.user_id)
        if found is None or user is None:
            raise NotAllowed("api_token_invalid")
        uow.api_tokens.mark_used(found.id, deps.clock.now())
        uow.commit()
    return user
