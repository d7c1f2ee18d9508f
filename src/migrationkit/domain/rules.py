"""The rules R1-R16 as small named functions: each returns nothing or raises a refusal.

They take domain values that the use case has loaded, and never do I/O. Each docstring
names its rule, as numbered in DESIGN.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from migrationkit.domain.dates import show_moment, show_time
from migrationkit.domain.errors import (
    InvalidInput,
    Locked,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    AuthorizationFlow,
    Charge,
    Connection,
    Environment,
    ItemStatus,
    Migration,
    OfferItem,
    PackageAdministration,
    TransferOffer,
    User,
)

#: Bounds on what a user types: a rejection's reason, a search term, the recipients, the
#: name of an uploaded file.
MAX_REASON = 1000
MAX_SEARCH = 200
MAX_RECIPIENTS = 20
MAX_FILENAME = 255
#: The longest e-mail address (RFC 5321's path limit less its angle brackets); the users
#: table holds no longer.
MAX_EMAIL = 254

# A pragmatic address check: one @, a dot in the domain, no spaces or angle brackets.
_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"'.]+(\.[^@\s<>,;\"'.]+)+$")


def require_super_user(
    user: User, environment_id: int, unknown: str = "unknown_environment"
) -> None:
    """R1: only a super user of the environment concerned may act on its migrations. The
    role is judged first; another environment is, to the user, ``unknown``: the refusal of
    the object they asked for, exactly as if it did not exist (NotFound), so that no answer
    tells another environment's objects from missing ones."""
    if not user.is_super_user:
        raise NotAllowed("not_super_user")
    if user.environment_id != environment_id:
        raise NotFound(unknown)


def require_same_package(package: AccountingPackage, target: Connection) -> None:
    """R2: an administration of ``package`` only goes to a connection of the same package."""
    if package is not target.package:
        raise RuleViolation(
            "package_mismatch",
            source_package=package.label,
            target_package=target.package.label,
        )


def require_one_source(connection: Connection, administrations: Sequence[Administration]) -> None:
    """R3: an offer holds one or more administrations, all from its one source connection."""
    if not administrations:
        raise InvalidInput("no_administrations")
    seen: set[int] = set()
    for administration in administrations:
        if administration.id in seen:
            raise InvalidInput(
                "duplicate_administration", code=administration.code, name=administration.name
            )
        seen.add(administration.id)
        if administration.connection_id != connection.id:
            raise RuleViolation(
                "administration_not_in_connection",
                code=administration.code,
                name=administration.name,
            )


def require_not_in_open_offer(
    administration: Administration, open_items: Iterable[OfferItem]
) -> None:
    """R4: an administration stands in at most one open offer at a time."""
    for item in open_items:
        if item.administration_id == administration.id and item.status.is_open:
            raise RuleViolation(
                "already_offered", code=administration.code, name=administration.name
            )


def is_expired(offer: TransferOffer, now: datetime) -> bool:
    """R6: a code expires when its expiry moment has passed."""
    return now >= offer.expires_at


def displayed_status(item: OfferItem, offer: TransferOffer, now: datetime) -> ItemStatus:
    """R6: an item still Aangeboden after its code expired reads Verlopen, even before the
    sweeper has recorded it."""
    if item.status is ItemStatus.OFFERED and is_expired(offer, now):
        return ItemStatus.EXPIRED
    return item.status


def expiry_of(created_at: datetime, valid_for: timedelta) -> datetime:
    """R6: the moment an offer made at ``created_at`` expires (15 days by default)."""
    return created_at + valid_for


def require_not_expired(offer: TransferOffer, now: datetime) -> None:
    """R6: an expired code is refused, and says when it expired."""
    if is_expired(offer, now):
        raise RuleViolation("code_expired", expired_at=show_moment(offer.expires_at))


def require_may_take_in(
    user: User, environment: Environment, *, accepted_terms: bool, accepted_costs: bool
) -> None:
    """R7: taking in needs a super user of an environment with a subscription, who accepted
    the terms and the costs. Checked before the code is looked at, so these refusals cost no
    attempt against the lockout."""
    require_super_user(user, environment.id)
    require_subscription(environment)
    if not accepted_terms:
        raise InvalidInput("terms_not_accepted")
    if not accepted_costs:
        raise InvalidInput("costs_not_accepted")


def require_subscription(environment: Environment) -> None:
    """R7: only an environment with a subscription takes administrations in (at redeeming,
    and again at the start, since it pays for each one: R15)."""
    if not environment.has_subscription:
        raise RuleViolation("no_subscription", environment=environment.name)


