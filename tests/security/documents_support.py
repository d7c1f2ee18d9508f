"""Documents for the archive's security tests: what a bookkeeping archive holds (a PDF, images,
e-invoices) and what an attacker would put in one (HTML, SVG and JavaScript that make an API
token, a PDF with JavaScript, archives, programs, XML bombs), and a way to plant any of them
in an archive the way an archive kept elsewhere, or before the type check, holds them.

The e-invoices follow the root elements and namespaces of their published schemas: OASIS UBL
2.1 (``maindoc/UBL-Invoice-2.1.xsd``, ``UBL-CreditNote-2.1.xsd``) and UN/CEFACT CII D16B
(``CrossIndustryInvoice_100pD16B.xsd``), trimmed to a few elements: the archive reads only
the root element."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import attrs

from migrationkit.bootstrap import Runtime
from migrationkit.demo import pdf_document
from migrationkit.domain.model import Administration, Document

PDF = pdf_document(["Factuur 2026-001", "Bakkerij De Korenschoof"], title="Factuur 2026-001")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
TIFF = b"II*\x00\x08\x00\x00\x00\x00\x00"


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (grey pixels), made here so no image file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()
UBL_INVOICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- NLCIUS -->
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0</cbc:CustomizationID>
  <cbc:ID>2026-001</cbc:ID>
  <cbc:IssueDate>2026-11-02</cbc:IssueDate>
</Invoice>
"""
UBL_CREDIT_NOTE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ubl:CreditNote xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>CN-2026-004</cbc:ID>
</ubl:CreditNote>
"""
CII_INVOICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice
    xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
  <rsm:ExchangedDocument><ram:ID>2026-077</ram:ID></rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>
"""
UBL_INVOICE_UTF16 = UBL_INVOICE.decode().replace("UTF-8", "UTF-16").encode("utf-16")

#: What a script of an attacker does on the portal's origin: make an API token in the name
#: of whoever opens it (a form post with the page's CSRF token), and tell a marker address.
TOKEN_THIEF_JS = """
fetch('/instellingen/api-tokens').then(r => r.text()).then(page => {
  const token = page.match(/name="csrf_token"[^>]*value="([^"]+)"/)[1];
  const form = new URLSearchParams({csrf_token: token, naam: 'gestolen'});
  return fetch('/instellingen/api-tokens', {method: 'POST', body: form});
}).finally(() => { fetch('MARKER/js'); alert('script ran'); });
"""


def html_with_script(script_address: str, marker: str) -> bytes:
    """An HTML page that runs the thief inline, loads it from ``script_address`` (another
    document of the archive), and calls the marker address in every way a page can."""
    return f"""<!DOCTYPE html><html><head><title>Factuur</title>
<script src="{script_address}"></script>
<script>{TOKEN_THIEF_JS.replace("MARKER", marker)}</script></head>
<body onload="fetch('{marker}/onload')"><img src="{marker}/img">
<iframe src="{marker}/frame"></iframe><script>alert('html ran');</script></body></html>
""".encode()


def svg_with_script(marker: str) -> bytes:
    return f"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="100" onload="alert('svg ran')">
  <image xlink:href="{marker}/svg-image" width="10" height="10"/>
  <script>{TOKEN_THIEF_JS.replace("MARKER", marker)}</script>
</svg>""".encode()


def thief_js(marker: str) -> bytes:
    return TOKEN_THIEF_JS.replace("MARKER", marker).encode()


def pdf_with_script(marker: str) -> bytes:
    """A one-page PDF whose opening runs Acrobat JavaScript (an OpenAction) that calls the
    marker address every way the language has, and shows an alert that says what the
    script can reach: in Chromium's PDF viewer it runs in PDFium's own engine, with no
    ``document``, ``fetch`` or cookies of the page."""
    script = (
        "app.alert('pdf ran: ' + typeof document + ' ' + typeof fetch + ' ' + "
        "typeof XMLHttpRequest + ' ' + typeof window);"
        f"try {{ app.launchURL('{marker}/pdf-launch', true); }} catch (e) {{}}"
        f"try {{ this.getURL('{marker}/pdf-geturl'); }} catch (e) {{}}"
        f"try {{ this.submitForm('{marker}/pdf-submit'); }} catch (e) {{}}"
    )
    content = b"BT 56 780 Td /F1 16 Tf (Factuur met script) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Action /S /JavaScript /JS (%s) >>" % script.encode(),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


#: An entity that expands to a gigabyte, and one that reads a file of the server (XXE).
XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;&e;&e;</Invoice>
"""
XML_EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>
"""
XHTML = b"""<?xml version="1.0"?>
<html xmlns="http://www.w3.org/1999/xhtml"><body><script>alert(1)</script></body></html>
"""
#: An e-invoice's root with XHTML script inside: it is an e-invoice, taken, and must still
#: never run (it is served to be saved).
UBL_WITH_XHTML_SCRIPT = b"""<?xml version="1.0"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">
  <script xmlns="http://www.w3.org/1999/xhtml">alert('xml ran')</script>
</Invoice>
"""
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"PE\x00\x00"
HTML_AS_PDF_NAME = b"<html><body><script>alert('x')</script></body></html>"


@attrs.frozen
class Planted:
    """A document put straight into an archive's store and the database."""

    document: Document

    @property
    def path(self) -> str:
        return f"/documenten/{self.document.address}"


def plant(
    runtime: Runtime,
    administration: Administration,
    *,
    filename: str,
    content_type: str,
    data: bytes,
) -> Planted:
    """Puts ``data`` into the administration's archive as an archive kept elsewhere (or
    before the type check) holds it: any bytes, any stored type, any name, no check."""
    with runtime.deps.uow() as uow:
        environment = uow.environments.get(administration.environment_id)
        assert environment is not None
        store = runtime.archives.store(environment.archive_store)
        blob = store.write(io.BytesIO(data))
        document = uow.documents.add(
            administration.id,
            filename=filename,
            content_type=content_type,
            size=blob.size,
            sha256=blob.sha256,
            archive_store=store.name,
            blob_key=blob.key,
            received_at=datetime(2026, 11, 2, tzinfo=UTC),
        )
        uow.commit()
    return Planted(document)


def archive_files(home: Path) -> set[str]:
    """Every file under the home's archive folders, temporary ones included."""
    return {str(path.relative_to(home)) for path in (home / "archive").rglob("*") if path.is_file()}
