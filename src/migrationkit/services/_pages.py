"""The overviews' pages: a search and a cursor in, a page of rows and the cursors around it
out, in a fixed number of statements whatever the number of offers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import ItemStatus
from migrationkit.domain.overviews import (
    PAGE_SIZE,
    Cursor,
    decode_cursor,
    encode_cursor,
    search_words,
)
from migrationkit.domain.rules import clean_search
from migrationkit.ports import OverviewEntry, OverviewQuery

Row = TypeVar("Row")


@attrs.frozen
class OverviewPage(Generic[Row]):
    """One page of an overview, newest first. ``older`` is the cursor of the page after it
    (Volgende), ``newer`` of the page before it (Vorige); None where there is none."""

    rows: tuple[Row, ...]
    older: str | None
    newer: str | None


def overview_query(
    *,
    search: str | None,
    cursor: str | None,
    limit: int,
    now: datetime,
    statuses: Collection[ItemStatus] | None = None,
) -> OverviewQuery:
    """What the repository is asked, checked before anything is read (refused with
    ``search_too_long``, ``cursor_invalid`` or ``page_size_invalid``): one row more than
    the page holds, to know whether another page follows."""
    words = search_words(clean_search(search))
    if not 1 <= limit <= PAGE_SIZE:
        raise InvalidInput("page_size_invalid", limit=PAGE_SIZE)
    return OverviewQuery(
        words,
        now,
        limit + 1,
        None if cursor is None else decode_cursor(cursor),
        None if statuses is None else frozenset(statuses),
    )


def paged(
    entries: Sequence[OverviewEntry], query: OverviewQuery
) -> tuple[list[OverviewEntry], str | None, str | None]:
    """The page's entries newest first, and the cursors to the pages after and before it.

    The repository gave the rows nearest the cursor first, one more than the page holds
    when there are more on that side."""
    limit, cursor = query.limit - 1, query.cursor
    more = len(entries) > limit
    shown = list(entries[:limit])
    going_back = cursor is not None and cursor.newer
    if going_back:
        shown.reverse()
    if not shown:
        if cursor is None:
            return [], None, None
        # Past an end (the search changed on the way): the way back starts at the cursor's
        # own row, one item id beyond it.
        beyond = cursor.item_id + (1 if going_back else -1)
        back = encode_cursor(Cursor(cursor.offered_at, beyond, newer=not going_back))
        return [], (back if going_back else None), (None if going_back else back)
    first, last = shown[0], shown[-1]
    older = encode_cursor(Cursor(last.offer.created_at, last.item.id))
    newer = encode_cursor(Cursor(first.offer.created_at, first.item.id, newer=True))
    if going_back:
        return shown, older, newer if more else None
    return shown, older if more else None, newer if cursor is not None else None
