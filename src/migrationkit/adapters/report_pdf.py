"""The Migratieverslag as a PDF (fpdf2), in Dutch or English: one page per migration, and
a summary of an offer's migrations. The signed statement rides along as an attached file
(``migratieverslag.json``: the statement's exact bytes as text, the signature and the public
key, base64), which ``read_signed`` takes out again (pypdf) for ``migrationkit
verify-report``; the page prints the same digest, signature and key for a reader."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from importlib import resources

import attrs
from fpdf import FPDF

from migrationkit.adapters.signing import decode, encode
from migrationkit.domain.dates import show_moment
from migrationkit.domain.manifest import (
    PASSED,
    LinksOutcome,
    MigrationReport,
    OfferReport,
)
from migrationkit.domain.model import ItemStatus

#: The attached file that carries the signed statement.
ATTACHMENT = "migratieverslag.json"

#: Where the server's public key is served (docs/report.md).
PUBLIC_KEY_PATH = "/api/v1/report-key"

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Migratieverslag", "Migration report"),
    "summary_title": ("Migratieverslag: overzicht", "Migration report: summary"),
    "administration": ("Administratie", "Administration"),
    "before": ("Voor de migratie", "Before the migration"),
    "after": ("Na de migratie", "After the migration"),
    "from": ("Van kantoor", "From office"),
    "to": ("Naar kantoor", "To office"),
    "offered_by": ("Aangeboden door", "Offered by"),
    "started_by": ("Gestart door", "Started by"),
    "statuses": ("Statussen", "Statuses"),
    "documents": ("Documenten", "Documents"),
    "bytes": ("Bytes", "Bytes"),
    "links": ("Koppelingen in het pakket", "Links in the package"),
    "integrity": ("Integriteitscontrole", "Integrity check"),
    "manifest": ("Manifest SHA-256 (JSON Lines)", "Manifest SHA-256 (JSON Lines)"),
    "manifest_csv": ("Manifest SHA-256 (CSV)", "Manifest SHA-256 (CSV)"),
    "signature": ("Handtekening (Ed25519)", "Signature (Ed25519)"),
    "public_key": ("Publieke sleutel", "Public key"),
    "migration": ("Migratie", "Migration"),
    "offer": ("Migratieverzoek", "Migration request"),
    "not_completed": ("Niet voltooid", "Not completed"),
    "unknown": ("onbekend", "unknown"),
    PASSED: (
        "Geslaagd: elk document is aangekomen, met dezelfde grootte en SHA-256.",
        "Passed: every document arrived, with the same size and SHA-256.",
    ),
    "differs": (
        "Afwijkend: het manifest telt niet wat de migratie vastlegde.",
        "Differs: the manifest does not count what the migration recorded.",
    ),
    LinksOutcome.REWRITTEN: (
        "Herschreven naar de nieuwe adressen.",
        "Rewritten to the new addresses.",
    ),
    LinksOutcome.UNCHANGED: (
        "Niet nodig: de documenten hielden hun adres (zelfde archief).",
        "Not needed: the documents kept their addresses (same archive).",
    ),
    LinksOutcome.NOT_SUPPORTED: (
        "Het pakket kan koppelingen niet herschrijven; oude koppelingen verwijzen door.",
        "The package cannot rewrite links; old links redirect.",
    ),
    LinksOutcome.FAILED: (
        "Niet gelukt; oude koppelingen verwijzen door naar de nieuwe adressen.",
        "Not rewritten; old links redirect to the new addresses.",
    ),
    LinksOutcome.PENDING: (
        "Nog bezig; oude koppelingen verwijzen door.",
        "Still in progress; old links redirect.",
    ),
    "check": (
        "Controleer met: migrationkit verify-report VERSLAG.pdf MANIFEST.jsonl "
        "(publieke sleutel: {path}).",
        "Check with: migrationkit verify-report REPORT.pdf MANIFEST.jsonl (public key: {path}).",
    ),
}


def _translator(language: str) -> Callable[[str], str]:
    index = 1 if language == "en" else 0
    return lambda key: _TEXT[key][index]


def _status_label(status: ItemStatus, language: str) -> str:
    return status.label_en if language == "en" else status.label_nl


#: Unicode fonts shipped with the package (DejaVu, see fonts/LICENSE): every name prints as
#: written (Wiśniewski, Ørsted), where the PDF core fonts know Latin-1 only. Only the letters
#: used are embedded.
_FONTS = resources.files("migrationkit.adapters") / "fonts"
_SANS, _MONO = "DejaVu Sans", "DejaVu Sans Mono"


class _Page:
    """The page being written: a label and its value, a line at a time."""

    def __init__(self, title: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(18, 16, 18)
        self.pdf.set_auto_page_break(True, margin=14)
        self.pdf.set_title(title)
        self.pdf.set_creator("migrationkit")
        for family, style, file in (
            (_SANS, "", "DejaVuSans.ttf"),
            (_SANS, "B", "DejaVuSans-Bold.ttf"),
            (_MONO, "", "DejaVuSansMono.ttf"),
        ):
            with resources.as_file(_FONTS / file) as font:
                self.pdf.add_font(family, style, str(font))
        self.pdf.add_page()
        self.pdf.set_font(_SANS, "B", 17)
        self.pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def row(self, label: str, value: str, *, mono: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(_SANS, "B", 9)
        pdf.cell(52, 5.2, label)
        pdf.set_font(_MONO if mono else _SANS, "", 8 if mono else 9)
        pdf.multi_cell(0, 5.2, value, align="L", new_x="LMARGIN", new_y="NEXT")

    def note(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(_SANS, "", 8)
        self.pdf.multi_cell(0, 4.4, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def signed(self, statement: bytes, signature: bytes, public_key: bytes) -> bytes:
        attached = {
            "statement": statement.decode(),
            "signature": encode(signature),
            "public_key": encode(public_key),
        }
        self.pdf.embed_file(
            bytes=json.dumps(attached, indent=1).encode(),
            basename=ATTACHMENT,
            mime_type="application/json",
        )
        return bytes(self.pdf.output())


def migration_report_pdf(report: MigrationReport, language: str = "nl") -> bytes:
    """The one-page Migratieverslag of a migration in ``language`` ("nl" or "en")."""
    t = _translator(language)
    facts = report.facts
    migration = facts.migration
    page = _Page(f"{t('title')}: {migration.target.code} {migration.target.name}")
    page.row(t("migration"), str(migration.id))
    page.row(
        f"{t('administration')}, {t('before').lower()}", f"{facts.item.code} {facts.item.name}"
    )
    page.row(
        f"{t('administration')}, {t('after').lower()}",
        f"{migration.target.code} {migration.target.name}",
    )
    page.row(t("from"), facts.source_environment)
    page.row(t("to"), facts.target_environment)
    page.row(t("offered_by"), facts.offered_by)
    page.row(t("started_by"), facts.started_by or t("unknown"))
    page.row(
        t("statuses"),
        "\n".join(
            f"{_status_label(reached.status, language)}: {show_moment(reached.at)}"
            for reached in facts.statuses
        ),
    )
    page.row(t("documents"), str(report.documents))
    page.row(t("bytes"), str(report.total_bytes))
    page.row(t("links"), t(facts.links))
    page.row(t("integrity"), t(report.verdict))
    page.row(t("manifest"), report.manifest_sha256, mono=True)
    page.row(t("manifest_csv"), report.manifest_csv_sha256, mono=True)
    page.row(t("signature"), encode(report.signature), mono=True)
    page.row(t("public_key"), encode(report.public_key), mono=True)
    page.note(t("check").format(path=PUBLIC_KEY_PATH))
    return page.signed(report.statement, report.signature, report.public_key)


def offer_report_pdf(report: OfferReport, language: str = "nl") -> bytes:
    """The summary of an offer's migrations (an office takeover) in ``language``."""
    t = _translator(language)
    page = _Page(f"{t('summary_title')} {report.offer_id}")
    page.row(t("offer"), str(report.offer_id))
    page.row(t("from"), report.source_environment)
    page.row(t("to"), report.target_environment)
    page.row(t("offered_by"), report.offered_by)
    page.row(t("documents"), str(sum(r.documents for r in report.reports)))
    page.row(t("bytes"), str(sum(r.total_bytes for r in report.reports)))
    for moved in report.reports:
        migration = moved.facts.migration
        page.row(
            f"{t('migration')} {migration.id}",
            f"{moved.facts.item.code} {moved.facts.item.name} -> "
            f"{migration.target.code} {migration.target.name}; "
            f"{moved.documents} {t('documents').lower()}, {moved.total_bytes} "
            f"{t('bytes').lower()}; {t('integrity').lower()}: {t(moved.verdict).split(':')[0]}\n"
            f"SHA-256 {moved.manifest_sha256}",
        )
    for item in report.not_completed:
        page.row(
            t("not_completed"), f"{item.code} {item.name}: {_status_label(item.status, language)}"
        )
    page.row(t("signature"), encode(report.signature), mono=True)
    page.row(t("public_key"), encode(report.public_key), mono=True)
    page.note(t("check").format(path=PUBLIC_KEY_PATH))
    return page.signed(report.statement, report.signature, report.public_key)


@attrs.frozen
class SignedStatement:
    """What a report's attachment carries."""

    statement: bytes
    signature: bytes
    public_key: bytes


def read_signed(report: bytes) -> SignedStatement:
    """The signed statement attached to a report (a PDF of ``migration_report_pdf``), or a
    bare ``migratieverslag.json``; raises ``ValueError`` when it holds none."""
    if report.lstrip().startswith(b"{"):
        attached = report
    else:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            found = PdfReader(io.BytesIO(report)).attachments.get(ATTACHMENT)
        except PyPdfError as error:
            raise ValueError(f"not a readable PDF: {error}") from None
        if not found:
            raise ValueError(f"the PDF has no {ATTACHMENT} attached")
        attached = found[0]
    try:
        fields = json.loads(attached)
        return SignedStatement(
            statement=fields["statement"].encode(),
            signature=decode(fields["signature"]),
            public_key=decode(fields["public_key"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f"{ATTACHMENT} is not a signed statement") from None
