"""The Migratie overzicht's lists: what a search finds, a page at a time, newest first.

A search finds a row when each of its words occurs somewhere in the row as shown (a date
as 28-11-2026, the masked code, the status's Dutch or English word), ignoring case. The
texts of a row are folded once, when they are written (``searchable``), and each word is
folded the same way, so every database compares plain lower-case text and no database's
idea of case (SQLite's ``lower()`` knows only ASCII) decides what is found. Accents count as
they are stored: "café" finds "Café", "cafe" does not.

A page ends at a cursor: the place of a row in the order (offered at, item id), newest first,
and the direction to go from there. It is opaque to the user and harmless to hand back: a
cursor that is not one of ours is refused with ``cursor_invalid``.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

import attrs

from migrationkit.domain.codes import mask_code
from migrationkit.domain.dates import show_date
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import ItemStatus, OfferItem, TransferOffer

#: The most rows one page of an overview shows.
PAGE_SIZE = 50
#: Longer than any cursor we hand out.
MAX_CURSOR = 100
#: URL-safe base64 without its padding.
_CURSOR_CHARACTERS = re.compile("[A-Za-z0-9_-]+")

#: The statuses of the recipient's list of migrations still to come; the rest is history.
READY_STATUSES = frozenset({ItemStatus.OFFERED, ItemStatus.QUEUED, ItemStatus.PROCESSING})
HISTORY_STATUSES = frozenset(ItemStatus) - READY_STATUSES


def fold(text: str) -> str:
    """Text as the search compares it: case folded, accents kept."""
    return text.casefold()


def searchable(*texts: str) -> str:
    """One row's texts as one searchable text. Words never hold a line break, so no word
    is found across two texts."""
    return fold("\n".join(texts))


def outgoing_text(offer: TransferOffer, item: OfferItem) -> str:
    """What the sender's search looks in, but the status: the row as the overview shows it."""
    return searchable(
        show_date(offer.created_at),
        item.code,
        item.name,
        item.email,
        *offer.recipients,
        show_date(offer.expires_at),
        mask_code(offer.code_hint),
        item.rejection_reason or "",
    )


def incoming_text(offer: TransferOffer, item: OfferItem, source_environment_name: str) -> str:
    """What the recipient's search looks in, but the status."""
    return searchable(
        show_date(offer.created_at),
        item.code,
        item.name,
        offer.package.label,
        source_environment_name,
    )


@attrs.frozen
class SearchWord:
    """One word of a search: found in a row's text, or naming the row's status as shown
    (an open item whose code expired reads Verlopen, so "verlopen" finds it)."""

    text: str
    statuses: frozenset[ItemStatus]


def search_words(term: str) -> tuple[SearchWord, ...]:
    """The words of a search term (already cleaned by ``clean_search``)."""
    return tuple(
        SearchWord(
            word,
            frozenset(
                s for s in ItemStatus if word in fold(s.label_nl) or word in fold(s.label_en)
            ),
        )
        for word in fold(term).split()
    )


def found(text: str, status: ItemStatus, words: tuple[SearchWord, ...]) -> bool:
    """Whether a row with this text and this status as shown has every word."""
    return all(word.text in text or status in word.statuses for word in words)


@attrs.frozen
class Cursor:
    """A place in an overview: rows older than (``offered_at``, ``item_id``), or newer
    when ``newer``."""

    offered_at: datetime
    item_id: int
    newer: bool = False

    def before(self, offered_at: datetime, item_id: int) -> bool:
        """Whether a row at this place comes on the cursor's side."""
        if self.newer:
            return (offered_at, item_id) > (self.offered_at, self.item_id)
        return (offered_at, item_id) < (self.offered_at, self.item_id)


def encode_cursor(cursor: Cursor) -> str:
    moment = cursor.offered_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
    plain = f"{'n' if cursor.newer else 'o'}{moment}.{cursor.item_id}"
    return base64.urlsafe_b64encode(plain.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """The cursor ``encode_cursor`` made; anything else is refused with ``cursor_invalid``."""
    try:
        if len(text) > MAX_CURSOR or not _CURSOR_CHARACTERS.fullmatch(text):
            raise ValueError(text)
        plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        direction, moment, item_id = plain[0], plain[1:21], plain[22:]
        if direction not in "no" or plain[21] != "." or not item_id.isdigit():
            raise ValueError(text)
        offered_at = datetime.strptime(moment, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
        number = int(item_id)
        if not 0 <= number < 2**63:
            raise ValueError(text)
    except (ValueError, IndexError, binascii.Error):
        raise InvalidInput("cursor_invalid") from None
    cursor = Cursor(offered_at, number, newer=direction == "n")
    if encode_cursor(cursor) != text:  # one spelling per place: ours
        raise InvalidInput("cursor_invalid")
    return cursor
