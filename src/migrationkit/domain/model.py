"""The model of the glossary: environments, users, connections, administrations, offers.

Every class is a frozen attrs value. Repositories turn stored rows into these and back; a
change is a new value (``attrs.evolve``), never a mutation.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from migrationkit.domain.emails import DEFAULT_LANGUAGE, html_alternative
from migrationkit.domain.errors import MESSAGES, MigrationError

#: The largest id anything has: ids are 32-bit integers in the database, so a bigger number
#: names nothing (and is refused before any query).
MAX_ID = 2**31 - 1


class AccountingPackage(enum.Enum):
    """A boekhoudpakket that the platform links to."""

    EXACT_ONLINE_NL = "EXACT_ONLINE_NL"
    TWINFIELD = "TWINFIELD"
    BOEKHOUDGEMAK_MULTIVERS = "BOEKHOUDGEMAK_MULTIVERS"
    XERO = "XERO"
    ACCOUNTVIEW = "ACCOUNTVIEW"

    @property
    def label(self) -> str:
        """The package's name as users know it."""
        return _PACKAGE_LABELS[self]


_PACKAGE_LABELS = {
    AccountingPackage.EXACT_ONLINE_NL: "Exact Online (NL)",
    AccountingPackage.TWINFIELD: "Twinfield",
    AccountingPackage.BOEKHOUDGEMAK_MULTIVERS: "Boekhoudgemak & Multivers",
    AccountingPackage.XERO: "Xero",
    AccountingPackage.ACCOUNTVIEW: "AccountView",
}


class Role(enum.Enum):
    """A user's role in their environment; only a super user may migrate (R1)."""

    SUPER_USER = "SUPER_USER"
    USER = "USER"


class ItemStatus(enum.Enum):
    """The status of an offered administration and its migration."""

    OFFERED = "OFFERED"
    WITHDRAWN = "WITHDRAWN"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def label_nl(self) -> str:
        """The portal's Dutch word for the status."""
        return _STATUS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The portal's English word for the status."""
        return _STATUS_LABELS[self][1]

    @property
    def is_open(self) -> bool:
        """Whether the item still ties its administration to the offer (R4)."""
        return self in OPEN_STATUSES


_STATUS_LABELS = {
    ItemStatus.OFFERED: ("Aangeboden", "Offered"),
    ItemStatus.WITHDRAWN: ("Ingetrokken", "Withdrawn"),
    ItemStatus.REJECTED: ("Afgewezen", "Rejected"),
    ItemStatus.EXPIRED: ("Verlopen", "Expired"),
    ItemStatus.QUEUED: ("In de wachtrij", "Queued"),
    ItemStatus.PROCESSING: ("Aan het verwerken", "Processing"),
    ItemStatus.COMPLETED: ("Voltooid", "Completed"),
    ItemStatus.FAILED: ("Mislukt", "Failed"),
}

#: Statuses in which an administration is tied to its offer: it cannot be offered again (R4).
OPEN_STATUSES = frozenset(
    {
        ItemStatus.OFFERED,
        ItemStatus.QUEUED,
        ItemStatus.PROCESSING,
        ItemStatus.FAILED,
    }
)


@attrs.frozen
class Environment:
    """One office's tenant (kantooromgeving)."""

    id: int
    name: str
    has_subscription: bool
    #: The name of the archive store its files live in (one shared, or one per office).
    archive_store: str


@attrs.frozen
class User:
    """A person who signs in to one environment."""

    id: int
    environment_id: int
    email: str
    name: str
    role: Role
    #: The language the user chose in the portal ("nl" or "en"); none until they choose.
    #: Their e-mails are written in it.
    language: str | None = None

    @property
    def is_super_user(self) -> bool:
        return self.role is Role.SUPER_USER


@attrs.frozen
class Connection:
    """A boekhoudsysteemkoppeling: an environment's link to one account of one package."""

    id: int
    environment_id: int
    package: AccountingPackage
    #: What users call the linked account ("Exact Online - Kantoor Noord").
    name: str


@attrs.frozen
class PackageAdministration:
    """An administration as the accounting package knows it (a division, office, tenant)."""

    #: The package's own key for it (division code, office code, tenant id, ...).
    package_admin_id: str
    code: str
    name: str


@attrs.frozen
class Administration:
    """A client's bookkeeping inside one environment, linked to one package administration."""

    id: int
    environment_id: int
    connection_id: int
    package: AccountingPackage
    code: str
    name: str
    #: The administration's document inbox; it keeps this address wherever it moves (R14).
    email: str
    package_admin_id: str


@attrs.frozen
class AuthorizationFlow:
    """An approval chain of one administration; authorizers never move (R10)."""

    id: int
    administration_id: int
    name: str
    authorizer_user_ids: tuple[int, ...] = ()

    @property
    def has_authorizers(self) -> bool:
        return bool(self.authorizer_user_ids)


