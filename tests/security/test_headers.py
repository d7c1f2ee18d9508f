"""Security headers on every response (every page of the portal, the API, error pages,
static files), the session cookie's flags, and templates without inline script or style, so
the Content-Security-Policy can forbid them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import PORTAL, SESSION_COOKIE, environ, make_app, production_environ
from security_support import get_paths
from werkzeug.test import TestResponse

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
TEMPLATES = PORTAL / "portal" / "templates"
#: What the CSP forbids in a page: inline script, inline style, event handler attributes,
#: javascript: addresses.
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: address": re.compile(r"javascript:", re.IGNORECASE),
}


#: Boekhoudsysteemkoppelingen: its "Koppelen" forms end on the package's consent page.
CONSENT_PAGE = "/instellingen/koppelingen"
CONSENT_POLICY = EXPECTED["Content-Security-Policy"].replace(
    "form-action 'self'", "form-action 'self' https:"
)


def assert_secure_headers(response: TestResponse, *, hsts: bool = False) -> None:
    expected = dict(EXPECTED)
    if response.request.path == CONSENT_PAGE:
        expected["Content-Security-Policy"] = CONSENT_POLICY
    for name, value in expected.items():
        assert response.headers.get(name) == value, (response.request.path, name)
    assert ("Strict-Transport-Security" in response.headers) is hsts, response.request.path


@pytest.mark.parametrize("who", ["noord", "medewerker", "visitor"])
def test_every_get_route_answers_with_the_security_headers(
    app: Flask, request: pytest.FixtureRequest, who: str
) -> None:
    """Every page, whatever it answers (the page, a redirect to the login, 403, 404)."""
    client: FlaskClient = app.test_client() if who == "visitor" else request.getfixturevalue(who)
    paths = get_paths(app)

    assert len(paths) > 20
    for path in paths:
        assert_secure_headers(client.get(path))


def test_the_api_answers_with_the_security_headers(noord: FlaskClient) -> None:
    for response in (
        noord.get("/api/v1/openapi.json"),
        noord.get("/api/v1/me"),  # no token: refused
        noord.get("/api/v1/me", headers={"Authorization": "Bearer mkt_wrong"}),
        noord.post("/api/v1/redemptions", data="not json"),
        noord.get("/api/v1/nergens"),
    ):
        assert_secure_headers(response)


def test_error_pages_answer_with_the_security_headers(
    home: Path, noord: FlaskClient, medewerker: FlaskClient
) -> None:
    guarded = make_app(home, WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=1024)

    @guarded.get("/kapot")
    def broken() -> str:
        raise RuntimeError("a bug")

    guarded.config["PROPAGATE_EXCEPTIONS"] = False
    visitor = guarded.test_client()
    responses = {
        404: noord.get("/bestaat-niet"),
        405: noord.delete("/administraties"),
        403: medewerker.get("/migraties"),
        400: visitor.post("/inloggen", data={"email": "a@b.nl", "password": "x"}),
        413: visitor.post("/inloggen", data={"email": "a" * 4096}),
        500: visitor.get("/kapot"),
    }

    for status, response in responses.items():
        assert response.status_code == status
        assert_secure_headers(response)


@pytest.mark.parametrize("name", ["portal.css", "portal.js"])
def test_static_files_answer_with_the_security_headers(client: FlaskClient, name: str) -> None:
    response = client.get(f"/static/{name}")

    assert response.status_code == 200
    assert_secure_headers(response)


def test_no_hsts_over_plain_http_in_demo_mode(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/inloggen").headers


def test_hsts_on_every_response_served_over_https(client: FlaskClient) -> None:
    for path in ("/inloggen", "/static/portal.css", "/bestaat-niet"):
        response = client.get(path, base_url="https://portal.test")

        assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_hsts_on_every_response_of_a_portal_whose_address_is_https(home: Path) -> None:
    """Behind a proxy that ends TLS, the portal itself hears plain HTTP."""
    app = make_app(
        home,
        MIGRATIONKIT_ENVIRON=environ(home)
        | {"MIGRATIONKIT_PORTAL_URL": "https://migratie.example.nl"},
    )

    response = app.test_client().get("/inloggen")

    assert_secure_headers(response, hsts=True)


def login(client: FlaskClient) -> TestResponse:
    return client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})


def cookies(response: TestResponse) -> dict[str, list[str]]:
    """Each cookie the answer sets, by name: its parts."""
    parts = [
        [part.strip() for part in cookie.split(";")]
        for cookie in response.headers.getlist("Set-Cookie")
    ]
    return {flags[0].split("=", 1)[0]: flags for flags in parts}


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_outside_demo_mode(
    home: Path,
) -> None:
    app = make_app(home, MIGRATIONKIT_ENVIRON=production_environ(home))

    both = cookies(login(app.test_client()))

    assert set(both) == {SESSION_COOKIE, "session"}  # the sign-in's id, and Flask's own
    for flags in both.values():
        assert {"HttpOnly", "SameSite=Lax", "Secure", "Path=/"} <= set(flags)


def test_in_demo_mode_on_http_127_0_0_1_the_session_cookie_is_not_secure(
    client: FlaskClient,
) -> None:
    for flags in cookies(login(client)).values():
        assert {"HttpOnly", "SameSite=Lax"} <= set(flags)
        assert "Secure" not in flags


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_a_template_holds_no_inline_script_or_style(template: Path) -> None:
    text = template.read_text()

    for what, pattern in INLINE.items():
        assert not pattern.search(text), f"{what} in {template.name}"


def test_the_pages_as_rendered_hold_no_inline_script_or_style(
    app: Flask, noord: FlaskClient
) -> None:
    for path in get_paths(app):
        response = noord.get(path)
        if response.mimetype != "text/html":
            continue
        for what, pattern in INLINE.items():
            assert not pattern.search(response.text), f"{what} in {path}"


def test_the_koppelen_page_lets_its_forms_end_on_the_packages_consent_page(
    noord: FlaskClient,
) -> None:
    """ "Koppelen" posts to the portal, which redirects to the package's own (HTTPS) site
    (tests/portal/test_connections.py); browsers hold a form's redirects to form-action, so
    this page, and only this one, allows forms to end on an HTTPS site."""
    page = noord.get(CONSENT_PAGE)
    other = noord.get("/migraties")

    assert page.headers["Content-Security-Policy"] == CONSENT_POLICY
    assert other.headers["Content-Security-Policy"] == EXPECTED["Content-Security-Policy"]
