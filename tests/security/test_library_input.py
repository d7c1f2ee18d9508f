"""What the library refuses of typed text before it reaches a database, whichever channel
it came through (portal, API, an embedding backend): invisible characters (a NUL byte, an
escape, half a surrogate pair, none of which anybody types and which PostgreSQL refuses) and
over-long file names. Tabs and line breaks are typed, and pass, except in a file name, which
is one line (it goes into a header of the document's answer) and refuses direction marks
too (they make ``factuur<U+202E>fdp.exe`` look like ``factuurexe.pdf``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from migrationkit.domain.api_tokens import clean_api_token_name
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.rules import (
    MAX_FILENAME,
    clean_filename,
    clean_reason,
    clean_search,
    has_invisible_characters,
    require_valid_recipients,
)

INVISIBLE = ["a\x00b", "a\x1b[31mb", "a\x7fb", "half \ud800 a pair", "\x08"]
TYPED = ["Bakkerij De Korenschoof", "regel één\nregel twee", "kolom\tkolom", "café ☕", ""]


@pytest.mark.parametrize("text", INVISIBLE, ids=repr)
def test_control_characters_and_lone_surrogates_are_invisible(text: str) -> None:
    assert has_invisible_characters(text)


@pytest.mark.parametrize("text", TYPED, ids=repr)
def test_what_people_type_is_not(text: str) -> None:
    assert not has_invisible_characters(text)


@pytest.mark.parametrize(
    "clean",
    [
        clean_search,
        clean_reason,
        clean_api_token_name,
        lambda text: require_valid_recipients([f"zuid{text}@example.nl"]),
    ],
    ids=["search", "reason", "API token name", "recipient"],
)
@pytest.mark.parametrize("text", INVISIBLE, ids=repr)
def test_typed_text_with_invisible_characters_is_refused_without_repeating_it(
    clean: Callable[[str], object], text: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean(text)

    assert refused.value.code == "invisible_characters"
    assert refused.value.params == {}  # so its message cannot repeat the text


NOT_ONE_LINE = ["a\r\nb.pdf", "a\nb.pdf", "a\tb.pdf", "a\u2028b.pdf", "factuur\u202efdp.exe"]


@pytest.mark.parametrize("text", INVISIBLE + NOT_ONE_LINE, ids=repr)
def test_a_file_name_with_invisible_characters_or_line_breaks_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_filename(text)

    assert refused.value.code == "filename_invisible_characters"
    assert text not in refused.value.message("nl")


@pytest.mark.parametrize("text", NOT_ONE_LINE, ids=repr)
def test_line_breaks_and_direction_marks_are_invisible_in_one_line_text_only(text: str) -> None:
    assert has_invisible_characters(text, one_line=True)
    assert not has_invisible_characters(text)


def test_a_file_name_is_trimmed_and_bounded() -> None:
    assert clean_filename("  factuur 2026-11.pdf ") == "factuur 2026-11.pdf"
    assert clean_filename("   ") == "document"
    assert clean_filename("f" * MAX_FILENAME) == "f" * MAX_FILENAME
    with pytest.raises(InvalidInput) as refused:
        clean_filename("f" * (MAX_FILENAME + 1))
    assert refused.value.code == "filename_too_long"
    assert refused.value.params == {"limit": MAX_FILENAME}
