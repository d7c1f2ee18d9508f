"""Environments, users, their sessions, refused sign-ins and API tokens."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import RowMapping, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _Repository
from migrationkit.adapters.sqlalchemy.tables import (
    api_tokens,
    environments,
    sessions,
    sign_in_failures,
    users,
)
from migrationkit.domain.api_tokens import USE_RECORDED_EVERY, ApiToken
from migrationkit.domain.errors import RuleViolation
from migrationkit.domain.model import Environment, Role, User
from migrationkit.domain.sessions import UserSession


def environment_from_row(row: RowMapping) -> Environment:
    return Environment(
        id=row["id"],
        name=row["name"],
        has_subscription=row["has_subscription"],
        archive_store=row["archive_store"],
    )


def user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        environment_id=row["environment_id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        language=row["language"],
    )


def api_token_from_row(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        shown=row["shown"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def session_from_row(row: RowMapping) -> UserSession:
    return UserSession(
        id=row["id"],
        user_id=row["user_id"],
        started_at=row["started_at"],
        last_seen_at=row["last_seen_at"],
        user_agent=row["user_agent"],
    )


class SqlAlchemyEnvironmentRepository(_Repository, ports.EnvironmentRepository):
    def add(self, name: str, *, has_subscription: bool, archive_store: str) -> Environment:
        row = self._insert(
            environments, name=name, has_subscription=has_subscription, archive_store=archive_store
        )
        return environment_from_row(row)

    def get(self, environment_id: int) -> Environment | None:
        row = self._one(select(environments).where(environments.c.id == environment_id))
        return None if row is None else environment_from_row(row)

    def lock(self, environment_id: int) -> Environment | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        statement = select(environments).where(environments.c.id == environment_id)
        row = self._one(statement.with_for_update())
        return None if row is None else environment_from_row(row)

    def list(self) -> Sequence[Environment]:
        return [
            environment_from_row(row)
            for row in self._all(select(environments).order_by(environments.c.id))
        ]


class SqlAlchemyUserRepository(_Repository, ports.UserRepository):
    def add(
        self, environment_id: int, email: str, name: str, role: Role, password_hash: str = ""
    ) -> User:
        try:
            with self._connection.begin_nested():
                row = self._insert(
                    users,
                    environment_id=environment_id,
                    email=email,
                    email_key=email.lower(),
                    name=name,
                    role=role.value,
                    password_hash=password_hash,
                )
        except IntegrityError as error:
            if self.get_by_email(email) is not None:
                raise RuleViolation("email_taken", email=email) from error
            raise
        return user_from_row(row)

    def password_hash(self, user_id: int) -> str | None:
        return self._connection.execute(
            select(users.c.password_hash).where(users.c.id == user_id)
        ).scalar_one_or_none()

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._connection.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def get(self, user_id: int) -> User | None:
        row = self._one(select(users).where(users.c.id == user_id))
        return None if row is None else user_from_row(row)

    def lock(self, user_id: int) -> User | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        row = self._one(select(users).where(users.c.id == user_id).with_for_update())
        return None if row is None else user_from_row(row)

    def set_language(self, user_id: int, language: str) -> None:
        self._connection.execute(
            update(users).where(users.c.id == user_id).values(language=language)
        )

    def languages(self, emails: Collection[str]) -> Mapping[str, str]:
        keys = {email.lower() for email in emails}
        statement = select(users.c.email_key, users.c.language).where(
            users.c.email_key.in_(keys), users.c.language.is_not(None)
        )
        return {row.email_key: row.language for row in self._connection.execute(statement)}

    def get_by_email(self, email: str) -> User | None:
        row = self._one(select(users).where(users.c.email_key == email.lower()))
        return None if row is None else user_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[User]:
        statement = (
            select(users).where(users.c.environment_id == environment_id).order_by(users.c.id)
        )
        return [user_from_row(row) for row in self._all(statement)]


class SqlAlchemyApiTokenRepository(_Repository, ports.ApiTokenRepository):
    def add(self, *, user_id: int, name: str, digest: str, shown: str, at: datetime) -> ApiToken:
        return api_token_from_row(
            self._insert(
                api_tokens, user_id=user_id, name=name, digest=digest, shown=shown, created_at=at
            )
        )

    def find_active(self, digest: str) -> ApiToken | None:
        row = self._one(
            select(api_tokens).where(
                api_tokens.c.digest == digest, api_tokens.c.revoked_at.is_(None)
            )
        )
        return None if row is None else api_token_from_row(row)

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        statement = (
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
        )
        return [api_token_from_row(row) for row in self._all(statement)]

    def revoke(self, token_id: int, at: datetime) -> bool:
        result = self._connection.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    def mark_used(self, token_id: int, at: datetime) -> None:
        column = api_tokens.c
        self._connection.execute(
            update(api_tokens)
            .where(
                column.id == token_id,
                column.last_used_at.is_(None) | (column.last_used_at <= at - USE_RECORDED_EVERY),
            )
            .values(last_used_at=at)
        )


class SqlAlchemySignInFailureRepository(_Repository, ports.SignInFailureRepository):
    def add(self, *, user_id: int, at: datetime) -> int:
        return int(self._insert(sign_in_failures, user_id=user_id, at=at)["id"])

    def since(self, user_id: int, since: datetime) -> Sequence[datetime]:
        column = sign_in_failures.c
        statement = (
            select(column.at)
            .where(column.user_id == user_id, column.at >= since)
            .order_by(column.at)
        )
        return list(self._connection.execute(statement).scalars())

    def remove(self, failure_id: int) -> None:
        self._connection.execute(
            delete(sign_in_failures).where(sign_in_failures.c.id == failure_id)
        )


class SqlAlchemySessionRepository(_Repository, ports.SessionRepository):
    def add(self, *, user_id: int, digest: str, user_agent: str, at: datetime) -> UserSession:
        row = self._insert(
            sessions,
            user_id=user_id,
            digest=digest,
            user_agent=user_agent,
            started_at=at,
            last_seen_at=at,
        )
        return session_from_row(row)

    def find(self, digest: str) -> UserSession | None:
        row = self._one(select(sessions).where(sessions.c.digest == digest))
        return None if row is None else session_from_row(row)

    def touch(self, session_id: int, at: datetime) -> None:
        self._connection.execute(
            update(sessions).where(sessions.c.id == session_id).values(last_seen_at=at)
        )

    def list_for_user(self, user_id: int) -> Sequence[UserSession]:
        statement = (
            select(sessions)
            .where(sessions.c.user_id == user_id)
            .order_by(sessions.c.started_at.desc(), sessions.c.id.desc())
        )
        return [session_from_row(row) for row in self._all(statement)]

    def end(self, session_id: int) -> bool:
        result = self._connection.execute(delete(sessions).where(sessions.c.id == session_id))
        return result.rowcount == 1

    def end_for_user(self, user_id: int, *, keep: int | None = None) -> int:
        statement = delete(sessions).where(sessions.c.user_id == user_id)
        if keep is not None:
            statement = statement.where(sessions.c.id != keep)
        return int(self._connection.execute(statement).rowcount)

    def end_over(self, *, started_by: datetime, seen_by: datetime) -> int:
        statement = delete(sessions).where(
            or_(sessions.c.started_at <= started_by, sessions.c.last_seen_at <= seen_by)
        )
        return int(self._connection.execute(statement).rowcount)
