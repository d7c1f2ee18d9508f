"""Environments, users, their sessions, refused sign-ins and API tokens."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

import attrs

from migrationkit import ports
from migrationkit.domain.api_tokens import USE_RECORDED_EVERY, ApiToken
from migrationkit.domain.model import Environment, Role, User
from migrationkit.domain.sessions import UserSession
from migrationkit.testing._repositories._base import _existing, _lock, _Repository
from migrationkit.testing._repositories.tables import (
    API_TOKEN_DIGESTS,
    API_TOKENS,
    ENVIRONMENTS,
    PASSWORD_HASHES,
    SESSION_DIGESTS,
    SESSIONS,
    SIGN_IN_FAILURES,
    USERS,
)


class InMemoryEnvironmentRepository(_Repository, ports.EnvironmentRepository):
    def add(self, name: str, *, has_subscription: bool, archive_store: str) -> Environment:
        tx = self._tx
        environment = Environment(
            id=tx.next_id(ENVIRONMENTS.name),
            name=name,
            has_subscription=has_subscription,
            archive_store=archive_store,
        )
        ENVIRONMENTS.put(tx, environment.id, environment)
        return environment

    def get(self, environment_id: int) -> Environment | None:
        return ENVIRONMENTS.get(self._tx, environment_id)

    def lock(self, environment_id: int) -> Environment | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        return _lock(self._tx, ENVIRONMENTS, environment_id)

    def list(self) -> Sequence[Environment]:
        """Ordered by id."""
        return ENVIRONMENTS.rows(self._tx)


class InMemoryUserRepository(_Repository, ports.UserRepository):
    def add(
        self, environment_id: int, email: str, name: str, role: Role, password_hash: str = ""
    ) -> User:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        user = User(
            id=tx.next_id(USERS.name),
            environment_id=environment_id,
            email=email,
            name=name,
            role=role,
        )
        USERS.put(tx, user.id, user)
        PASSWORD_HASHES.put(tx, user.id, password_hash)
        return user

    def get(self, user_id: int) -> User | None:
        return USERS.get(self._tx, user_id)

    def lock(self, user_id: int) -> User | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        return _lock(self._tx, USERS, user_id)

    def password_hash(self, user_id: int) -> str | None:
        return PASSWORD_HASHES.get(self._tx, user_id)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        tx = self._tx
        if USERS.get(tx, user_id) is not None:
            PASSWORD_HASHES.put(tx, user_id, password_hash)

    def set_language(self, user_id: int, language: str) -> None:
        tx = self._tx
        user = USERS.get(tx, user_id)
        if user is not None:
            USERS.put(tx, user_id, attrs.evolve(user, language=language))

    def languages(self, emails: Collection[str]) -> Mapping[str, str]:
        keys = {email.lower() for email in emails}
        return {
            user.email.lower(): user.language
            for user in USERS.rows(self._tx)
            if user.email.lower() in keys and user.language is not None
        }

    def get_by_email(self, email: str) -> User | None:
        wanted = email.casefold()
        return next((u for u in USERS.rows(self._tx) if u.email.casefold() == wanted), None)

    def list_for_environment(self, environment_id: int) -> Sequence[User]:
        """Ordered by id."""
        return [u for u in USERS.rows(self._tx) if u.environment_id == environment_id]


class InMemoryApiTokenRepository(_Repository, ports.ApiTokenRepository):
    def add(self, *, user_id: int, name: str, digest: str, shown: str, at: datetime) -> ApiToken:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        if digest in API_TOKEN_DIGESTS.rows(tx):
            raise ValueError("an API token with this digest exists already")
        token = ApiToken(
            id=tx.next_id(API_TOKENS.name), user_id=user_id, name=name, shown=shown, created_at=at
        )
        API_TOKENS.put(tx, token.id, token)
        API_TOKEN_DIGESTS.put(tx, token.id, digest)
        return token

    def find_active(self, digest: str) -> ApiToken | None:
        tx = self._tx
        for token in API_TOKENS.rows(tx):
            if API_TOKEN_DIGESTS.get(tx, token.id) == digest and token.active:
                return token
        return None

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        tokens = [t for t in API_TOKENS.rows(self._tx) if t.user_id == user_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    def revoke(self, token_id: int, at: datetime) -> bool:
        tx = self._tx
        token = API_TOKENS.get(tx, token_id)
        if token is None or not token.active:
            return False
        API_TOKENS.put(tx, token_id, attrs.evolve(token, revoked_at=at))
        return True

    def mark_used(self, token_id: int, at: datetime) -> None:
        tx = self._tx
        token = API_TOKENS.get(tx, token_id)
        if token is None:
            return
        if token.last_used_at is None or token.last_used_at <= at - USE_RECORDED_EVERY:
            API_TOKENS.put(tx, token_id, attrs.evolve(token, last_used_at=at))


class InMemorySignInFailureRepository(_Repository, ports.SignInFailureRepository):
    def add(self, *, user_id: int, at: datetime) -> int:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        failure_id = tx.next_id(SIGN_IN_FAILURES.name)
        SIGN_IN_FAILURES.put(tx, failure_id, (user_id, at))
        return failure_id

    def since(self, user_id: int, since: datetime) -> Sequence[datetime]:
        return sorted(
            at for owner, at in SIGN_IN_FAILURES.rows(self._tx) if owner == user_id and at >= since
        )

    def remove(self, failure_id: int) -> None:
        SIGN_IN_FAILURES.delete(self._tx, failure_id)


class InMemorySessionRepository(_Repository, ports.SessionRepository):
    def add(self, *, user_id: int, digest: str, user_agent: str, at: datetime) -> UserSession:
        tx = self._tx
        _existing(tx, USERS, user_id, "unknown_user")
        if digest in SESSION_DIGESTS.rows(tx):
            raise ValueError("a session with this digest exists already")
        session = UserSession(
            id=tx.next_id(SESSIONS.name),
            user_id=user_id,
            started_at=at,
            last_seen_at=at,
            user_agent=user_agent,
        )
        SESSIONS.put(tx, session.id, session)
        SESSION_DIGESTS.put(tx, session.id, digest)
        return session

    def find(self, digest: str) -> UserSession | None:
        tx = self._tx
        return next((s for s in SESSIONS.rows(tx) if SESSION_DIGESTS.get(tx, s.id) == digest), None)

    def touch(self, session_id: int, at: datetime) -> None:
        tx = self._tx
        session = SESSIONS.get(tx, session_id)
        if session is not None:
            SESSIONS.put(tx, session_id, attrs.evolve(session, last_seen_at=at))

    def list_for_user(self, user_id: int) -> Sequence[UserSession]:
        found = [s for s in SESSIONS.rows(self._tx) if s.user_id == user_id]
        return sorted(found, key=lambda s: (s.started_at, s.id), reverse=True)

    def end(self, session_id: int) -> bool:
        tx = self._tx
        if SESSIONS.get(tx, session_id) is None:
            return False
        SESSIONS.delete(tx, session_id)
        SESSION_DIGESTS.delete(tx, session_id)
        return True

    def end_for_user(self, user_id: int, *, keep: int | None = None) -> int:
        return self._end_where(lambda s: s.user_id == user_id and s.id != keep)

    def end_over(self, *, started_by: datetime, seen_by: datetime) -> int:
        return self._end_where(lambda s: s.started_at <= started_by or s.last_seen_at <= seen_by)

    def _end_where(self, over: Callable[[UserSession], bool]) -> int:
        return sum(self.end(s.id) for s in SESSIONS.rows(self._tx) if over(s))