def require_redeemable(
    offer: TransferOffer, items: Sequence[OfferItem], environment: Environment, now: datetime
) -> None:
    """R3, R6, R7: a code goes to another environment than the sender's, to one environment
    only, before it expires, while something in it is still open."""
    if environment.id == offer.source_environment_id:
        raise RuleViolation("own_environment")
    if offer.target_environment_id not in (None, environment.id):
        raise RuleViolation("code_used")
    statuses = {item.status for item in items}
    if statuses == {ItemStatus.WITHDRAWN}:
        raise RuleViolation("code_withdrawn")
    if ItemStatus.OFFERED in statuses:
        require_not_expired(offer, now)
    elif offer.target_environment_id is None:
        # Nothing offered and never redeemed: withdrawn, rejected or expired items only.
        if ItemStatus.EXPIRED in statuses:
            require_not_expired(offer, now)
        raise RuleViolation("code_nothing_open")


def require_unique_code_name(
    environment: Environment, code: str, name: str, present: Iterable[Administration]
) -> None:
    """R8: one administration per (code, name) pair per environment at a time.

    The database holds the same rule with a unique constraint, so a race cannot break it.
    """
    for administration in present:
        if (
            administration.environment_id == environment.id
            and administration.code == code
            and administration.name == name
        ):
            raise RuleViolation(
                "code_name_taken", environment=environment.name, code=code, name=name
            )


def require_package_administration_available(
    connection: Connection,
    package_admin_id: str,
    found: PackageAdministration | None,
    linked: Iterable[Administration],
) -> PackageAdministration:
    """R9: the target administration exists in the target connection (the connector said
    so) and is not linked in the target environment yet."""
    if found is None:
        raise RuleViolation(
            "package_administration_missing",
            package_admin_id=package_admin_id,
            connection=connection.name,
        )
    for administration in linked:
        if (
            administration.connection_id == connection.id
            and administration.package_admin_id == found.package_admin_id
        ):
            raise RuleViolation("package_administration_linked", code=found.code, name=found.name)
    return found


def require_no_authorizers_in_flow(
    administration: Administration, flows: Iterable[AuthorizationFlow]
) -> None:
    """R10: users and authorizers never move, so an administration with authorizers in an
    authorization flow cannot be offered; the refusal names the flows."""
    names = sorted(
        flow.name
        for flow in flows
        if flow.administration_id == administration.id and flow.has_authorizers
    )
    if names:
        raise RuleViolation(
            "authorizers_in_flow",
            code=administration.code,
            name=administration.name,
            flows=", ".join(names),
        )


def require_recipient(offer: TransferOffer, user: User, unknown: str = "unknown_offer") -> None:
    """R11 and R13: only a super user of the environment that redeemed the code may reject
    or start its items; to anyone else's super user the offer (or ``unknown``, the object
    asked for) does not exist."""
    require_super_user(user, offer.target_environment_id or 0, unknown)


def require_sender(offer: TransferOffer, user: User, unknown: str = "unknown_offer") -> None:
    """R12 and resend: only a super user of the offering environment may withdraw or
    resend; to another environment's the offer (or ``unknown``) does not exist."""
    require_super_user(user, offer.source_environment_id, unknown)


def moved_administration(
    administration: Administration,
    target: Connection,
    package_administration: PackageAdministration,
) -> Administration:
    """R14: the administration as it stands in the target: same id, e-mail and documents,
    the target's environment and connection, the package's (maybe changed) code and name."""
    return attrs.evolve(
        administration,
        environment_id=target.environment_id,
        connection_id=target.id,
        code=package_administration.code,
        name=package_administration.name,
        package_admin_id=package_administration.package_admin_id,
    )


def charge_for(migration: Migration, at: datetime) -> Charge:
    """R15: exactly one charge per moved administration, billed to the target environment;
    keyed by the migration, so finishing twice cannot bill twice."""
    return Charge(
        migration_id=migration.id,
        environment_id=migration.target_environment_id,
        administration_id=migration.administration_id,
        charged_at=at,
    )


def require_relink(
    user: User,
    administration: Administration,
    target: Connection,
    package_administration: PackageAdministration,
) -> None:
    """R16: a super user re-points an administration of their own environment to another
    administration of the same package, in a connection of the same environment."""
    require_super_user(user, administration.environment_id, "unknown_administration")
    if target.environment_id != administration.environment_id:
        raise NotFound("unknown_connection")
    require_same_package(administration.package, target)
    if (
        administration.connection_id == target.id
        and administration.package_admin_id == package_administration.package_admin_id
    ):
        raise RuleViolation(
            "relink_same_target", code=administration.code, name=administration.name
        )


#: Characters that turn the direction of the text around it: in a file name they make
#: ``factuur<U+202E>fdp.exe`` show as ``factuurexe.pdf``.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def has_invisible_characters(text: str, *, one_line: bool = False) -> bool:
    """Whether ``text`` holds characters nobody types and a database may refuse: control
    characters (a NUL byte, an escape) or half of a surrogate pair. Tabs and line breaks
    are typed, except in ``one_line`` text (a name), which refuses them, Unicode's line and
    paragraph separators, and the controls of the text's direction too."""
    typed = "" if one_line else "\t\n\r"
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") and ch not in typed:
            return True
        if one_line and (category in ("Zl", "Zp") or ch in BIDI_CONTROLS):
            return True
    return False


