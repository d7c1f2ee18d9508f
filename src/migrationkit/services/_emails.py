"""The product's e-mails, Dutch first and English below, written to the outbox.

Each function returns an ``Email`` with a stable ``kind``; the use case adds it to the outbox
in the same transaction as the change that causes it.

Every value put into an e-mail (an administration's code, name and address as the package
delivered them, a reason, an address) is made one line first (``_line``): a line break in
a name would otherwise break the subject header (the e-mail could never be sent) or add
lines of its own to the body.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import attrs

from migrationkit.domain.dates import show_moment
from migrationkit.domain.model import CODE_PLACEHOLDER, Email, OfferItem, TransferOffer

_SIGNATURE = "-- \nmigrationkit"


def _line(text: str) -> str:
    """``text`` on one line: every run of white space (line breaks of any kind included) one
    space, other control characters left out."""
    spaced = " ".join(text.split())
    return "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc")


def _one_line(item: OfferItem) -> OfferItem:
    """The item with its code, name and address each on one line."""
    return attrs.evolve(item, code=_line(item.code), name=_line(item.name), email=_line(item.email))


def _listing(items: Sequence[OfferItem]) -> str:
    shown = [_one_line(item) for item in items]
    return "\n".join(f"  - {item.code} {item.name} ({item.email})" for item in shown)


def _compose(
    kind: str,
    to: Sequence[str],
    subject: str,
    dutch: str,
    english: str,
    cc: Sequence[str] = (),
    secret: str | None = None,
) -> Email:
    body = f"{dutch.strip()}\n\n---\n\n{english.strip()}\n\n{_SIGNATURE}\n"
    return Email(
        to=tuple(to), cc=tuple(cc), subject=_line(subject), body=body, kind=kind, secret=secret
    )


def _from_sender(offer: TransferOffer) -> TransferOffer:
    """The offer with its sender's address on one line."""
    return attrs.evolve(offer, sender_email=_line(offer.sender_email))


def offer_code(
    offer: TransferOffer, items: Sequence[OfferItem], code: str, portal_url: str
) -> Email:
    """The transfer code to the recipients, with a copy to the sender."""
    offer, portal_url = _from_sender(offer), _line(portal_url)
    expires = show_moment(offer.expires_at)
    return _compose(
        "offer_code",
        offer.recipients,
        "Migratieverzoek: administraties staan voor je klaar / Migration request",
        f"""
{offer.sender_email} biedt je de volgende administratie(s) aan, inclusief archief:

{_listing(items)}

Je overdrachtscode: {CODE_PLACEHOLDER}

Zo rond je de migratie af, als supergebruiker van je eigen omgeving:
1. Ga naar Administraties > + Migreer administratie(s) > Migratie acties.
2. Kies "Haal één of meerdere administratie(s) op uit een andere omgeving" en lees de
   checklist.
3. Vul de overdrachtscode in en ga akkoord met de voorwaarden en de kosten. De kosten
   worden aan jouw omgeving gefactureerd.
4. Kies per administratie de boekhoudkoppeling en de administratie uit het boekhoudpakket,
   en klik op Start migratie.

Let op: voeg de administratie niet rechtstreeks toe vanuit het boekhoudpakket, anders kun je
haar tijdens de migratie niet selecteren. De code vervalt op {expires}.
{portal_url}
""",
        f"""
{offer.sender_email} offers you the following administration(s), archive included:

{_listing(items)}

Your transfer code: {CODE_PLACEHOLDER}

As a super user of your own environment: go to Administrations > + Migrate
administration(s) > Migration actions, choose to take in administrations from another
environment, enter the code, accept the terms and the costs (billed to your environment),
choose the accounting connection and administration for each, and click Start migration.
Do not add the administration straight from the accounting package first. The code
expires on {expires}.
{portal_url}
""",
        cc=(offer.sender_email,),
        secret=code,
    )


def withdrawn(offer: TransferOffer, item: OfferItem) -> Email:
    """To the recipients: the sender took an item back."""
    offer, item = _from_sender(offer), _one_line(item)
    return _compose(
        "offer_withdrawn",
        offer.recipients,
        f"Migratie ingetrokken: {item.name} / Migration withdrawn",
        f"{offer.sender_email} heeft de migratie van {item.code} {item.name} ingetrokken. "
        "De overdrachtscode geldt niet meer voor deze administratie.",
        f"{offer.sender_email} withdrew the migration of {item.code} {item.name}. "
        "The transfer code no longer covers this administration.",
    )


def rejected(offer: TransferOffer, items: Sequence[OfferItem], reason: str | None) -> Email:
    """To the sender: the recipient refused the request or some of its items (R11)."""
    reason = None if reason is None else _line(reason)
    why_nl = f"\nReden: {reason}\n" if reason else ""
    why_en = f"\nReason: {reason}\n" if reason else ""
    return _compose(
        "offer_rejected",
        (offer.sender_email,),
        "Migratieverzoek afgewezen / Migration request rejected",
        f"De ontvangende omgeving heeft de migratie afgewezen van:\n\n{_listing(items)}\n{why_nl}"
        "\nIn het Migratie overzicht staan deze administraties nu op Afgewezen.",
        f"The receiving environment rejected the migration of:\n\n{_listing(items)}\n{why_en}"
        "\nThe Migration overview now shows them as Rejected.",
    )


