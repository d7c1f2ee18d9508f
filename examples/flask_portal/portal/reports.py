"""The Migratieverslag's downloads on the Voltooid status page: the PDF in the reader's
language, the manifest as JSON Lines and as CSV, and an offer's summary. Only the super users
of the two offices have them (the library refuses anyone else with ``NotFound``, which the
portal answers 404 like any other office's object). The API's endpoints answer with the same
files (``report_file``, ``manifest_file``)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, current_app, g
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.adapters.report_pdf import migration_report_pdf, offer_report_pdf
from migrationkit.adapters.signing import ReportKey, report_key
from migrationkit.domain.manifest import CSV_HEADER, ManifestEntry, csv_line, json_line
from portal.auth import login_required
from portal.i18n import current_language
from portal.runtime import deps, runtime
from portal.security import DOCUMENT_CACHE_CONTROL, content_disposition

bp = Blueprint("reports", __name__, url_prefix="/migraties")

#: The manifest's forms: media type and the line of a row.
MANIFEST_FORMS = {
    "jsonl": "application/jsonl",
    "csv": "text/csv",
}


def signer() -> ReportKey:
    """The server's signing key, derived from its secret."""
    return report_key(runtime().settings.code_secret())


def _download(body: bytes | Iterator[bytes], mimetype: str, filename: str) -> Response:
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition("attachment", filename)
    response.headers["Cache-Control"] = DOCUMENT_CACHE_CONTROL
    return response


def report_file(migration_id: int, language: str) -> Response:
    report = services.migration_report(
        deps(), signer(), actor_id=g.user.id, migration_id=migration_id
    )
    pdf = migration_report_pdf(report, language)
    return _download(pdf, "application/pdf", f"migratieverslag-{migration_id}.pdf")


def offer_report_file(offer_id: int, language: str) -> Response:
    report = services.offer_report(deps(), signer(), actor_id=g.user.id, offer_id=offer_id)
    pdf = offer_report_pdf(report, language)
    return _download(pdf, "application/pdf", f"migratieverslag-verzoek-{offer_id}.pdf")


def manifest_file(migration_id: int, form: str) -> Response:
    """The manifest, streamed a page of rows at a time (its access checked first)."""
    entries = services.migration_manifest(deps(), actor_id=g.user.id, migration_id=migration_id)
    return _download(_lines(entries, form), MANIFEST_FORMS[form], f"manifest-{migration_id}.{form}")


def _lines(entries: Iterator[ManifestEntry], form: str) -> Iterator[bytes]:
    if form == "csv":
        yield CSV_HEADER
        for entry in entries:
            yield csv_line(entry)
    else:
        for entry in entries:
            yield json_line(entry)


@bp.get("/<int:migration_id>/migratieverslag.pdf")
@login_required
def report(migration_id: int) -> Response:
    return report_file(migration_id, current_language())


@bp.get("/<int:migration_id>/manifest.jsonl")
@login_required
def manifest_jsonl(migration_id: int) -> Response:
    return manifest_file(migration_id, "jsonl")


@bp.get("/<int:migration_id>/manifest.csv")
@login_required
def manifest_csv(migration_id: int) -> Response:
    return manifest_file(migration_id, "csv")


@bp.get("/verzoek/<int:offer_id>/migratieverslag.pdf")
@login_required
def offer_report(offer_id: int) -> Response:
    return offer_report_file(offer_id, current_language())