@attrs.frozen
class Document:
    """A stored file of an administration's archive, with its metadata."""

    id: int
    administration_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    #: Where the bytes are: the store's name and the key inside it.
    archive_store: str
    blob_key: str
    received_at: datetime

    @property
    def address(self) -> str:
        """The document's address, as links from the package and the portal use it:
        ``<store>/<id>``. A move on one store keeps it; a move to another store gives a new
        one, and the old address redirects to it."""
        return document_address(self.archive_store, self.id)


def document_address(archive_store: str, document_id: int) -> str:
    """The address of document ``document_id`` in ``archive_store``."""
    return f"{archive_store}/{document_id}"


@attrs.frozen
class TransferOffer:
    """A migratieverzoek: what the sender offers to one other environment (R3)."""

    id: int
    source_environment_id: int
    source_connection_id: int
    package: AccountingPackage
    sender_user_id: int
    sender_email: str
    recipients: tuple[str, ...]
    #: HMAC of the normalised code with the server's secret: the code itself is never kept.
    code_digest: str
    #: The last characters of the code, for the masked display in the overview.
    code_hint: str
    created_at: datetime
    expires_at: datetime
    reminder_sent_at: datetime | None = None
    #: The one environment that redeemed the code; set once (R3, R7).
    target_environment_id: int | None = None
    redeemed_by_user_id: int | None = None
    redeemed_at: datetime | None = None


@attrs.frozen
class OfferItem:
    """One administration in an offer, with the status of its offer and migration."""

    id: int
    offer_id: int
    administration_id: int
    #: The administration as it was offered: code, name, e-mail, shown to the recipient.
    code: str
    name: str
    email: str
    status: ItemStatus
    status_changed_at: datetime
    rejection_reason: str | None = None


@attrs.frozen
class MigrationTarget:
    """Where the recipient puts an item: a connection of theirs and a package administration
    in it, whose code and name the administration takes (the package may have changed the
    code)."""

    connection_id: int
    package_admin_id: str
    code: str
    name: str


@attrs.frozen
class Migration:
    """The moving of one offered item, with its progress in documents and bytes.

    While unfinished it reserves its target: no other migration or administration may take
    the same (code, name) in the target environment or the same package administration (R8,
    R9); the database holds both with unique indexes.
    """

    id: int
    item_id: int
    administration_id: int
    target_environment_id: int
    target: MigrationTarget
    #: The reason of Mislukt as the Dutch text that was e-mailed, and the error it came from
    #: (its code and params as text, see ``failure_message``); no code for a reason that was
    #: given as text, or stored before codes were kept.
    failure_reason: str | None = None
    failure_code: str | None = None
    failure_params: tuple[tuple[str, str], ...] = ()
    attempts: int = 0
    documents_total: int = 0
    documents_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: The steps after a finish across stores, each recorded once done: the package's links
    #: rewritten (or found to need nothing), after ``links_attempts`` tries; the source
    #: store's blobs released, after a grace period.
    links_rewritten_at: datetime | None = None
    links_attempts: int = 0
    source_released_at: datetime | None = None

    def failure_message(self, language: str = "nl") -> str | None:
        """The reason of Mislukt in ``language`` ("nl" or "en"), rebuilt from its error; the
        stored text when there is no code (or one this version does not know)."""
        if self.failure_code is None or self.failure_code not in MESSAGES:
            return self.failure_reason
        return MigrationError(self.failure_code, **dict(self.failure_params)).message(language)


@attrs.frozen
class AccessGrant:
    """Whether a user of the environment may open an administration (Toegang Ja/Nee)."""

    administration_id: int
    user_id: int
    granted: bool


#: Where an e-mail's body shows its secret (a transfer code).
CODE_PLACEHOLDER = "[[code]]"
#: What the body shows once the secret is forgotten.
CODE_NOT_KEPT = "(niet bewaard / not kept)"


@attrs.frozen
class Email:
    """An e-mail as written to the outbox; the dispatcher sends it later.

    A transfer code is not part of the stored body: the body says ``CODE_PLACEHOLDER`` and the
    code is the ``secret``, which the outbox forgets as soon as the e-mail is sent (R5: the
    code is kept only as a keyed digest).
    """

    to: tuple[str, ...]
    subject: str
    body: str
    #: What kind of e-mail it is (``offer_code``, ``offer_rejected``, ...): a stable key.
    kind: str
    cc: tuple[str, ...] = ()
    secret: str | None = attrs.field(default=None, repr=False)
    #: The one language it is written in, its recipients' ("nl" or "en").
    language: str = DEFAULT_LANGUAGE

    def text(self) -> str:
        """The body as it is sent: with the secret, or a note that it is no longer kept."""
        return self.body.replace(CODE_PLACEHOLDER, self.secret or CODE_NOT_KEPT)

    def html(self) -> str:
        """The HTML alternative sent beside ``text()``, with the same content."""
        return html_alternative(self.text(), self.language, self.subject)

    def without_secret(self) -> Email:
        return attrs.evolve(self, secret=None)


@attrs.frozen
class Charge:
    """The one charge for one moved administration, billed to the target (R15)."""

    migration_id: int
    environment_id: int
    administration_id: int
    charged_at: datetime
