"""The audit trail's vocabulary: what was done or refused, by whom, from where.

An audit event is written once and never changed. It names objects by their kind and id
and refusals by their error code; it never holds a transfer code, a token or a password.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs


class AuditAction(enum.Enum):
    """What a user (or a program with their API token) did or tried."""

    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    END_SESSION = "end_session"
    END_OTHER_SESSIONS = "end_other_sessions"
    CHANGE_PASSWORD = "change_password"  # noqa: S105 (an action, not a secret)
    OFFER = "offer"
    WITHDRAW = "withdraw"
    RESEND = "resend"
    REDEEM = "redeem"
    REJECT = "reject"
    START = "start"
    RETRY = "retry"
    RELINK = "relink"
    SET_ACCESS = "set_access"
    ADD_ADMINISTRATIONS = "add_administrations"
    UPLOAD_DOCUMENT = "upload_document"
    CONNECT_PACKAGE = "connect_package"
    CREATE_API_TOKEN = "create_api_token"  # noqa: S105 (an action, not a secret)
    REVOKE_API_TOKEN = "revoke_api_token"  # noqa: S105
    USE_API_TOKEN = "use_api_token"  # noqa: S105
    #: Opening a page or reading through the API: recorded only when refused.
    OPEN = "open"

    @property
    def label_nl(self) -> str:
        return _ACTION_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _ACTION_LABELS[self][1]


_ACTION_LABELS = {
    AuditAction.SIGN_IN: ("Inloggen", "Sign in"),
    AuditAction.SIGN_OUT: ("Uitloggen", "Sign out"),
    AuditAction.END_SESSION: ("Sessie beëindigen", "End session"),
    AuditAction.END_OTHER_SESSIONS: ("Alle andere sessies beëindigen", "End all other sessions"),
    AuditAction.CHANGE_PASSWORD: ("Wachtwoord wijzigen", "Change password"),
    AuditAction.OFFER: ("Administraties aanbieden", "Offer administrations"),
    AuditAction.WITHDRAW: ("Intrekken", "Withdraw"),
    AuditAction.RESEND: ("Code opnieuw versturen", "Resend code"),
    AuditAction.REDEEM: ("Overdrachtscode invoeren", "Enter transfer code"),
    AuditAction.REJECT: ("Afwijzen", "Reject"),
    AuditAction.START: ("Start migratie", "Start migration"),
    AuditAction.RETRY: ("Opnieuw proberen", "Retry"),
    AuditAction.RELINK: ("Interne migratie", "Internal migration"),
    AuditAction.SET_ACCESS: ("Toegang wijzigen", "Change access"),
    AuditAction.ADD_ADMINISTRATIONS: ("Administraties toevoegen", "Add administrations"),
    AuditAction.UPLOAD_DOCUMENT: ("Document uploaden", "Upload document"),
    AuditAction.CONNECT_PACKAGE: ("Boekhoudpakket koppelen", "Connect accounting package"),
    AuditAction.CREATE_API_TOKEN: ("API-token aanmaken", "Create API token"),
    AuditAction.REVOKE_API_TOKEN: ("API-token intrekken", "Revoke API token"),
    AuditAction.USE_API_TOKEN: ("API-token gebruiken", "Use API token"),
    AuditAction.OPEN: ("Openen", "Open"),
}


class AuditOutcome(enum.Enum):
    DONE = "done"
    REFUSED = "refused"

    @property
    def label_nl(self) -> str:
        return "Uitgevoerd" if self is AuditOutcome.DONE else "Geweigerd"

    @property
    def label_en(self) -> str:
        return "Done" if self is AuditOutcome.DONE else "Refused"


#: The kinds of objects an event names, in Dutch and English.
SUBJECT_KINDS: dict[str, tuple[str, str]] = {
    "migration": ("migratie", "migration"),
    "offer": ("migratieverzoek", "migration request"),
    "offer_item": ("aangeboden administratie", "offered administration"),
    "administration": ("administratie", "administration"),
    "document": ("document", "document"),
    "api_token": ("API-token", "API token"),
    "connection": ("boekhoudsysteemkoppeling", "accounting system connection"),
    "session": ("sessie", "session"),
}
#: Where a request comes from, in Dutch and English.
CHANNELS: dict[str, tuple[str, str]] = {
    "portal": ("portaal", "portal"),
    "api": ("API", "API"),
    "worker": ("achtergrondverwerking", "background processing"),
    "cli": ("opdrachtregel", "command line"),
    "library": ("bibliotheek", "library"),
}


def label(labels: dict[str, tuple[str, str]], key: str, language: str = "nl") -> str:
    """A subject kind or a channel in ``language`` ("nl" or "en"); an unknown key as it is."""
    dutch, english = labels.get(key, (key, key))
    return english if language == "en" else dutch


@attrs.frozen
class Origin:
    """Where a request came from: the channel (portal, api, worker, cli, library) and the
    client's network address when there is one."""

    channel: str = "library"
    address: str | None = None


@attrs.frozen
class AuditRecord:
    """An event to append: who (user and environment, when known), what, to which object,
    the refusal's code and messages when refused, and where from."""

    action: AuditAction
    outcome: AuditOutcome
    origin: Origin
    actor_user_id: int | None = None
    actor_email: str | None = None
    environment_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    error_code: str | None = None
    message_nl: str | None = None
    message_en: str | None = None


@attrs.frozen
class AuditEvent:
    """An appended event, with its place in the trail and its time."""

    id: int
    at: datetime
    record: AuditRecord
