"""An uploaded document never runs in the portal, and no file name breaks it.

- The archive takes a document by its bytes alone (PDF, JPEG, PNG, TIFF, UBL and CII
  e-invoices), whatever name and type the upload claims; anything else (HTML, SVG,
  JavaScript, XHTML, an archive, a program, an empty file, XML that is no e-invoice, an XML
  bomb) is refused at the field in the user's language, and nothing is stored: no row, no
  file in the archive's folders. The library refuses it too, for every embedder.
- Whatever an archive already holds (moved in from elsewhere, or kept from before the
  check), its answer carries nosniff, a sandbox Content-Security-Policy of its own and
  ``Cache-Control: private, no-store``; it is shown in place only when it is a PDF or an
  image the archive takes, and its Content-Type comes from the stored type only then.
- A file name with a line break or another invisible character is refused at the upload;
  any name already stored is served, safely encoded (RFC 6266 and 5987).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from documents_support import (
    CII_INVOICE,
    EXE,
    HTML_AS_PDF_NAME,
    JPEG,
    PDF,
    PNG,
    TIFF,
    UBL_CREDIT_NOTE,
    UBL_INVOICE,
    UBL_INVOICE_UTF16,
    UBL_WITH_XHTML_SCRIPT,
    XHTML,
    XML_BOMB,
    XML_EXTERNAL_ENTITY,
    ZIP,
    archive_files,
    html_with_script,
    pdf_with_script,
    plant,
    svg_with_script,
    thief_js,
)
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene
from werkzeug.http import parse_options_header
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.bootstrap import Runtime
from migrationkit.domain.documents import MAX_DOCUMENT_BYTES
from migrationkit.domain.errors import MESSAGES, InvalidInput

Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]
ADMINISTRATION = "1001"
MARKER = "http://127.0.0.1:9/marker"
DOCUMENT_POLICY = (
    "sandbox; default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def archive_path(scene: Scene) -> str:
    return f"/administraties/{scene.administration(ADMINISTRATION).id}/archief"


def upload(
    client: FlaskClient, path: str, data: bytes, filename: str, claimed: str
) -> TestResponse:
    return client.post(
        path,
        data={"bestand": (io.BytesIO(data), filename, claimed)},
        content_type="multipart/form-data",
    )


def refusal_at_the_field(response: TestResponse, code: str) -> bool:
    return (
        response.status_code == 200
        and 'id="bestand-error"' in response.text
        and MESSAGES[code][0] in response.text
    )


# --- what the archive takes --------------------------------------------------------------------

REFUSED = {
    "HTML named .pdf": (html_with_script("/x.js", MARKER), "factuur.pdf", "application/pdf"),
    "HTML": (html_with_script("/x.js", MARKER), "factuur.html", "text/html"),
    "short HTML claimed as a PDF": (HTML_AS_PDF_NAME, "factuur.pdf", "application/pdf"),
    "SVG with script": (svg_with_script(MARKER), "logo.svg", "image/svg+xml"),
    "SVG claimed as a PNG": (svg_with_script(MARKER), "scan.png", "image/png"),
    "JavaScript": (thief_js(MARKER), "factuur.js", "application/javascript"),
    "XHTML": (XHTML, "factuur.xml", "application/xml"),
    "a zip": (ZIP, "facturen.zip", "application/zip"),
    "a program named .pdf": (EXE, "factuur.pdf", "application/pdf"),
    "XML that is no e-invoice": (b"<note>betaald</note>", "notitie.xml", "application/xml"),
    "an XML bomb": (XML_BOMB, "factuur.xml", "application/xml"),
    "an external entity": (XML_EXTERNAL_ENTITY, "factuur.xml", "application/xml"),
    "plain text": (b"Factuur 2026-001\nTotaal: 12,50", "factuur.txt", "text/plain"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_an_upload_that_is_no_archive_document_is_refused_at_the_field_and_stores_nothing(
    app: Flask, noord: FlaskClient, scene: Scene, home: Path, database_dump: Dump, case: str
) -> None:
    data, filename, claimed = REFUSED[case]
    before, files = database_dump(), archive_files(home)

    response = upload(noord, archive_path(scene), data, filename, claimed)

    assert refusal_at_the_field(response, "document_type_refused"), response.text
    assert database_dump() == before
    assert archive_files(home) == files


def test_an_empty_upload_is_refused_at_the_field_and_stores_nothing(
    noord: FlaskClient, scene: Scene, home: Path, database_dump: Dump
) -> None:
    before, files = database_dump(), archive_files(home)

    response = upload(noord, archive_path(scene), b"", "factuur.pdf", "application/pdf")

    assert refusal_at_the_field(response, "document_empty")
    assert database_dump() == before
    assert archive_files(home) == files


def test_a_refused_upload_is_refused_in_english_too(noord: FlaskClient, scene: Scene) -> None:
    noord.post("/taal", data={"language": "en"})

    response = upload(noord, archive_path(scene), XHTML, "factuur.xml", "application/xml")

    assert MESSAGES["document_type_refused"][1] in response.text


TAKEN = {
    "a PDF named .html": (PDF, "factuur.html", "text/html", "application/pdf"),
    "a PDF claiming nothing": (PDF, "factuur", "application/octet-stream", "application/pdf"),
    "a PNG named .svg": (PNG, "scan.svg", "image/svg+xml", "image/png"),
    "a JPEG": (JPEG, "bon.jpg", "image/jpeg", "image/jpeg"),
    "a TIFF": (TIFF, "scan.tif", "image/tiff", "image/tiff"),
    "a UBL invoice named .html": (UBL_INVOICE, "factuur.html", "text/html", "application/xml"),
    "a UBL invoice in UTF-16": (UBL_INVOICE_UTF16, "factuur.xml", "text/xml", "application/xml"),
    "a UBL credit note": (UBL_CREDIT_NOTE, "creditnota.xml", "text/xml", "application/xml"),
    "a CII invoice": (CII_INVOICE, "factuur.xml", "application/xml", "application/xml"),
}


@pytest.mark.parametrize("case", sorted(TAKEN))
def test_an_archive_document_is_stored_as_its_bytes_say_whatever_the_upload_claims(
    noord: FlaskClient, scene: Scene, case: str
) -> None:
    data, filename, claimed, stored = TAKEN[case]

    response = upload(noord, archive_path(scene), data, filename, claimed)

    assert response.status_code == 302
    document = scene.documents(ADMINISTRATION)[-1]
    assert (document.filename, document.content_type) == (filename, stored)
    opened = noord.get(f"/documenten/{document.address}")
    assert opened.get_data() == data
    assert opened.mimetype == stored


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    return runtime


def add(app: Flask, scene: Scene, stream: io.RawIOBase | io.BytesIO) -> None:
    runtime = runtime_of(app)
    services.add_document(
        runtime.deps,
        runtime.archives,
        actor_id=scene.user("noord@example.nl"),
        administration_id=scene.administration(ADMINISTRATION).id,
        filename="factuur.pdf",
        stream=stream,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("case", ["HTML", "SVG with script", "JavaScript", "an XML bomb"])
def test_the_library_refuses_what_is_no_archive_document_for_every_embedder(
    app: Flask, scene: Scene, home: Path, database_dump: Dump, case: str
) -> None:
    before, files = database_dump(), archive_files(home)

    with pytest.raises(InvalidInput) as refused:
        add(app, scene, io.BytesIO(REFUSED[case][0]))

    assert refused.value.code == "document_type_refused"
    assert database_dump() == before
    assert archive_files(home) == files


class Zeros(io.RawIOBase):
    """A PDF's header and then zeros, ``size`` bytes in all, never held whole in memory."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.head = b"%PDF-1.7\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self.left)
        view[:count] = b"\x00" * count
        taken = min(count, len(self.head))
        view[:taken], self.head = self.head[:taken], self.head[taken:]
        self.left -= count
        return count