def require_typed_text(text: str) -> None:
    """Refuses text with invisible characters, without repeating it."""
    if has_invisible_characters(text):
        raise InvalidInput("invisible_characters")


def _deliverable_domain(domain: str) -> bool:
    """Whether mail can be sent to ``domain``: ASCII, or an internationalised name (such as
    exämple.nl) that the SMTP mailer writes in its ASCII form (IDNA, ``xn--``) for servers
    that take no other. Each label of such a name holds only letters, digits, marks and
    hyphens, and the name passes the standard library's IDNA check (lengths, the rule for
    right-to-left scripts); the mailer encodes it by IDNA 2008 (the ``idna`` package)."""
    if domain.isascii():
        return True
    labels = unicodedata.normalize("NFC", domain).split(".")
    if not all(label and all(_idn_character(ch) for ch in label) for label in labels):
        return False
    try:
        domain.encode("idna")
    except UnicodeError:
        return False
    return True


#: What a label of an internationalised domain may hold besides ASCII letters, digits and
#: the hyphen: letters (capitals are written small), marks and decimal digits.
_IDN_CATEGORIES = frozenset({"Ll", "Lu", "Lo", "Lm", "Mn", "Mc", "Nd"})


def _idn_character(ch: str) -> bool:
    if ch.isascii():
        return ch == "-" or ch.isalnum()
    return unicodedata.category(ch) in _IDN_CATEGORIES


def require_valid_recipients(addresses: Sequence[str]) -> tuple[str, ...]:
    """The e-mail addresses of an offer's recipients, cleaned; refuses a malformed one, and
    one that not every mail server can take: a local part (before the @) that is not ASCII.
    A domain that is not ASCII is taken: the mailer writes it in its IDNA form."""
    cleaned: list[str] = []
    for raw in addresses:
        address = raw.strip()
        if not address:
            continue
        require_typed_text(address)
        if len(address) > MAX_EMAIL or not _EMAIL.match(address):
            raise InvalidInput("email_invalid", email=address[:80])
        local, _, domain = address.rpartition("@")
        if not local.isascii():
            raise InvalidInput("email_local_part_not_ascii", email=address[:80])
        if not _deliverable_domain(domain):
            raise InvalidInput("email_invalid", email=address[:80])
        if address.lower() not in (a.lower() for a in cleaned):
            cleaned.append(address)
    if not cleaned:
        raise InvalidInput("no_recipients")
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidInput("email_invalid", email=cleaned[MAX_RECIPIENTS])
    return tuple(cleaned)


def clean_reason(reason: str | None) -> str | None:
    """R11: the optional reason of a rejection, trimmed; refuses an overly long one."""
    if reason is None or not reason.strip():
        return None
    if len(reason) > MAX_REASON:
        raise InvalidInput("reason_too_long", limit=MAX_REASON)
    require_typed_text(reason)
    return reason.strip()


def clean_search(term: str | None) -> str:
    """A search term for the overviews: trimmed, bounded."""
    if term is None:
        return ""
    if len(term) > MAX_SEARCH:
        raise InvalidInput("search_too_long", limit=MAX_SEARCH)
    require_typed_text(term)
    return term.strip()


def clean_filename(filename: str) -> str:
    """The name of an uploaded document, trimmed and bounded: one line, with no invisible
    characters (it goes into the headers of the document's answer, and a line break there
    would end them)."""
    cleaned = filename.strip()
    if len(cleaned) > MAX_FILENAME:
        raise InvalidInput("filename_too_long", limit=MAX_FILENAME)
    if has_invisible_characters(cleaned, one_line=True):
        raise InvalidInput("filename_invisible_characters")
    return cleaned or "document"


@attrs.frozen
class LockoutPolicy:
    """R7: too many wrong codes within a window lock redeeming for the rest of it."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def locked_until(self, failures: Collection[datetime], now: datetime) -> datetime | None:
        """When the lock opens, or ``None``: counts the failures inside the window."""
        recent = sorted(t for t in failures if now - t < self.window)
        if len(recent) < self.max_failures:
            return None
        # The lock lasts until the oldest counted failure leaves the window.
        return recent[-self.max_failures] + self.window

    def require_unlocked(self, failures: Collection[datetime], now: datetime) -> None:
        """Refuses with the moment to try again (shown as HH:MM)."""
        until = self.locked_until(failures, now)
        if until is not None:
            raise Locked("redeem_locked", until=show_time(until), until_iso=until.isoformat())
