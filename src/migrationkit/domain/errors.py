"""Errors of the domain: each has a stable code and a message in Dutch and English.

The code is what programs (the portal, the API, the tests) match on; the messages are what a
person reads. Dutch comes first, as in the product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: What an archive store's disk or bucket says, each its own reason so that an operator
#: knows what to mend: code -> (Dutch, English), each naming the store as ``{archive}``.
ARCHIVE_TROUBLES: Final[Mapping[str, tuple[str, str]]] = {
    "archive_full": (
        "{archive} {{store}} is vol: er is geen ruimte meer op de schijf.",
        "{archive} {{store}} is full: there is no space left on its disk.",
    ),
    "archive_read_only": (
        "{archive} {{store}} is alleen-lezen: er kan niets in worden geschreven.",
        "{archive} {{store}} is read-only: nothing can be written to it.",
    ),
    "archive_no_permission": (
        "{archive} {{store}} weigert de toegang: migrationkit heeft er de rechten niet voor.",
        "{archive} {{store}} refuses access: migrationkit lacks the permission.",
    ),
    "archive_folder_missing": (
        "{archive} {{store}} is weg: de map of bucket ervan bestaat niet (meer).",
        "{archive} {{store}} is gone: its folder or bucket does not exist (any more).",
    ),
}

#: How a message names an archive store in a move (``in_role``), or plainly (an upload).
ARCHIVE_ROLES: Final[Mapping[str, tuple[str, str]]] = {
    "": ("Het archief", "The archive"),
    "source": ("Het bronarchief", "The source archive"),
    "target": ("Het doelarchief", "The target archive"),
}


def _archive_troubles() -> dict[str, tuple[str, str]]:
    """``ARCHIVE_TROUBLES`` as they are (``archive_full``), and for each role in a move
    (``target_archive_full``, ``source_archive_full``...)."""
    return {
        f"{role}_{code}" if role else code: (
            dutch.format(archive=ARCHIVE_ROLES[role][0]),
            english.format(archive=ARCHIVE_ROLES[role][1]),
        )
        for role in ARCHIVE_ROLES
        for code, (dutch, english) in ARCHIVE_TROUBLES.items()
    }


#: code -> (Dutch message, English message). Placeholders are filled from the error's params.
MESSAGES: Final[Mapping[str, tuple[str, str]]] = {
    # R1
    "not_super_user": (
        "Alleen een supergebruiker van deze omgeving mag dit doen.",
        "Only a super user of this environment may do this.",
    ),
    "unknown_user": ("Onbekende gebruiker.", "Unknown user."),
    "unknown_language": (
        "De taal {language} wordt niet ondersteund; kies Nederlands (nl) of Engels (en).",
        "The language {language} is not supported; choose Dutch (nl) or English (en).",
    ),
    "email_taken": (
        "Er is al een gebruiker met het e-mailadres {email}.",
        "There already is a user with the e-mail address {email}.",
    ),
    "unknown_environment": ("Onbekende omgeving.", "Unknown environment."),
    "unknown_connection": (
        "Onbekende boekhoudsysteemkoppeling.",
        "Unknown accounting system connection.",
    ),
    "unknown_administration": ("Onbekende administratie.", "Unknown administration."),
    "unknown_offer": ("Onbekend migratieverzoek.", "Unknown migration request."),
    "unknown_item": ("Onbekende aangeboden administratie.", "Unknown offered administration."),
    "unknown_migration": ("Onbekende migratie.", "Unknown migration."),
    "report_not_ready": (
        "Er is nog geen migratieverslag: de migratie is niet voltooid.",
        "There is no migration report yet: the migration has not completed.",
    ),
    # R2
    "package_mismatch": (
        "Een administratie van {source_package} kan alleen naar een koppeling met "
        "{source_package}, niet naar {target_package}.",
        "An administration of {source_package} can only go to a connection of "
        "{source_package}, not to {target_package}.",
    ),
    # R3
    "no_administrations": (
        "Selecteer minstens één administratie.",
        "Select at least one administration.",
    ),
    "administration_not_in_connection": (
        "Administratie {code} {name} hoort niet bij de gekozen boekhoudsysteemkoppeling.",
        "Administration {code} {name} is not part of the chosen accounting system connection.",
    ),
    "duplicate_administration": (
        "Administratie {code} {name} is twee keer gekozen.",
        "Administration {code} {name} was chosen twice.",
    ),
    # R4
    "already_offered": (
        "Administratie {code} {name} staat al in een openstaand migratieverzoek.",
        "Administration {code} {name} is already in an open migration request.",
    ),
    "administration_moving": (
        "Administratie {code} {name} wordt op dit moment verplaatst.",
        "Administration {code} {name} is being moved right now.",
    ),
    # R5 / R6 / R7
    "code_malformed": (
        "Deze overdrachtscode heeft {given} tekens; een code heeft er {length} "
        "(streepjes en spaties tellen niet mee).",
        "This transfer code has {given} characters; a code has {length} "
        "(dashes and spaces do not count).",
    ),
    "code_invalid_character": (
        'Het teken "{character}" komt niet voor in een overdrachtscode: een code heeft alleen '
        "cijfers en letters, zonder de U.",
        'The character "{character}" does not occur in a transfer code: a code has only '
        "digits and letters, without the U.",
    ),
    "code_unknown": (
        "Deze overdrachtscode is onbekend. Controleer de code in de e-mail.",
        "This transfer code is unknown. Check the code in the e-mail.",
    ),
    "code_expired": (
        "Deze overdrachtscode is verlopen op {expired_at}. Vraag de aanbieder om een nieuwe.",
        "This transfer code expired on {expired_at}. Ask the sender for a new one.",
    ),
    "code_withdrawn": (
        "Dit migratieverzoek is ingetrokken door de aanbieder.",
        "This migration request was withdrawn by the sender.",
    ),
    "code_used": (
        "Deze overdrachtscode is al gebruikt door een andere omgeving.",
        "This transfer code has already been used by another environment.",
    ),
    "code_nothing_open": (
        "Er staat met deze overdrachtscode niets meer open.",
        "Nothing is open any more under this transfer code.",
    ),
    "redeem_locked": (
        "Te veel onjuiste overdrachtscodes. Probeer het opnieuw om {until}.",
        "Too many wrong transfer codes. Try again at {until}.",
    ),
    "own_environment": (
        "Je kunt geen administraties ophalen uit je eigen omgeving.",
        "You cannot take in administrations from your own environment.",
    ),
    "no_subscription": (
        "Omgeving {environment} heeft geen abonnement; zonder abonnement kun je geen "
        "administraties ontvangen.",
        "Environment {environment} has no subscription; without one it cannot take in "
        "administrations.",
    ),
    "terms_not_accepted": (
        "Ga akkoord met de Algemene voorwaarden om verder te gaan.",
        "Accept the terms and conditions to continue.",
    ),
    "costs_not_accepted": (
        "Ga akkoord met de kosten van de migratie om verder te gaan.",
        "Accept the costs of the migration to continue.",
    ),
    # R8 / R9
    "code_name_taken": (
        "Omgeving {environment} heeft al een administratie met code {code} en naam {name}.",
        "Environment {environment} already has an administration with code {code} and name {name}.",
    ),
    "package_administration_missing": (
        "Administratie {package_admin_id} bestaat niet in de koppeling {connection}. "
        "Rond eerst de migratie in het boekhoudpakket af.",
        "Administration {package_admin_id} does not exist in connection {connection}. "
        "Finish the move in the accounting package first.",
    ),
    "package_administration_linked": (
        "Administratie {code} {name} is in deze omgeving al gekoppeld (rechtstreeks "
        "toegevoegd vanuit het boekhoudpakket?). Kies een andere administratie.",
        "Administration {code} {name} is already linked in this environment (added "
        "straight from the accounting package?). Choose another administration.",
    ),
    "target_not_chosen": (
        "Kies voor {code} {name} een boekhoudsysteemkoppeling en een administratie uit het "
        "boekhoudpakket.",
        "Choose an accounting system connection and an administration from the accounting "
        "package for {code} {name}.",
    ),
    # matching a takeover's items to the package's administrations
    "target_code_unknown": (
        "De koppeling heeft geen beschikbare administratie met code {code}.",
        "The connection has no available administration with code {code}.",
    ),
    "target_code_ambiguous": (
        "De koppeling heeft meer dan één beschikbare administratie met code {code}; "
        "kies er één in het boekhoudpakket.",
        "The connection has more than one available administration with code {code}; "
        "choose one in the accounting package.",
    ),
    "proposals_changed": (
        "De administraties in het boekhoudpakket zijn intussen veranderd; bekijk de "
        "voorstellen opnieuw en start dan.",
        "The administrations in the accounting package have changed meanwhile; look at the "
        "proposals again, then start.",
    ),
    # R10
    "authorizers_in_flow": (
        "Administratie {code} {name} heeft autorisatoren in de autorisatieflow {flows}. "
        "Haal ze eerst uit de flow.",
        "Administration {code} {name} has authorizers in the authorization flow {flows}. "
        "Remove them from the flow first.",
    ),
    # status machine
    "item_withdrawn": (
        "Administratie {code} {name} is ingetrokken door de aanbieder.",
        "Administration {code} {name} was withdrawn by the sender.",
    ),
    "item_rejected": (
        "Administratie {code} {name} is afgewezen.",
        "Administration {code} {name} was rejected.",
    ),
    "item_expired": (
        "Het migratieverzoek voor {code} {name} is verlopen.",
        "The migration request for {code} {name} has expired.",
    ),
    "item_started": (
        "De migratie van {code} {name} is al gestart ({status}).",
        "The migration of {code} {name} has already started ({status}).",
    ),
    "item_completed": (
        "De migratie van {code} {name} is al voltooid.",
        "The migration of {code} {name} is already completed.",
    ),
    "transition_refused": (
        "{event} kan niet bij status {status}.",
        "{event} is not possible in status {status}.",
    ),
    "status_changed": (
        "De status van {code} {name} is intussen gewijzigd in {status}; vernieuw de pagina.",
        "The status of {code} {name} has meanwhile changed to {status}; reload the page.",
    ),
    "no_open_items": (
        "Er staat niets meer op Aangeboden in dit migratieverzoek.",
        "Nothing in this migration request is Offered any more.",
    ),
    "migration_not_failed": (
        "Alleen een mislukte migratie kan opnieuw worden gestart.",
        "Only a failed migration can be retried.",
    ),
    # e-mail and input
    "no_recipients": (
        "Vul het e-mailadres van minstens één supergebruiker van de nieuwe omgeving in.",
        "Enter the e-mail address of at least one super user of the new environment.",
    ),
    "email_invalid": (
        "{email} is geen geldig e-mailadres.",
        "{email} is not a valid e-mail address.",
    ),
    "email_local_part_not_ascii": (
        "{email} kan niet bezorgd worden: vóór de @ mogen alleen letters zonder accent, "
        "cijfers en . _ - + staan.",
        "{email} cannot be delivered: before the @ only letters without accents, digits "
        "and . _ - + may stand.",
    ),
    "reason_too_long": (
        "De reden is te lang (hoogstens {limit} tekens).",
        "The reason is too long (at most {limit} characters).",
    ),
    "search_too_long": (
        "De zoekterm is te lang (hoogstens {limit} tekens).",
        "The search term is too long (at most {limit} characters).",
    ),
    "invisible_characters": (
        "Dit bevat onzichtbare tekens, zoals een NUL-teken. Typ het opnieuw.",
        "This holds invisible characters, such as a NUL character. Type it again.",
    ),
    "filename_too_long": (
        "De bestandsnaam is te lang (hoogstens {limit} tekens).",
        "The file name is too long (at most {limit} characters).",
    ),
    "filename_invisible_characters": (
        "De bestandsnaam bevat onzichtbare tekens, zoals een regeleinde of een NUL-teken. "
        "Geef het bestand een andere naam.",
        "The file name holds invisible characters, such as a line break or a NUL character. "
        "Rename the file.",
    ),
    # The archive's documents
    "document_empty": (
        "Het bestand is leeg.",
        "The file is empty.",
    ),
    "document_type_refused": (
        "Dit soort bestand past niet in het archief. Voeg een PDF, een JPEG-, PNG- of "
        "TIFF-afbeelding of een e-factuur in XML (UBL of CII) toe.",
        "This kind of file does not belong in the archive. Add a PDF, a JPEG, PNG or TIFF "
        "image, or an e-invoice in XML (UBL or CII).",
    ),
    "document_too_large": (
        "Het bestand is te groot: een document is hoogstens {limit_mb} MB.",
        "The file is too large: a document holds at most {limit_mb} MB.",
    ),
    # R16 and access
    "relink_same_target": (
        "Administratie {code} {name} is al aan deze administratie gekoppeld.",
        "Administration {code} {name} is already linked to this administration.",
    ),
    # The accounting package's web API (the connectors). ``package`` is the package's name.
    "package_auth_expired": (
        "De koppeling met {package} is verlopen of ingetrokken. Koppel {package} opnieuw "
        "onder Instellingen > Boekhoudsysteemkoppelingen en probeer het daarna nog eens.",
        "The connection to {package} has expired or was revoked. Connect {package} again "
        "under Settings > Accounting system connections, then try again.",
    ),
    "package_auth_refused": (
        "{package} weigert de toegang: {detail} Koppel {package} opnieuw onder Instellingen > "
        "Boekhoudsysteemkoppelingen en probeer het daarna nog eens.",
        "{package} refused access: {detail} Connect {package} again under Settings > "
        "Accounting system connections, then try again.",
    ),
    "package_not_found": (
        "{package} kent de gevraagde administratie niet (meer). Controleer de administratie "
        "in {package}.",
        "{package} does not know the requested administration (any more). Check the "
        "administration in {package}.",
    ),
    "package_rate_limited": (
        "{package} krijgt nu te veel verzoeken. Probeer het over een paar minuten opnieuw.",
        "{package} is receiving too many requests right now. Try again in a few minutes.",
    ),
    "package_busy": (
        "{package} is even bezet en neemt nu geen verzoeken aan. Probeer het over {seconds} "
        "seconden opnieuw.",
        "{package} is busy and takes no requests right now. Try again in {seconds} seconds.",
    ),
    "package_rate_limited_until": (
        "{package} neemt geen verzoeken meer aan tot {until} (de limiet is bereikt). Probeer "
        "het daarna opnieuw.",
        "{package} takes no more requests until {until} (its limit is reached). Try again "
        "after that.",
    ),
    "package_unavailable": (
        "{package} is nu niet bereikbaar. Probeer het later opnieuw.",
        "{package} cannot be reached right now. Try again later.",
    ),
    "package_rejected": (
        "{package} weigert het verzoek: {detail}",
        "{package} refused the request: {detail}",
    ),
    "package_malformed": (
        "{package} gaf een antwoord dat niet te lezen is. Probeer het later opnieuw; blijft "
        "het zo, neem dan contact op met de beheerder.",
        "{package} gave an answer that cannot be read. Try again later; if it stays so, "
        "contact the administrator.",
    ),
    "package_not_configured": (
        "De koppeling met {package} is niet ingesteld op deze server.",
        "The connection to {package} is not set up on this server.",
    ),
    "package_consent_refused": (
        "Koppelen met {package} is niet gelukt: {package} gaf geen toestemming, of de "
        "toestemming was al gebruikt of verlopen. Er is niets veranderd; probeer opnieuw te "
        "koppelen.",
        "Connecting {package} did not succeed: {package} gave no consent, or the consent was "
        "used or had expired. Nothing was changed; try connecting again.",
    ),
    "authorization_not_needed": (
        "{connection} is altijd gekoppeld: het boekhoudpakket vraagt hier geen toestemming.",
        "{connection} is always connected: the accounting package asks no consent here.",
    ),
    "package_links_unsupported": (
        "{package} kan geen links naar documenten bijwerken; de oude links blijven werken "
        "via een doorverwijzing.",
        "{package} cannot update links to documents; the old links keep working through a "
        "redirect.",
    ),
    # The archive and the move (the engine)
    "archive_unavailable": (
        "Het archief {store} is nu niet bereikbaar. Probeer het later opnieuw.",
        "The archive {store} cannot be reached right now. Try again later.",
    ),
    **_archive_troubles(),
    "copies_lost": (
        "Het doelarchief {store} raakte {count} net gekopieerde documenten steeds weer kwijt "
        "(o.a. {filenames}); de migratie is gestopt zonder te voltooien.",
        "The target archive {store} kept losing {count} documents just copied into it "
        "(among them {filenames}); the move stopped without completing.",
    ),
    "document_missing": (
        "Document {filename} ontbreekt in het archief {store}.",
        "Document {filename} is missing from the archive {store}.",
    ),
    "checksum_mismatch": (
        "Document {filename} kwam niet byte voor byte gelijk over (controlegetal wijkt af).",
        "Document {filename} did not come over byte for byte (its checksum differs).",
    ),
    "integrity_failed": (
        "De controle na het verplaatsen vond {missing} van de {total} documenten niet terug "
        "in de nieuwe omgeving.",
        "The check after the move did not find {missing} of the {total} documents in the "
        "new environment.",
    ),
    "unknown_document": ("Onbekend document.", "Unknown document."),
    "no_access": (
        "Je hebt geen toegang tot deze administratie.",
        "You have no access to this administration.",
    ),
    "access_not_granted_after_move": (
        "Administratie {code} is naar deze omgeving gemigreerd: niemand heeft toegang, ook een "
        "supergebruiker niet, totdat een supergebruiker die geeft (Instellingen > "
        "Administraties > Bewerken > Gebruikers > Toegang: Ja).",
        "Administration {code} was migrated to this environment: nobody has access, a super "
        "user neither, until a super user grants it (Settings > Administrations > Edit > "
        "Users > Access: Yes).",
    ),
    # Signing in and API tokens
    "sign_in_failed": (
        "Onbekend e-mailadres of onjuist wachtwoord.",
        "Unknown e-mail address or wrong password.",
    ),
    "sign_in_locked": (
        "Te veel mislukte inlogpogingen voor deze gebruiker: inloggen is een kwartier geblokkeerd.",
        "Too many failed sign-ins for this user: signing in is blocked for fifteen minutes.",
    ),
    "session_ended": (
        "Je sessie is verlopen of beëindigd. Log opnieuw in.",
        "Your session has expired or was ended. Sign in again.",
    ),
    "unknown_session": ("Onbekende sessie.", "Unknown session."),
    "password_wrong": (
        "Je huidige wachtwoord is onjuist.",
        "Your current password is wrong.",
    ),
    "password_too_short": (
        "Een wachtwoord heeft minstens {limit} tekens.",
        "A password has at least {limit} characters.",
    ),
    "password_too_long": (
        "Een wachtwoord heeft hoogstens {limit} tekens.",
        "A password has at most {limit} characters.",
    ),
    "api_rate_limited": (
        "Te veel verzoeken. Probeer het over {seconds} seconden opnieuw.",
        "Too many requests. Try again in {seconds} seconds.",
    ),
    "api_token_invalid": (
        "Dit API-token is onbekend of ingetrokken. Maak in het portaal een nieuw token aan.",
        "This API token is unknown or revoked. Create a new token in the portal.",
    ),
    "api_token_name_missing": ("Geef het API-token een naam.", "Give the API token a name."),
    "api_token_name_too_long": (
        "De naam van een API-token mag hoogstens {limit} tekens hebben.",
        "The name of an API token may have at most {limit} characters.",
    ),
    "too_many_api_tokens": (
        "Je hebt al {limit} API-tokens. Trek er eerst één in.",
        "You already have {limit} API tokens. Revoke one first.",
    ),
    "unknown_api_token": ("Onbekend API-token.", "Unknown API token."),
    "cursor_invalid": (
        "Deze pagina bestaat niet (meer). Begin opnieuw bij de eerste pagina.",
        "This page does not exist (any more). Start again at the first page.",
    ),
    "page_size_invalid": (
        "Een pagina heeft 1 tot {limit} regels.",
        "A page has 1 to {limit} rows.",
    ),
    # The JSON API: a request it cannot read. ``reason`` has a label in each language.
    "request_invalid": (
        "Het verzoek is ongeldig: {field} {reason}.",
        "The request is invalid: {field} {reason}.",
    ),
    "request_not_json": (
        "Stuur de gegevens als JSON (Content-Type: application/json).",
        "Send the data as JSON (Content-Type: application/json).",
    ),
    "request_too_large": (
        "Het verzoek is te groot (hoogstens {limit} bytes).",
        "The request is too large (at most {limit} bytes).",
    ),
    "path_unknown": (
        "Dit adres bestaat niet in de API.",
        "This address does not exist in the API.",
    ),
    "method_not_allowed": (
        "Dit adres kan {method} niet; wel: {allowed}.",
        "This address does not take {method}; it takes: {allowed}.",
    ),
    # The database, for a moment: nothing was changed, the same request may succeed soon.
    "database_busy": (
        "Iemand anders werkt dit op dit moment bij. Probeer het over een ogenblik opnieuw.",
        "Someone else is changing this right now. Try again in a moment.",
    ),
    "database_unavailable": (
        "De database is op dit moment niet bereikbaar. Probeer het over een ogenblik opnieuw.",
        "The database cannot be reached right now. Try again in a moment.",
    ),
    "server_error": (
        "Er ging iets mis op de server. Probeer het later opnieuw.",
        "Something went wrong on the server. Try again later.",
    ),
}


#: The package errors that send the user to connect the package again (Instellingen >
#: Boekhoudsysteemkoppelingen): the token is expired or revoked, or the package refuses access.
CONNECT_AGAIN: Final = frozenset({"package_auth_expired", "package_auth_refused"})


#: The package errors that say the package takes no calls for a while (its rate limit):
#: nothing was done, the same request goes through later (``until_iso`` says when, if known).
PACKAGE_BUSY: Final = frozenset(
    {"package_busy", "package_rate_limited", "package_rate_limited_until"}
)


class MigrationError(Exception):
    """A refusal: something the user asked cannot be done, and nothing was changed.

    ``code`` is stable across versions; ``params`` fill the message's placeholders. A
    param with ``label_nl`` and ``label_en`` (a status, an event) is shown in the message's
    language. ``str(error)`` is the Dutch message; ``message("en")`` gives the English one.
    """

    #: The dry run's report that a use case refused by (an offer's or a start's), so that
    #: whoever shows the refusal shows the report beside it without making it again. Opaque
    #: to the domain; ``migrationkit.services.report_of`` reads it by its type.
    report: object | None = None

    def __init__(self, code: str, /, **params: object) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params: dict[str, object] = params
        super().__init__(self.message("nl"))

    def message(self, language: str = "nl") -> str:
        """The message in ``language`` ("nl" or "en"; anything else falls back to Dutch)."""
        dutch, english = MESSAGES[self.code]
        if language != "en":
            template, language = dutch, "nl"
        else:
            template = english
        return template.format(
            **{
                name: getattr(value, f"label_{language}", value)
                for name, value in self.params.items()
            }
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class NotAllowed(MigrationError):
    """R1 and isolation: the actor may not do this here."""


class NotFound(MigrationError):
    """The thing asked for does not exist (or is not visible to the actor)."""


class RuleViolation(MigrationError):
    """A rule of the domain (R2-R16) refuses the request."""


class InvalidInput(MigrationError):
    """The input itself is malformed (an e-mail address, a code, a reason)."""


class Conflict(MigrationError):
    """Someone else changed the same thing first; the loser is told what it became."""


class Locked(MigrationError):
    """Too many attempts: redeeming is locked for a while (wrong transfer codes), or the
    API answers no more calls for a while (its rate limit). ``params["until_iso"]`` says
    until when."""


class PackageError(MigrationError):
    """The accounting package's web API failed or refused; ``params["package"]`` names it.
    Never carries a token or a password."""


class ArchiveError(MigrationError):
    """An archive store failed, or a copied document is not what it should be."""


class Unavailable(MigrationError):
    """The database waited too long for a lock held by someone else (``database_busy``) or
    could not be reached (``database_unavailable``): nothing of the request was committed,
    and the same request may well succeed in a moment."""


def in_role(error: ArchiveError, role: str) -> ArchiveError:
    """``error`` naming its store as the move's ``role`` ("source" or "target"); an error of
    another kind as it is."""
    if error.code not in ARCHIVE_TROUBLES:
        return error
    return ArchiveError(f"{role}_{error.code}", **error.params)
