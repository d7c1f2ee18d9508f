"""The product's e-mails, each in its recipients' language, written to the outbox.

The texts are templates shipped in the package (``email_texts/<template>.<language>.txt``,
``string.Template``): the first line is the subject, the body follows a blank line. Each
function here returns a ``Letter``: which template, to whom, with which values; ``post``
writes it to the outbox in the use case's transaction, as one e-mail per language among its
recipients. A recipient who is a user gets the language they chose in the portal; anyone
else the language of the user the letter comes from (its ``sender``), else Dutch. The HTML
alternative is made from the text when it is sent (``Email.html``).

Every value put into an e-mail (an administration's code, name and address as the package
delivered them, a reason, an address) is made one line first (``_line``): a line break in
a name would otherwise break the subject header (the e-mail could never be sent) or add
lines of its own to the body.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from string import Template

import attrs

from migrationkit.domain.dates import show_moment
from migrationkit.domain.emails import LANGUAGES, known_language
from migrationkit.domain.model import CODE_PLACEHOLDER, Email, OfferItem, TransferOffer
from migrationkit.ports import UnitOfWork

_SIGNATURE = "-- \nmigrationkit"

#: A value that reads differently per language (a refusal's reason): called with it.
Wording = Callable[[str], str]


@attrs.frozen
class Letter:
    """An e-mail before it is written in its recipients' languages."""

    template: str
    kind: str
    to: tuple[str, ...]
    values: Mapping[str, str | Wording]
    cc: tuple[str, ...] = ()
    #: Whose language the recipients who are not users get: the user it comes from.
    sender: str | None = None
    secret: str | None = attrs.field(default=None, repr=False)


def _line(text: str) -> str:
    """``text`` on one line: every run of white space (line breaks of any kind included) one
    space, other control characters left out."""
    spaced = " ".join(text.split())
    return "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc")


@cache
def _text(name: str, language: str) -> str:
    path = resources.files(__package__).joinpath("email_texts", f"{name}.{language}.txt")
    return path.read_text(encoding="utf-8")


def _template(name: str, language: str) -> tuple[Template, Template]:
    """The subject's template and the body's."""
    subject, _, body = _text(name, language).partition("\n\n")
    return Template(subject.strip()), Template(body.strip())


def _render(letter: Letter, language: str) -> Email:
    values = {
        name: value(language) if callable(value) else value for name, value in letter.values.items()
    }
    subject, body = _template(letter.template, language)
    return Email(
        to=letter.to,
        cc=letter.cc,
        subject=_line(subject.substitute(values)),
        body=f"{body.substitute(values)}\n\n{_SIGNATURE}\n",
        kind=letter.kind,
        secret=letter.secret,
        language=language,
    )


def post(uow: UnitOfWork, letter: Letter, at: datetime) -> None:
    """Writes ``letter`` to the outbox: one e-mail per language among its recipients, each
    with those of its addressees who read that language (a copy goes to the others as
    ``to`` when no main addressee reads it)."""
    everyone = (*letter.to, *letter.cc, *((letter.sender,) if letter.sender else ()))
    chosen = uow.users.languages(everyone)
    fallback = known_language(chosen.get(letter.sender.lower()) if letter.sender else None)

    def reads(address: str, language: str) -> bool:
        return known_language(chosen.get(address.lower(), fallback)) == language

    for language in LANGUAGES:
        to = tuple(address for address in letter.to if reads(address, language))
        cc = tuple(address for address in letter.cc if reads(address, language))
        if to or cc:
            addressed = attrs.evolve(letter, to=to or cc, cc=cc if to else ())
            uow.outbox.add(_render(addressed, language), at)


def _listing(items: Sequence[OfferItem]) -> str:
    return "\n".join(
        f"- {_line(item.code)} {_line(item.name)} ({_line(item.email)})" for item in items
    )


def _about(item: OfferItem) -> dict[str, str]:
    return {"code": _line(item.code), "name": _line(item.name)}


def _one_line_reason(reason: str | Wording) -> str | Wording:
    """A reason given as text, or in the reader's language, on one line."""
    if isinstance(reason, str):
        return _line(reason)
    return lambda language: _line(reason(language))


