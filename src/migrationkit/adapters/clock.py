"""The real clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The machine's time, as an aware UTC datetime."""

    def now(self) -> datetime:
        return datetime.now(UTC)
