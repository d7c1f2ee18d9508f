"""The dry run's texts in Dutch and English: the titles of the checks and the notes that
hold for every administration (notes with a name or a date in them are made beside their
checks)."""

from __future__ import annotations

from migrationkit.services.preflight.report import Text

# --- the offer -------------------------------------------------------------------------------

SUPER_USER: Text = (
    "Je bent supergebruiker van deze omgeving",
    "You are a super user of this environment",
)
SAME_PACKAGE: Text = ("Zelfde boekhoudpakket", "Same accounting package")
ONE_SOURCE: Text = (
    "Eén boekhoudsysteemkoppeling als bron, één nieuwe omgeving",
    "One accounting system connection as the source, one new environment",
)
NOT_IN_OPEN_OFFER: Text = (
    "Staat niet al in een openstaand migratieverzoek",
    "Not already in an open migration request",
)
TRANSFER_CODE: Text = ("Overdrachtscode", "Transfer code")
VALIDITY: Text = ("Geldigheid van de overdrachtscode", "Validity of the transfer code")
SUBSCRIPTION: Text = (
    "Nieuwe omgeving met abonnement, akkoord met voorwaarden en kosten",
    "New environment with a subscription, terms and costs accepted",
)
CODE_NAME_FREE: Text = (
    "Administratiecode en -naam vrij in de nieuwe omgeving",
    "Administration code and name free in the new environment",
)
IN_PACKAGE: Text = (
    "Administratie bestaat in het boekhoudpakket van de nieuwe omgeving en is daar nog niet "
    "gekoppeld",
    "The administration exists in the new environment's accounting package and is not "
    "linked there yet",
)
NO_AUTHORIZERS: Text = (
    "Geen autorisatoren in een autorisatieflow",
    "No authorizers in an authorization flow",
)
USERS_STAY: Text = (
    "Gebruikers en autorisatoren gaan niet mee",
    "Users and authorizers do not move",
)
PACKAGE_FIRST: Text = (
    "Migratie in het boekhoudpakket eerst afgerond",
    "Move in the accounting package finished first",
)

AT_START: Text = (
    "Wordt gecontroleerd bij de start in de nieuwe omgeving.",
    "Checked at the start in the new environment.",
)
USERS_STAY_NOTE: Text = (
    "Na de migratie heeft niemand in de nieuwe omgeving toegang totdat een supergebruiker "
    "daar die geeft (Instellingen > Administraties > Gebruikers > Toegang: Ja).",
    "After the migration nobody in the new environment has access until a super user there "
    "grants it (Settings > Administrations > Users > Access: Yes).",
)


# --- the start -------------------------------------------------------------------------------

TAKEN_IN: Text = (
    "Het migratieverzoek is met de overdrachtscode aan jouw omgeving gebonden",
    "The migration request is bound to your environment by its transfer code",
)
CODE_ENTERED: Text = ("Overdrachtscode ingevoerd", "Transfer code entered")
STILL_OFFERED: Text = (
    "Nog Aangeboden: niet ingetrokken, afgewezen of al gestart",
    "Still Offered: not withdrawn, rejected or started already",
)
NOT_EXPIRED: Text = ("Overdrachtscode niet verlopen", "Transfer code not expired")
HAS_SUBSCRIPTION: Text = (
    "Jouw omgeving heeft een abonnement",
    "Your environment has a subscription",
)
CODE_NAME_FREE_HERE: Text = (
    "Administratiecode en -naam vrij in jouw omgeving",
    "Administration code and name free in your environment",
)
IN_PACKAGE_HERE: Text = (
    "Administratie bestaat in het boekhoudpakket en is hier nog niet gekoppeld",
    "The administration exists in the accounting package and is not linked here yet",
)
NO_ACCESS_YET: Text = (
    "Na de migratie heeft niemand in jouw omgeving toegang tot je die geeft (Instellingen > "
    "Administraties > Gebruikers > Toegang: Ja).",
    "After the migration nobody in your environment has access until you grant it "
    "(Settings > Administrations > Users > Access: Yes).",
)
ONCE_CHOSEN: Text = (
    "Wordt gecontroleerd zodra een boekhoudsysteemkoppeling en een administratie uit het "
    "boekhoudpakket zijn gekozen.",
    "Checked once an accounting system connection and an administration from the "
    "accounting package are chosen.",
)
