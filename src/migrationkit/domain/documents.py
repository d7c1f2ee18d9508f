"""What an archive holds: the kinds of document a bookkeeping archive keeps, each known by
its own first bytes, and how a browser may be given each one.

A document's type is decided from its bytes, never from the name or the type that an upload
claims: a browser that is told "HTML" or "SVG" runs the script inside, on the portal's own
address. So the archive takes only what a bookkeeping archive holds (invoices, receipts and
their scans, e-invoices) and refuses everything else at the upload. Archives moved in from
elsewhere, or kept since before this rule, may still hold anything: ``served_type`` says how
to serve any stored type so that it never runs.
"""

from __future__ import annotations

import attrs

from migrationkit.domain.errors import InvalidInput

#: The most bytes a document may hold (50 MB, counted as 50 x 1024 x 1024 bytes).
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
#: How much of a document's beginning decides its type: a magic number is in the first few
#: bytes; an e-invoice's root element comes after at most its XML declaration, comments and
#: processing instructions.
HEAD_BYTES = 64 * 1024


@attrs.frozen
class DocumentType:
    """One kind of document: the media type it is stored and served as, and whether a
    browser may show it in place (``inline``) or is told to save it."""

    content_type: str
    inline: bool


PDF = DocumentType("application/pdf", inline=True)
JPEG = DocumentType("image/jpeg", inline=True)
PNG = DocumentType("image/png", inline=True)
TIFF = DocumentType("image/tiff", inline=True)
#: An e-invoice in XML. Saved, never shown in place: a browser shows XML as a document, and
#: an XHTML ``<script>`` element inside one would run.
E_INVOICE = DocumentType("application/xml", inline=False)
#: What the archive takes.
DOCUMENT_TYPES = (PDF, JPEG, PNG, TIFF, E_INVOICE)
#: How anything else that an archive holds is served: bytes to save, never to show.
UNKNOWN = DocumentType("application/octet-stream", inline=False)

#: The first bytes of each binary type, from each format's specification: PDF 1.0-2.0
#: (ISO 32000: ``%PDF-`` and the version), JPEG (the SOI marker and the next marker's FF),
#: PNG (its 8-byte signature), TIFF 6.0 (byte order ``II`` or ``MM`` and the number 42).
MAGIC_NUMBERS = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)

#: The root elements (namespace, name) of the e-invoices the archive takes: the two syntaxes
#: of the European standard EN 16931, which Dutch public bodies must accept and which
#: Peppol (BIS Billing 3.0) and the Dutch NLCIUS carry: UBL 2.x Invoice and CreditNote, and
#: UN/CEFACT Cross Industry Invoice (D16B, as in Factur-X, ZUGFeRD and XRechnung).
E_INVOICE_ROOTS = frozenset(
    {
        ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"),
        ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "CreditNote"),
        ("urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100", "CrossIndustryInvoice"),
    }
)

_BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def type_by_magic_number(head: bytes) -> DocumentType | None:
    """The binary type whose magic number ``head`` starts with, if any."""
    return next((kind for magic, kind in MAGIC_NUMBERS if head.startswith(magic)), None)


def may_be_xml(head: bytes) -> bool:
    """Whether ``head`` may begin an XML document (a byte order mark, or ``<`` after white
    space): only then is it worth reading its root element."""
    return head.startswith(_BYTE_ORDER_MARKS) or head.lstrip(b" \t\r\n").startswith(b"<")


def require_document_type(head: bytes, xml_root: tuple[str, str] | None) -> DocumentType:
    """The type of a document to add to an archive, from its first bytes (``head``, at least
    ``HEAD_BYTES`` of them when it has as many) and, for XML, its root element (namespace,
    name) as read by a parser that refuses DTDs and entities (``None``: not such XML).
    Refuses an empty document and any type the archive does not take."""
    if not head:
        raise InvalidInput("document_empty")
    found = type_by_magic_number(head)
    if found is not None:
        return found
    if xml_root in E_INVOICE_ROOTS:
        return E_INVOICE
    raise InvalidInput("document_type_refused")


def require_document_size(size: int) -> None:
    """Refuses a document larger than ``MAX_DOCUMENT_BYTES``."""
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput("document_too_large", limit_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))


def served_type(content_type: str) -> DocumentType:
    """How a stored document is given to a browser: as its stored type when that is one the
    archive takes (parameters and case aside), else as bytes to save."""
    essence = content_type.partition(";")[0].strip().lower()
    return next((kind for kind in DOCUMENT_TYPES if kind.content_type == essence), UNKNOWN)
