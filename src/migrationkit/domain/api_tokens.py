"""Personal API tokens: 256 random bits, shown once, kept only as a keyed digest.

A token is ``mkt_`` followed by 43 URL-safe characters. The database holds an HMAC-SHA256 of
it with a key derived from the server's secret, so a stolen dump can neither use a token
nor test guesses against it without that secret.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import attrs

from migrationkit.domain.digests import keyed_digest
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.rules import require_typed_text

PREFIX = "mkt_"
#: How many characters of a token the list shows, so its owner can tell tokens apart.
SHOWN = len(PREFIX) + 4
#: The longest name a user may give a token.
NAME_MAX = 100
#: A token's last use is written at most this often, so reading through the API does not
#: write on every request.
USE_RECORDED_EVERY = timedelta(minutes=1)
#: How many tokens a user may hold at once.
MAX_ACTIVE = 20

_KEY_LABEL = b"migrationkit api tokens"


def new_api_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def api_token_digest(token: str, secret: bytes) -> str:
    """The keyed digest under which a token is stored and looked up."""
    return keyed_digest(token, secret, _KEY_LABEL)


@attrs.frozen
class ApiToken:
    """A user's API token as listed: never the token itself."""

    id: int
    user_id: int
    name: str
    #: The token's first characters (``mkt_`` and four more).
    shown: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def clean_api_token_name(name: str | None) -> str:
    """A token's name, trimmed: required, and short enough to list."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput("api_token_name_missing")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput("api_token_name_too_long", limit=NAME_MAX)
    require_typed_text(cleaned)
    return cleaned
