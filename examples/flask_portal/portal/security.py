"""The browser's part of the portal's security: headers on every response (pages, the API,
error pages, static files) that forbid inline script and style, framing, MIME sniffing and
leaking addresses to other sites; HSTS when the portal is served over HTTPS; no copy of any
answer but a static file kept in a cache. A document of the archive gets headers of its own
(``DOCUMENT_POLICY``, ``document_headers``): whatever it holds, it never runs as a page of
the portal.

And the bounds of what a request may bring: at most ``FORM_MAX_BYTES`` (a form post, an API
call), except an upload (``UPLOAD_MAX_BYTES``), whose text fields are still held to
``FORM_MAX_BYTES`` each; an id in a path of at most ``MAX_ID`` (a bigger number names
nothing: 404).

The session cookie's flags (HttpOnly, SameSite=Lax, Secure unless demo mode) are set in
``create_app``. SameSite is Lax, not Strict: the accounting package sends the user back to
"Koppelen" by a top-level navigation from its own site, which must carry the session.
"""

from __future__ import annotations

import unicodedata
from typing import IO, TYPE_CHECKING
from urllib.parse import quote

from flask import Flask, Request, request
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from migrationkit.domain.documents import MAX_DOCUMENT_BYTES, DocumentType
from migrationkit.domain.model import MAX_ID
from portal.runtime import RUNTIME_KEY

if TYPE_CHECKING:
    from werkzeug.formparser import t_parse_result

#: Scripts, styles and images only from the portal itself (no inline ones), no plugins,
#: forms posted only to the portal, never shown in a frame.
DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(DIRECTIVES)
#: The pages whose forms lead to an accounting package's consent page: "Koppelen" posts to
#: the portal, which redirects to the package's own site, and browsers hold a form's
#: redirects to form-action too. These pages allow forms to end on an HTTPS site.
LEADS_TO_PACKAGES = frozenset({"connections.index"})
PACKAGE_CONSENT_POLICY = "; ".join(
    "form-action 'self' https:" if directive == "form-action 'self'" else directive
    for directive in DIRECTIVES
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Two years; only this host (the operator's other hosts are not the portal's to decide).
STRICT_TRANSPORT_SECURITY = "max-age=63072000"
#: A document of the archive, whatever it holds: no script, no plugin, nothing loaded, no
#: style, no form, a unique origin of its own (``sandbox``), never in a frame. Chromium's
#: PDF viewer still shows a PDF under it, and its image viewer an image, only not centred
#: (it styles itself inline) (tests/security/test_documents_in_chromium.py).
DOCUMENT_POLICY = (
    "sandbox; default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Every answer but a static file: no cache keeps a copy of an office's data. A document:
#: the same, said for shared caches too.
NO_STORE = "no-store"
DOCUMENT_CACHE_CONTROL = "private, no-store"

#: The most a request may weigh (413 beyond): far more than any form's fields or any API
#: call holds. A text field of an upload's form is held to it as well.
FORM_MAX_BYTES = 64 * 1024
#: The routes that take an upload, and the most one may weigh (the app's
#: ``MAX_CONTENT_LENGTH``): twice the largest document. An upload up to this is read whole,
#: its file to a temporary file on disk (never held in memory), so that the library can
#: tell at the field why a document over ``MAX_DOCUMENT_BYTES`` is refused; a bigger one is
#: refused (413) before it is read.
UPLOADS = frozenset({"archive.index"})
UPLOAD_MAX_BYTES = 2 * MAX_DOCUMENT_BYTES
MULTIPART = "multipart/form-data"
#: How much of a multipart body the parser reads at a time. Werkzeug holds what it has read
#: but not yet parsed to ``max_form_memory_size`` (``FORM_MAX_BYTES``) too, so a read must
#: stay well below it: at Werkzeug's own 64 KiB, uploads failed with 413 at random.
MULTIPART_READ_BYTES = 16 * 1024


class PortalFormDataParser(FormDataParser):
    """Werkzeug's parser, reading a multipart body ``MULTIPART_READ_BYTES`` at a time: each
    text field at most ``max_form_memory_size``, each file streamed to a temporary file
    (on disk beyond 500 KB), whatever its size."""

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> t_parse_result:
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=MULTIPART_READ_BYTES,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class PortalRequest(Request):
    """A request of at most ``FORM_MAX_BYTES`` (413 beyond), except an upload (multipart)
    to a route of ``UPLOADS``, which keeps the app's ``MAX_CONTENT_LENGTH``."""

    form_data_parser_class = PortalFormDataParser

    @property
    def max_content_length(self) -> int | None:
        limit = Request.max_content_length.fget(self)  # type: ignore[attr-defined]
        if self._max_content_length is not None or self.is_upload:
            return limit  # type: ignore[no-any-return]
        return FORM_MAX_BYTES if limit is None else min(limit, FORM_MAX_BYTES)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def is_upload(self) -> bool:
        """Whether this is a multipart post to a route that takes an upload."""
        return self.endpoint in UPLOADS and self.mimetype == MULTIPART


def document_headers(response: Response, kind: DocumentType, filename: str) -> Response:
    """The headers of a document's answer: shown in place only when its type is one a
    browser shows without running anything (``kind.inline``), else saved; its own
    Content-Security-Policy; no cache; its name safe in any header (``content_disposition``)."""
    response.headers["Content-Type"] = kind.content_type
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if kind.inline else "attachment", filename
    )
    response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    response.headers["Cache-Control"] = DOCUMENT_CACHE_CONTROL
    return response


def content_disposition(disposition: str, filename: str) -> str:
    """``inline`` or ``attachment`` with a file name that any stored name becomes safely
    (RFC 6266): ``filename*`` in UTF-8, percent-encoded (RFC 5987), for browsers, and an
    ASCII ``filename`` for the rest (accents dropped, any other letter ``_``). Control
    characters, line breaks, quotes, slashes and direction marks never reach the header: in
    both they become ``_``."""
    shown = "".join("_" if _unsafe_in_name(ch) else ch for ch in filename).strip() or "document"
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in " .,_-+()") else "_"
        for ch in unicodedata.normalize("NFKD", shown)
        if unicodedata.category(ch) != "Mn"
    )
    utf8 = quote(shown, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{utf8}"


def _unsafe_in_name(ch: str) -> bool:
    """A character a saved file's name must not hold: a control or format character (a line
    break, a direction mark), a separator of lines, a path's slash or a quote."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in '/\\"'


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: a number from 0 to ``MAX_ID`` (an id the database can
    hold), so a bigger one is not found (404) instead of breaking a query."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, MAX_ID if max is None else max, signed)


def init_app(app: Flask) -> None:
    """Sets the headers on every response of ``app``. HSTS goes with every response served
    over HTTPS, and with every response of a portal whose address (PORTAL_URL) is https
    (behind a proxy that ends TLS the request itself looks like plain HTTP; a browser
    ignores HSTS that arrives over plain HTTP). Bounds the requests; call it before any
    route is added."""
    app.request_class = PortalRequest
    app.config["MAX_FORM_MEMORY_SIZE"] = FORM_MAX_BYTES  # a text field of an upload's form
    app.url_map.converters["int"] = IdConverter
    https_portal = app.extensions[RUNTIME_KEY].settings.portal_url.startswith("https://")

    @app.after_request
    def secure_headers(response: Response) -> Response:
        if request.endpoint in LEADS_TO_PACKAGES:
            response.headers.setdefault("Content-Security-Policy", PACKAGE_CONSENT_POLICY)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", NO_STORE)
        if https_portal or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
