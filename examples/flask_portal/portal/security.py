"""The browser's part of the portal's security: headers on every response (pages, the API,
error pages, static files) that forbid inline script and style, framing, MIME sniffing and
leaking addresses to other sites; HSTS when the portal is served over HTTPS.

The session cookie's flags (HttpOnly, SameSite=Lax, Secure unless demo mode) are set in
``create_app``. SameSite is Lax, not Strict: the accounting package sends the user back to
"Koppelen" by a top-level navigation from its own site, which must carry the session.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

from portal.runtime import RUNTIME_KEY

#: Scripts, styles and images only from the portal itself (no inline ones), no plugins,
#: forms posted only to the portal, never shown in a frame.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
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


def init_app(app: Flask) -> None:
    """Sets the headers on every response of ``app``. HSTS goes with every response served
    over HTTPS, and with every response of a portal whose address (PORTAL_URL) is https
    (behind a proxy that ends TLS the request itself looks like plain HTTP; a browser
    ignores HSTS that arrives over plain HTTP)."""
    https_portal = app.extensions[RUNTIME_KEY].settings.portal_url.startswith("https://")

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if https_portal or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
