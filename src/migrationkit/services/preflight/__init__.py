"""The dry run: a pre-flight report that lists every check of the checklist and of R1-R10
with its verdict, for each administration, before an offer is sent or a start is made.

A dry run reads and asks the package; it changes nothing and sends nothing. The offer and
the start judge by the same reports: ``offer_administrations`` refuses with the first
refusal of the offer's report, ``start_migrations`` with the first of the start's, so a
report that passes promises an offer or a start that goes through, unless someone else acts
first (their compare-and-set and the database's constraints still have the last word). A
refusal by a report carries it (``report_of``), so a click makes one report, not two.

``report`` holds the report model, ``texts`` the checks' Dutch and English titles,
``offer`` the offer's checks and ``start`` the start's.
"""

from migrationkit.services.preflight.offer import (
    AdministrationChecks,
    OfferPreflight,
    offer_report,
    preflight_offer,
)
from migrationkit.services.preflight.report import (
    Check,
    Text,
    Verdict,
    carrying,
    report_of,
)
from migrationkit.services.preflight.start import (
    ItemChecks,
    Occupants,
    StartPreflight,
    TargetChoice,
    preflight_start,
    start_report,
)

__all__ = [
    "AdministrationChecks",
    "Check",
    "ItemChecks",
    "Occupants",
    "OfferPreflight",
    "StartPreflight",
    "TargetChoice",
    "Text",
    "Verdict",
    "carrying",
    "offer_report",
    "preflight_offer",
    "preflight_start",
    "report_of",
    "start_report",
]
