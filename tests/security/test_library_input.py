"""What the library refuses of typed text before it reaches a database, whichever channel
it came through (portal, API, an embedding backend): invisible characters (a NUL byte, an
escape, half a surrogate pair, none of which anybody types and which PostgreSQL refuses) and
over-long file names. Tabs and line breaks are typed, and pass."""

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
        clean_filename,
        clean_api_token_name,
        lambda text: require_valid_recipients([f"zuid{text}@example.nl"]),
    ],
    ids=["search", "reason", "file name", "API token name", "recipient"],
)
@pytest.mark.parametrize("text", INVISIBLE, ids=repr)
def test_typed_text_with_invisible_characters_is_refused_without_repeating_it(
    clean: Callable[[str], object], text: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean(text)

    assert refused.value.code == "invisible_characters"
    assert refused.value.message("nl") == (
        "Dit bevat onzichtbare tekens, zoals een NUL-teken. Typ het opnieuw."
    )
    assert refused.value.message("en") == (
        "This holds invisible characters, such as a NUL character. Type it again."
    )


def test_a_file_name_is_trimmed_and_bounded() -> None:
    assert clean_filename("  factuur 2026-11.pdf ") == "factuur 2026-11.pdf"
    assert clean_filename("   ") == "document"
    assert clean_filename("f" * MAX_FILENAME) == "f" * MAX_FILENAME
    with pytest.raises(InvalidInput) as refused:
        clean_filename("f" * (MAX_FILENAME + 1))
    assert refused.value.code == "filename_too_long"
    assert str(refused.value) == "De bestandsnaam is te lang (hoogstens 255 tekens)."