def expired(offer: TransferOffer, items: Sequence[OfferItem]) -> Email:
    """To the sender: the code expired before these items were taken in (R6)."""
    return _compose(
        "offer_expired",
        (offer.sender_email,),
        "Overdrachtscode verlopen / Transfer code expired",
        f"De overdrachtscode is verlopen voordat deze administraties werden opgehaald:\n\n"
        f"{_listing(items)}\n\nBied ze opnieuw aan als de migratie nog moet plaatsvinden.",
        f"The transfer code expired before these administrations were taken in:\n\n"
        f"{_listing(items)}\n\nOffer them again if the move is still wanted.",
    )


def expiry_reminder(offer: TransferOffer, items: Sequence[OfferItem]) -> Email:
    """To the recipients, some days before the code expires."""
    offer = _from_sender(offer)
    expires = show_moment(offer.expires_at)
    return _compose(
        "offer_expiry_reminder",
        offer.recipients,
        "Herinnering: overdrachtscode verloopt binnenkort / Reminder: transfer code expires soon",
        f"De overdrachtscode voor deze administraties verloopt op {expires}:\n\n"
        f"{_listing(items)}\n\nGebruik de code uit de eerdere e-mail van {offer.sender_email}.",
        f"The transfer code for these administrations expires on {expires}:\n\n"
        f"{_listing(items)}\n\nUse the code from the earlier e-mail from {offer.sender_email}.",
    )


def started(offer: TransferOffer, items: Sequence[OfferItem]) -> Email:
    """To the sender: the recipient started the migration (R13)."""
    return _compose(
        "migration_started",
        (offer.sender_email,),
        "Migratie gestart / Migration started",
        f"De ontvangende omgeving heeft de migratie gestart van:\n\n{_listing(items)}\n\n"
        "De migratie loopt op de achtergrond; je krijgt bericht als ze klaar is.",
        f"The receiving environment started the migration of:\n\n{_listing(items)}\n\n"
        "It runs in the background; you will hear when it is done.",
    )


def completed_to_sender(offer: TransferOffer, item: OfferItem, report_url: str) -> Email:
    """To the sender: the administration left the environment (R13, R14); the link to the
    Migratieverslag."""
    item, report_url = _one_line(item), _line(report_url)
    return _compose(
        "migration_completed",
        (offer.sender_email,),
        f"Migratie voltooid: {item.name} / Migration completed",
        f"De migratie van {item.code} {item.name} is voltooid. De administratie en haar "
        f"archief staan nu in de nieuwe omgeving.\n\nMigratieverslag: {report_url}",
        f"The migration of {item.code} {item.name} is complete. The administration and its "
        f"archive are now in the new environment.\n\nMigration report: {report_url}",
    )


def completed_to_recipient(
    recipient: str, item: OfferItem, target_code: str, report_url: str
) -> Email:
    """To the recipient: done, check the archive and the links, then grant access (R14);
    the link to the Migratieverslag."""
    item, target_code, report_url = _one_line(item), _line(target_code), _line(report_url)
    return _compose(
        "migration_completed",
        (recipient,),
        f"Migratie voltooid: {item.name} / Migration completed",
        f"De migratie van {item.name} (nu code {target_code}) is voltooid.\n\n"
        "Controleer of alles goed is overgezet, zoals het archief en de linkjes in het "
        "boekhoudpakket. Geef jezelf en andere gebruikers daarna toegang via Instellingen > "
        "Administraties > Acties (bewerken) > tabblad Gebruikers > Toegang op Ja.\n\n"
        f"Migratieverslag: {report_url}",
        f"The migration of {item.name} (now code {target_code}) is complete.\n\n"
        "Check that everything came over, such as the archive and the links in the accounting "
        "package. Then grant yourself and other users access via Settings > Administrations > "
        "Actions (edit) > Users tab > Access: Yes.\n\n"
        f"Migration report: {report_url}",
    )


def failed(recipient: str, item: OfferItem, reason: str) -> Email:
    """To the recipient: the migration failed, with the reason; a retry resumes."""
    item, reason = _one_line(item), _line(reason)
    return _compose(
        "migration_failed",
        (recipient,),
        f"Migratie mislukt: {item.name} / Migration failed",
        f"De migratie van {item.code} {item.name} is mislukt.\n\nReden: {reason}\n\n"
        "Start haar opnieuw vanuit het Migratie overzicht; ze gaat verder waar ze stopte.",
        f"The migration of {item.code} {item.name} failed.\n\nReason: {reason}\n\n"
        "Retry it from the Migration overview; it resumes where it stopped.",
    )


def links_not_rewritten(recipient: str, item: OfferItem, target_code: str, reason: str) -> Email:
    """To the recipient: the move is done, but the package's links to the documents could
    not be rewritten; the old links keep working, as they redirect."""
    item = _one_line(item)
    target_code, reason = _line(target_code), _line(reason)
    return _compose(
        "links_not_rewritten",
        (recipient,),
        f"Linkjes niet bijgewerkt: {item.name} / Links not updated",
        f"De migratie van {item.name} (nu code {target_code}) is voltooid, maar de linkjes in "
        f"het boekhoudpakket naar de documenten zijn niet bijgewerkt.\n\nReden: {reason}\n\n"
        "De oude linkjes blijven werken: ze verwijzen door naar de documenten op hun nieuwe "
        "plek.",
        f"The migration of {item.name} (now code {target_code}) is complete, but the links in "
        f"the accounting package to the documents were not updated.\n\nReason: {reason}\n\n"
        "The old links keep working: they redirect to the documents in their new place.",
    )
