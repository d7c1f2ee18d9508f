"""Transfer codes (R5): random, typable, kept only as a keyed digest.

A code is 24 characters of Crockford's base32 (no I, L, O or U), 120 random bits from
``secrets``, shown in six groups of four: ``7KQ2-M9XD-...``. When typed, case, spaces and
dashes are ignored, and the letters people confuse with digits (O, I, L) are read as the
digits (0, 1, 1). Only an HMAC-SHA256 of the normalised code with the server's secret is
stored, and digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

import attrs

from migrationkit.domain.errors import InvalidInput

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH: Final = 24
GROUP: Final = 4
#: Bits of randomness in one code: 24 characters of 5 bits.
BITS: Final = LENGTH * 5
HINT_LENGTH: Final = 4
#: The shortest server secret accepted for the keyed digests (codes, tokens, sessions).
MIN_SECRET_BYTES: Final = 32

_TYPOS: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED: Final = str.maketrans("", "", "- \t\u00a0_")


def new_code() -> str:
    """A fresh code, grouped for reading: ``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_code(raw)


def format_code(normalised: str) -> str:
    """Group a normalised code in fours, joined by dashes."""
    return "-".join(normalised[i : i + GROUP] for i in range(0, len(normalised), GROUP))


def normalise_code(typed: str) -> str:
    """The canonical form of a typed code; refuses what cannot be a code.

    Raises ``InvalidInput("code_invalid_character")`` naming the first character outside the
    alphabet, else ``InvalidInput("code_malformed")`` with the length typed for a wrong
    length, so the user hears which typo it is; either still counts as a wrong code (R7).
    """
    code = typed.strip().upper().translate(_IGNORED).translate(_TYPOS)
    wrong = next((ch for ch in code if ch not in ALPHABET), None)
    if wrong is not None:
        raise InvalidInput("code_invalid_character", character=wrong, length=LENGTH)
    if len(code) != LENGTH:
        raise InvalidInput("code_malformed", length=LENGTH, given=len(code))
    return code


def digest_code(normalised: str, secret: bytes) -> str:
    """The keyed digest that is stored instead of the code."""
    return hmac.new(secret, normalised.encode("ascii"), hashlib.sha256).hexdigest()


def digests_match(stored: str, candidate: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(stored.encode("ascii"), candidate.encode("ascii"))


@attrs.frozen
class IssuedCode:
    """A fresh code as the sender sees it once, and the two things stored of it."""

    code: str = attrs.field(repr=False)
    digest: str
    hint: str


def issue_code(secret: bytes) -> IssuedCode:
    """A new code with its keyed digest and hint (R5)."""
    code = new_code()
    normalised = normalise_code(code)
    return IssuedCode(code, digest_code(normalised, secret), code_hint(normalised))


def code_hint(normalised: str) -> str:
    """The last characters of a code, kept to show it masked."""
    return normalised[-HINT_LENGTH:]


def mask_code(hint: str) -> str:
    """How the overview shows a code: every group hidden but the last."""
    hidden = ["\u2022" * GROUP] * (LENGTH // GROUP - 1)
    return "-".join([*hidden, hint])
