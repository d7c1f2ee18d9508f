"""Moments as the users read them: stored in UTC, shown in Dutch local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: The users' time zone; the platform serves Dutch offices.
LOCAL_TIMEZONE = ZoneInfo("Europe/Amsterdam")


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """``moment`` in the users' time zone."""
    return utc(moment).astimezone(LOCAL_TIMEZONE)


def show_date(moment: datetime) -> str:
    """A date as the overviews show it: 28-11-2026."""
    return f"{local(moment):%d-%m-%Y}"


def show_moment(moment: datetime) -> str:
    """A date with time: 28-11-2026 14:05."""
    return f"{local(moment):%d-%m-%Y %H:%M}"


def show_time(moment: datetime) -> str:
    """A time of day: 14:05."""
    return f"{local(moment):%H:%M}"