def test_the_library_takes_a_document_of_50_mb_and_refuses_one_byte_more_leaving_nothing(
    app: Flask, scene: Scene, home: Path, database_dump: Dump
) -> None:
    before, files = database_dump(), archive_files(home)

    with pytest.raises(InvalidInput) as refused:
        add(app, scene, io.BufferedReader(Zeros(MAX_DOCUMENT_BYTES + 1)))
    assert refused.value.code == "document_too_large"
    assert database_dump() == before
    assert archive_files(home) == files

    add(app, scene, io.BufferedReader(Zeros(MAX_DOCUMENT_BYTES)))
    assert scene.documents(ADMINISTRATION)[-1].size == MAX_DOCUMENT_BYTES


# --- how any stored document is served ---------------------------------------------------------

#: stored type, bytes -> served type, shown in place
STORED = {
    "HTML as text/html": ("text/html", html_with_script("/x.js", MARKER), "", False),
    "SVG as image/svg+xml": ("image/svg+xml", svg_with_script(MARKER), "", False),
    "JavaScript": ("application/javascript", thief_js(MARKER), "", False),
    "JavaScript as text/javascript": ("text/javascript", thief_js(MARKER), "", False),
    "XHTML": ("application/xhtml+xml", XHTML, "", False),
    "XML as text/xml": ("text/xml", UBL_WITH_XHTML_SCRIPT, "", False),
    "an e-invoice with XHTML script": (
        "application/xml",
        UBL_WITH_XHTML_SCRIPT,
        "application/xml",
        False,
    ),
    "no type": ("", PDF, "", False),
    "bytes": ("application/octet-stream", EXE, "", False),
    "a PDF": ("application/pdf", PDF, "application/pdf", True),
    "a PDF with script": ("application/pdf", pdf_with_script(MARKER), "application/pdf", True),
    "a PDF in capitals with a parameter": ("APPLICATION/PDF; name=x", PDF, "application/pdf", True),
    "a PNG": ("image/png", PNG, "image/png", True),
    "HTML stored as a PNG": ("image/png", html_with_script("/x.js", MARKER), "image/png", True),
    "a JPEG": ("image/jpeg", JPEG, "image/jpeg", True),
    "a TIFF": ("image/tiff", TIFF, "image/tiff", True),
}


