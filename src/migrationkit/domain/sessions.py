"""Sign-in sessions, kept on the server: the browser holds only a random session id (256
bits from ``secrets``), the database only its keyed digest. A session ends when its user
signs out or ends it from the Sessies page, when their password changes, 30 minutes after
its last request, and 8 hours after the sign-in whatever happens in between.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import attrs

from migrationkit.domain.digests import keyed_digest
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.rules import require_typed_text

#: What the database keeps of a browser's description of itself.
USER_AGENT_MAX = 500

_KEY_LABEL = b"migrationkit sessions"


def new_session_secret() -> str:
    """A fresh session id for the cookie: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def session_digest(secret: str, server_secret: bytes) -> str:
    """The keyed digest under which a session is stored and looked up."""
    return keyed_digest(secret, server_secret, _KEY_LABEL)


def clean_user_agent(user_agent: str | None) -> str:
    """What is kept of the browser's User-Agent: printable, bounded (it is the browser's
    word, shown only to the session's own user)."""
    printable = "".join(ch for ch in (user_agent or "") if ch.isprintable())
    return printable.strip()[:USER_AGENT_MAX]


@attrs.frozen
class UserSession:
    """A signed-in session as listed: never its id's secret."""

    id: int
    user_id: int
    started_at: datetime
    last_seen_at: datetime
    user_agent: str = ""


@attrs.frozen
class SessionPolicy:
    """How long a session lasts: at most ``lifetime`` after the sign-in, and ``idle``
    after its last request."""

    lifetime: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(minutes=30)

    def ends_at(self, session: UserSession) -> datetime:
        """The moment the session ends if nothing more happens."""
        return min(session.started_at + self.lifetime, session.last_seen_at + self.idle)

    def is_over(self, session: UserSession, now: datetime) -> bool:
        return now >= self.ends_at(session)

    def over_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """(started, last seen): a session that started at or before the first, or was
        last seen at or before the second, is over at ``now``."""
        return now - self.lifetime, now - self.idle


#: The shortest and the longest password a user may choose.
PASSWORD_MIN = 10
PASSWORD_MAX = 200


def require_new_password(password: str) -> None:
    """A new password: long enough to resist guessing, short enough to hash, typed."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput("password_too_short", limit=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise InvalidInput("password_too_long", limit=PASSWORD_MAX)
    require_typed_text(password)
