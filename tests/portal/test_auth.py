"""Signing in and out, the session's limits, roles, and the CSRF token on every POST."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from portal_support import (
    SESSION_COOKIE,
    Scene,
    codes,
    make_app,
    production_environ,
    signed_in_client,
)
from werkzeug.test import TestResponse


def test_the_login_page_has_labelled_fields(client: FlaskClient) -> None:
    page = client.get("/inloggen").text

    assert '<html lang="nl">' in page
    assert '<label class="form-label" for="email">E-mailadres</label>' in page
    assert '<label class="form-label" for="password">Wachtwoord</label>' in page


def test_a_demo_user_signs_in_with_the_password_demo(client: FlaskClient) -> None:
    response = client.post("/inloggen", data={"email": "Noord@Example.nl", "password": "demo"})

    assert response.status_code == 302
    assert response.location == "/"
    page = client.get("/administraties").text
    assert "Ingelogd als noord@example.nl" in page
    assert "Bakkerij De Korenschoof" in page


def test_after_signing_in_the_user_goes_back_to_the_page_asked_for(client: FlaskClient) -> None:
    asked = client.get("/migraties?aangeboden=bakkerij")
    assert asked.status_code == 302
    assert asked.location == "/inloggen?next=/migraties?aangeboden%3Dbakkerij"

    response = client.post(asked.location, data={"email": "noord@example.nl", "password": "demo"})

    assert response.location == "/migraties?aangeboden=bakkerij"


def test_a_next_address_on_another_site_is_ignored(client: FlaskClient) -> None:
    response = client.post(
        "/inloggen?next=https://evil.example/",
        data={"email": "noord@example.nl", "password": "demo"},
    )

    assert response.location == "/"


def test_a_wrong_password_is_refused_on_the_login_page_and_keeps_the_address(
    client: FlaskClient,
) -> None:
    response = client.post("/inloggen", data={"email": "noord@example.nl", "password": "fout"})

    assert response.status_code == 200
    assert codes(response.text) == {"sign_in_failed": "password-error"}
    assert 'value="noord@example.nl"' in response.text
    assert 'aria-describedby="password-error"' in response.text
    assert client.get("/administraties").status_code == 302


def test_an_unknown_address_gets_the_same_refusal(client: FlaskClient) -> None:
    response = client.post("/inloggen", data={"email": "niemand@example.nl", "password": "demo"})

    assert codes(response.text) == {"sign_in_failed": "password-error"}


def test_logging_out_ends_the_session(noord: FlaskClient) -> None:
    response = noord.post("/uitloggen")

    assert response.location == "/inloggen"
    assert noord.get("/administraties").location.startswith("/inloggen")


def session_cookie(response: TestResponse) -> str:
    (cookie,) = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(f"{SESSION_COOKIE}=")
    ]
    return cookie


def test_the_session_cookie_holds_an_id_lasts_eight_hours_is_http_only_and_same_site(
    client: FlaskClient,
) -> None:
    response = client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})

    cookie = session_cookie(response)
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert len(session_id) >= 43  # 256 bits, URL-safe base64
    assert "Max-Age=28800" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_a_portal_outside_demo_mode_marks_its_session_cookie_secure(home: Path) -> None:
    app = make_app(home, MIGRATIONKIT_ENVIRON=production_environ(home))

    response = app.test_client().post(
        "/inloggen", data={"email": "noord@example.nl", "password": "demo"}
    )

    assert "; Secure" in session_cookie(response)


def test_a_plain_user_is_refused_the_migration_pages(medewerker: FlaskClient) -> None:
    """In the user's language: test_i18n.py reads the refusal page in Dutch and English."""
    response = medewerker.get("/migraties")

    assert response.status_code == 403
    assert codes(response.text) == {"not_super_user": "refusal"}


def test_a_plain_user_sees_no_migration_links(medewerker: FlaskClient) -> None:
    page = medewerker.get("/administraties").text

    assert "+ Migreer administratie(s)" not in page
    assert "Migraties" not in page


def test_a_post_without_csrf_token_is_refused(home: Path, scene: Scene) -> None:
    app = make_app(home, WTF_CSRF_ENABLED=True)
    client = app.test_client()

    login = client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})
    assert login.status_code == 400
    assert "Het formulier is verlopen of ongeldig" in login.text

    client = signed_in_client(app, scene.user("noord@example.nl"))
    refused = client.post("/migraties/acties", data={"keuze": "uitgaand"})
    assert refused.status_code == 400


def test_a_post_with_the_csrf_token_of_the_page_is_accepted(home: Path) -> None:
    app = make_app(home, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/inloggen").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]

    response = client.post(
        "/inloggen", data={"email": "noord@example.nl", "password": "demo", "csrf_token": token}
    )

    assert response.status_code == 302
