"""The overviews' words and cursors (domain.overviews)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import ItemStatus
from migrationkit.domain.overviews import (
    MAX_CURSOR,
    Cursor,
    decode_cursor,
    encode_cursor,
    search_words,
    searchable,
)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)


@given(moments, st.integers(min_value=0, max_value=2**63 - 1), st.booleans())
def test_a_cursor_comes_back_as_it_was_handed_out(
    moment: datetime, item_id: int, newer: bool
) -> None:
    cursor = Cursor(moment, item_id, newer=newer)

    text = encode_cursor(cursor)

    assert decode_cursor(text) == cursor
    assert len(text) <= MAX_CURSOR
    assert text.isascii()
    assert all(c.isalnum() or c in "-_" for c in text)


def read(text: str) -> Cursor | str:
    """The cursor, or the refusal's code."""
    try:
        return decode_cursor(text)
    except InvalidInput as refused:
        return refused.code


@given(st.text(max_size=120) | st.text(alphabet="AZaz09-_=+/.", max_size=40))
def test_any_other_text_is_refused_as_a_cursor(text: str) -> None:
    found = read(text)

    assert found == "cursor_invalid" or (isinstance(found, Cursor) and encode_cursor(found) == text)


def test_a_search_word_names_the_statuses_whose_label_holds_it() -> None:
    [verlopen, wacht, xyz] = search_words("VERLOPEN wacht xyz")

    assert verlopen.text == "verlopen"
    assert verlopen.statuses == {ItemStatus.EXPIRED}
    assert wacht.statuses == {ItemStatus.QUEUED}
    assert xyz.statuses == frozenset()


def test_a_searchable_text_is_folded_and_keeps_its_accents() -> None:
    assert searchable("Café", "STRAßE") == "café\nstrasse"


@pytest.mark.parametrize("term", ["", "   "])
def test_an_empty_search_has_no_words(term: str) -> None:
    assert search_words(term) == ()
