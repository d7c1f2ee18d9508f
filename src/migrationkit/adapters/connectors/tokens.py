"""The connections' OAuth2 tokens in the SQL database, sealed, rotated under a row lock.

Each row of ``connector_tokens`` holds one connection's tokens sealed (Fernet, see
``migrationkit.adapters.sealing``) under a key of their own label; a database dump shows no
token. ``rotate``
holds the row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write lock that
``make_engine`` takes with ``BEGIN IMMEDIATE``) for the whole refresh call, so two workers
never spend one refresh token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

from cryptography.fernet import InvalidToken
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.sealing import sealing_key
from migrationkit.adapters.sqlalchemy.tables import connector_tokens
from migrationkit.ports import Clock, OAuthTokens

logger = logging.getLogger("migrationkit.connectors")

#: The HKDF label of the tokens' key: no other use of the server's secret derives it.
KEY_LABEL: Final = b"migrationkit connector tokens v1"


class SqlTokenStore:
    """A ``TokenStore`` on the library's SQL database (SQLite or PostgreSQL).

    ``engine`` should come from ``make_engine``: on SQLite its transactions take the write
    lock at the start, which is what holds a rotation against another."""

    def __init__(self, engine: Engine, secret: bytes, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._fernet = sealing_key(secret, KEY_LABEL)
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"SqlTokenStore({self._engine.url.render_as_string(hide_password=True)!r})"

    def load(self, connection_id: int) -> OAuthTokens | None:
        with self._engine.connect() as connection:
            sealed = connection.execute(
                select(connector_tokens.c.sealed).where(
                    connector_tokens.c.connection_id == connection_id
                )
            ).scalar_one_or_none()
        return self._unseal(connection_id, sealed)

    def save(self, connection_id: int, tokens: OAuthTokens) -> None:
        with self._engine.begin() as connection:
            self._write(connection, connection_id, tokens)

    def rotate(
        self,
        connection_id: int,
        spent: OAuthTokens,
        refresh: Callable[[OAuthTokens], OAuthTokens],
    ) -> OAuthTokens:
        with self._engine.begin() as connection:
            sealed = connection.execute(
                select(connector_tokens.c.sealed)
                .where(connector_tokens.c.connection_id == connection_id)
                .with_for_update()
            ).scalar_one_or_none()
            stored = self._unseal(connection_id, sealed)
            if stored is not None and stored.refresh_token != spent.refresh_token:
                return stored
            fresh = refresh(stored or spent)
            self._write(connection, connection_id, fresh)
            return fresh

    def _write(self, connection: Connection, connection_id: int, tokens: OAuthTokens) -> None:
        values = {
            "connection_id": connection_id,
            "sealed": self._seal(tokens),
            "version": 1,
            "updated_at": self._clock.now(),
        }
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(connector_tokens).values(values)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[connector_tokens.c.connection_id],
                set_={
                    "sealed": insert.excluded.sealed,
                    "version": connector_tokens.c.version + 1,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )

    def _seal(self, tokens: OAuthTokens) -> str:
        plain = json.dumps(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": tokens.expires_at.isoformat(),
                "account": [list(pair) for pair in tokens.account],
            }
        )
        return self._fernet.encrypt(plain.encode()).decode()

    def _unseal(self, connection_id: int, sealed: str | None) -> OAuthTokens | None:
        if sealed is None:
            return None
        try:
            plain = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            # Sealed under another secret: as good as none; the user connects again.
            logger.warning(
                "the tokens of connection %s cannot be opened with this server's secret",
                connection_id,
            )
            return None
        return OAuthTokens(
            access_token=plain["access_token"],
            refresh_token=plain["refresh_token"],
            expires_at=datetime.fromisoformat(plain["expires_at"]),
            account=tuple((str(name), str(value)) for name, value in plain["account"]),
        )
