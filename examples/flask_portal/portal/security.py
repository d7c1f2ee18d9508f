"""The browser's part of the portal's security: headers on every response (pages, the API,
error pages, static files) that forbid inline script and style, framing, MIME sniffing and
leaking addresses to other sites; HSTS when the portal is served over HTTPS. And the bounds
of what a request may bring: a form post of at most ``FORM_MAX_BYTES`` (an upload may be
bigger), an id in a path of at most ``MAX_ID`` (a bigger number names nothing: 404).

The session cookie's flags (HttpOnly, SameSite=Lax, Secure unless demo mode) are set in
``create_app``. SameSite is Lax, not Strict: the accounting package sends the user back to
"Koppelen" by a top-level navigation from its own site, which must carry the session.
"""

from __future__ import annotations

from flask import Flask, Request, request
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from migrationkit.domain.model import MAX_ID
from portal.runtime import RUNTIME_KEY

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
#: The most a form post (not an upload) may weigh: far more than any form's fields hold.
FORM_MAX_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"


class PortalRequest(Request):
    """A request whose form post (``application/x-www-form-urlencoded``) may weigh at most
    ``FORM_MAX_BYTES`` (413 beyond); an upload or a JSON body keeps the app's limit."""

    @property
    def max_content_length(self) -> int | None:
        limit = Request.max_content_length.fget(self)  # type: ignore[attr-defined]
        if self._max_content_length is None and self.mimetype == FORM:
            return FORM_MAX_BYTES if limit is None else min(limit, FORM_MAX_BYTES)
        return limit  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


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
        if https_portal or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