@pytest.mark.parametrize("case", sorted(STORED))
def test_any_stored_document_is_served_so_that_it_cannot_run(
    app: Flask, noord: FlaskClient, scene: Scene, case: str
) -> None:
    stored, data, served, inline = STORED[case]
    planted = plant(
        runtime_of(app),
        scene.administration(ADMINISTRATION),
        filename="document",
        content_type=stored,
        data=data,
    )

    response = noord.get(planted.path)

    assert response.status_code == 200
    assert response.get_data() == data
    assert response.mimetype == (served or "application/octet-stream")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == DOCUMENT_POLICY
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition, _ = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == ("inline" if inline else "attachment")


# --- file names --------------------------------------------------------------------------------


def raw_upload(client: FlaskClient, path: str, disposition: bytes) -> TestResponse:
    """An upload whose part header is written by hand, as a hostile client writes it."""
    boundary = b"grens"
    body = (
        b'--grens\r\nContent-Disposition: form-data; name="bestand"; '
        + disposition
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + PDF
        + b"\r\n--grens--\r\n"
    )
    return client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary.decode()}"
    )


@pytest.mark.parametrize(
    "disposition",
    [
        b"filename*=UTF-8''a%0D%0Ab.pdf",
        b"filename*=UTF-8''a%0Ab.pdf",
        b"filename*=UTF-8''a%09b.pdf",
        b"filename*=UTF-8''factuur%E2%80%AEfdp.exe",
        b"filename*=UTF-8''a%00b.pdf",
    ],
    ids=["CR LF", "LF", "a tab", "a direction override", "NUL"],
)
def test_an_upload_whose_name_holds_a_line_break_or_control_character_is_refused(
    noord: FlaskClient, scene: Scene, home: Path, database_dump: Dump, disposition: bytes
) -> None:
    before, files = database_dump(), archive_files(home)

    response = raw_upload(noord, archive_path(scene), disposition)

    assert refusal_at_the_field(response, "filename_invisible_characters"), response.text
    assert database_dump() == before
    assert archive_files(home) == files


#: stored name -> the ASCII ``filename`` and the UTF-8 ``filename*`` it is served with
NAMES = {
    "CR LF": ("a\r\nb.pdf", "a__b.pdf", "a__b.pdf"),
    "a header after a line break": (
        "x.pdf\r\nSet-Cookie: a=b",
        "x.pdf__Set-Cookie_ a_b",
        "x.pdf__Set-Cookie: a=b",
    ),
    "a quote": ('x"; filename="evil.exe', "x__ filename__evil.exe", "x_; filename=_evil.exe"),
    "NUL": ("\x00.pdf", "_.pdf", "_.pdf"),
    "a path": ("../../etc/passwd", ".._.._etc_passwd", ".._.._etc_passwd"),
    "a Windows path": ("..\\..\\boot.ini", ".._.._boot.ini", ".._.._boot.ini"),
    "a direction override": ("factuur\u202efdp.exe", "factuur_fdp.exe", "factuur_fdp.exe"),
    "accents and euro": ("rékening € 12.pdf", "rekening _ 12.pdf", "rékening € 12.pdf"),
    "Japanese": ("請求書.pdf", "___.pdf", "請求書.pdf"),
    "emoji": ("bon 🧾.pdf", "bon _.pdf", "bon 🧾.pdf"),
    "empty": ("", "document", "document"),
    "only a line break": ("\n", "_", "_"),
    "long": ("f" * 1000 + ".pdf", "f" * 1000 + ".pdf", "f" * 1000 + ".pdf"),
}
SERVED_NAME = re.compile(r"inline; filename=\"([^\"]*)\"; filename\*=UTF-8''([!-~]+)")


@pytest.mark.parametrize("case", sorted(NAMES))
def test_any_stored_name_is_served_safely_encoded(
    app: Flask, noord: FlaskClient, scene: Scene, case: str
) -> None:
    name, ascii_name, utf8_name = NAMES[case]
    planted = plant(
        runtime_of(app),
        scene.administration(ADMINISTRATION),
        filename=name,
        content_type="application/pdf",
        data=PDF,
    )

    response = noord.get(planted.path)

    assert response.status_code == 200
    served = SERVED_NAME.fullmatch(response.headers["Content-Disposition"])
    assert served is not None, response.headers["Content-Disposition"]
    assert served[1] == ascii_name
    assert unquote(served[2], errors="strict") == utf8_name
    assert not set(served[2]) & set(';" ')