def _reason(reason: str | None) -> Wording:
    """The optional "Reden: ..." paragraph."""
    if reason is None or not reason.strip():
        return lambda language: ""
    one_line = _line(reason)
    return lambda language: Template(_text("reason", language)).substitute(reason=one_line)


def offer_code(
    offer: TransferOffer, items: Sequence[OfferItem], code: str, portal_url: str
) -> Letter:
    """The transfer code to the recipients, with a copy to the sender."""
    sender = _line(offer.sender_email)
    return Letter(
        "offer_code",
        "offer_code",
        offer.recipients,
        {
            "sender": sender,
            "listing": _listing(items),
            "code": CODE_PLACEHOLDER,
            "expires": show_moment(offer.expires_at),
            "portal_url": _line(portal_url),
        },
        cc=(offer.sender_email,),
        sender=offer.sender_email,
        secret=code,
    )


def withdrawn(offer: TransferOffer, item: OfferItem) -> Letter:
    """To the recipients: the sender took an item back."""
    return Letter(
        "offer_withdrawn",
        "offer_withdrawn",
        offer.recipients,
        {"sender": _line(offer.sender_email), **_about(item)},
        sender=offer.sender_email,
    )


def rejected(offer: TransferOffer, items: Sequence[OfferItem], reason: str | None) -> Letter:
    """To the sender: the recipient refused the request or some of its items (R11)."""
    return Letter(
        "offer_rejected",
        "offer_rejected",
        (offer.sender_email,),
        {"listing": _listing(items), "reason": _reason(reason)},
        sender=offer.sender_email,
    )


def expired(offer: TransferOffer, items: Sequence[OfferItem]) -> Letter:
    """To the sender: the code expired before these items were taken in (R6)."""
    return Letter(
        "offer_expired",
        "offer_expired",
        (offer.sender_email,),
        {"listing": _listing(items)},
        sender=offer.sender_email,
    )


def expiry_reminder(offer: TransferOffer, items: Sequence[OfferItem]) -> Letter:
    """To the recipients, some days before the code expires."""
    return Letter(
        "offer_expiry_reminder",
        "offer_expiry_reminder",
        offer.recipients,
        {
            "expires": show_moment(offer.expires_at),
            "listing": _listing(items),
            "sender": _line(offer.sender_email),
        },
        sender=offer.sender_email,
    )


def started(offer: TransferOffer, items: Sequence[OfferItem]) -> Letter:
    """To the sender: the recipient started the migration (R13)."""
    return Letter(
        "migration_started",
        "migration_started",
        (offer.sender_email,),
        {"listing": _listing(items)},
        sender=offer.sender_email,
    )


def completed_to_sender(offer: TransferOffer, item: OfferItem, report_url: str) -> Letter:
    """To the sender: the administration left the environment (R13, R14); the link to the
    Migratieverslag."""
    return Letter(
        "completed_to_sender",
        "migration_completed",
        (offer.sender_email,),
        {**_about(item), "report_url": _line(report_url)},
        sender=offer.sender_email,
    )


def completed_to_recipient(
    recipient: str, item: OfferItem, target_code: str, report_url: str
) -> Letter:
    """To the recipient: done, check the archive and the links, then grant access (R14);
    the link to the Migratieverslag."""
    return Letter(
        "completed_to_recipient",
        "migration_completed",
        (recipient,),
        {**_about(item), "target_code": _line(target_code), "report_url": _line(report_url)},
        sender=recipient,
    )


def failed(recipient: str, item: OfferItem, reason: str | Wording) -> Letter:
    """To the recipient: the migration failed, with the reason; a retry resumes."""
    return Letter(
        "migration_failed",
        "migration_failed",
        (recipient,),
        {**_about(item), "reason": _one_line_reason(reason)},
        sender=recipient,
    )


def links_not_rewritten(
    recipient: str, item: OfferItem, target_code: str, reason: str | Wording
) -> Letter:
    """To the recipient: the move is done, but the package's links to the documents could
    not be rewritten; the old links keep working, as they redirect."""
    return Letter(
        "links_not_rewritten",
        "links_not_rewritten",
        (recipient,),
        {
            **_about(item),
            "target_code": _line(target_code),
            "reason": _one_line_reason(reason),
        },
        sender=recipient,
    )
