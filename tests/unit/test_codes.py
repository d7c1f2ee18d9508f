"""R5: transfer codes are random, typable, and kept only as a keyed digest."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrationkit.domain import codes
from migrationkit.domain.errors import InvalidInput

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
SHAPE = re.compile(r"^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}$")
RAW = "7KQ2M9XD0A1BCDEFGHJKMNPZ"


def test_a_code_carries_at_least_100_random_bits() -> None:
    assert codes.LENGTH * math.log2(len(set(codes.ALPHABET))) >= 100
    assert codes.BITS >= 100


def test_the_alphabet_has_no_letters_that_read_as_digits_or_each_other() -> None:
    assert len(set(codes.ALPHABET)) == 32
    assert not set("ILOU") & set(codes.ALPHABET)


def test_a_new_code_is_six_groups_of_four_from_the_alphabet() -> None:
    assert SHAPE.match(codes.new_code())


def test_new_codes_come_from_the_secrets_module(monkeypatch: pytest.MonkeyPatch) -> None:
    picks = iter(codes.ALPHABET * 2)
    monkeypatch.setattr("migrationkit.domain.codes.secrets.choice", lambda alphabet: next(picks))

    assert codes.new_code() == "0123-4567-89AB-CDEF-GHJK-MNPQ"


def test_new_codes_differ() -> None:
    assert len({codes.new_code() for _ in range(1000)}) == 1000


def test_a_grouped_code_normalises_to_its_characters() -> None:
    assert codes.normalise_code(codes.format_code(RAW)) == RAW


@pytest.mark.parametrize(
    "typed",
    [
        "7kq2-m9xd-0a1b-cdef-ghjk-mnpz",
        "7KQ2 M9XD 0A1B CDEF GHJK MNPZ",
        "  7KQ2M9XD0A1BCDEFGHJKMNPZ\n",
        "7KQ2--M9XD_0A1B\tCDEF-GHJK-MNPZ",
        "7KQ2-M9XD-OA1B-CDEF-GHJK-MNPZ",  # O for 0
        "7KQ2-M9XD-0AIB-CDEF-GHJK-MNPZ",  # I for 1
        "7KQ2-M9XD-0alb-CDEF-GHJK-MNPZ",  # l for 1
    ],
)
def test_typing_ignores_case_dashes_spaces_and_reads_o_i_l_as_digits(typed: str) -> None:
    assert codes.normalise_code(typed) == RAW


@given(
    st.text(alphabet=codes.ALPHABET, min_size=24, max_size=24),
    st.lists(st.sampled_from(["-", " ", ""]), min_size=24, max_size=24),
    st.lists(st.booleans(), min_size=24, max_size=24),
)
def test_any_casing_and_spacing_of_a_code_normalises_to_it(
    raw: str, separators: list[str], lowered: list[bool]
) -> None:
    typed = "".join(
        (ch.lower() if low else ch) + sep
        for ch, sep, low in zip(raw, separators, lowered, strict=True)
    )
    assert codes.normalise_code(typed) == raw


@pytest.mark.parametrize(
    ("typed", "given"),
    [
        ("", 0),
        ("7KQ2-M9XD-0A1B-CDEF-GHJK", 20),
        ("7KQ2-M9XD-0A1B-CDEF-GHJK-MNPZ-X", 25),
    ],
)
def test_a_code_of_the_wrong_length_is_told_how_many_characters_it_has(
    typed: str, given: int
) -> None:
    with pytest.raises(InvalidInput) as caught:
        codes.normalise_code(typed)

    assert caught.value.code == "code_malformed"
    assert caught.value.params == {"given": given, "length": 24}


@pytest.mark.parametrize(
    ("typed", "character"),
    [
        ("7KQ2-M9XD-0A1B-CDEF-GHJK-MNPU", "U"),  # U is not in the alphabet
        ("7KQ2-M9XD-0A1B-CDEF-GHJK-MNP!", "!"),
        ("7KQ2-M9XD-0A1B-CDEF-GHJK-MNPÉ", "É"),
        ("U", "U"),  # the character is named before the length
    ],
)
def test_a_character_outside_the_alphabet_is_named(typed: str, character: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        codes.normalise_code(typed)

    assert caught.value.code == "code_invalid_character"
    assert caught.value.params["character"] == character


def test_the_digest_is_a_keyed_hmac_that_does_not_contain_the_code() -> None:
    digest = codes.digest_code(RAW, SECRET)

    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert RAW not in digest.upper()
    assert digest == codes.digest_code(RAW, SECRET)


def test_the_digest_differs_per_secret_and_per_code() -> None:
    other_code = RAW[:-1] + "Y"

    assert codes.digest_code(RAW, SECRET) != codes.digest_code(RAW, OTHER_SECRET)
    assert codes.digest_code(RAW, SECRET) != codes.digest_code(other_code, SECRET)


def test_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr("migrationkit.domain.codes.hmac.compare_digest", spy)
    digest = codes.digest_code(RAW, SECRET)

    assert codes.digests_match(digest, digest)
    assert not codes.digests_match(digest, codes.digest_code(RAW, OTHER_SECRET))
    assert len(compared) == 2


def test_the_hint_is_the_last_group() -> None:
    assert codes.code_hint(RAW) == "MNPZ"


def test_the_masked_code_shows_only_the_last_group() -> None:
    masked = codes.mask_code(codes.code_hint(RAW))

    assert masked == "••••-••••-••••-••••-••••-MNPZ"
    for group in ("7KQ2", "M9XD", "0A1B", "CDEF", "GHJK"):
        assert group not in masked
