"""A stolen or forgotten session: sessions live on the server, so Uitloggen ends them for
every copy of the cookie; a session lasts 8 hours from the sign-in however busy it is, and
ends after 30 minutes without a request (the test clock lets the time pass); its user sees
and ends their sessions under Instellingen > Sessies; a new password ends them all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, SESSION_COOKIE, Scene, codes, make_app
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.adapters.sqlalchemy.tables import api_tokens, sessions
from migrationkit.bootstrap import Runtime
from migrationkit.testing import FakeClock
from served import CSRF

HOST = "portal.test"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
EXPIRED = "Je sessie is verlopen. Log opnieuw in."


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def guarded(home: Path, clock: FakeClock) -> Iterator[Flask]:
    """The portal with CSRF on, as served, and the test's clock."""
    app = make_app(home, WTF_CSRF_ENABLED=True, CLOCK=clock)
    yield app
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]


def csrf_token(client: FlaskClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found, f"{path} has a form with a CSRF token"
    return found.group(1)


def sign_in(
    app: Flask, email: str = "noord@example.nl", user_agent: str = CHROME_ON_LINUX
) -> FlaskClient:
    """A browser that signs in through the login page."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    token = csrf_token(client, "/inloggen")
    response = client.post(
        "/inloggen", data={"email": email, "password": "demo", "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    return client


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding copies of every cookie of ``client``."""
    thief = app.test_client()
    for name in (SESSION_COOKIE, "session"):
        cookie = client.get_cookie(name, domain=HOST)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value, domain=HOST)
    return thief


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/administraties")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.location.startswith("/inloggen")
    return False


def count(app: Flask, table: object) -> int:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    engine = make_engine(runtime.settings.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_a_cookie_copied_before_signing_out_opens_nothing_afterwards(guarded: Flask) -> None:
    browser = sign_in(guarded)
    token = csrf_token(browser, "/instellingen/api-tokens")
    thief = copy_of(guarded, browser)
    assert signed_in(thief)  # the copy is a real one

    browser.post("/uitloggen", data={"csrf_token": token})

    assert not signed_in(browser)
    migraties = thief.get("/migraties")
    assert migraties.status_code == 302
    assert migraties.location.startswith("/inloggen")
    tokens_before = count(guarded, api_tokens)
    made = thief.post("/instellingen/api-tokens", data={"naam": "Buit", "csrf_token": token})
    assert made.status_code in (302, 400)
    assert "mkt_" not in made.text
    assert count(guarded, api_tokens) == tokens_before
    assert count(guarded, sessions) == 0
    assert not signed_in(thief)


def test_the_database_keeps_no_session_id(guarded: Flask) -> None:
    browser = sign_in(guarded)
    cookie = browser.get_cookie(SESSION_COOKIE, domain=HOST)
    assert cookie is not None
    runtime: Runtime = guarded.extensions[RUNTIME_KEY]
    engine = make_engine(runtime.settings.database_url)
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(select(sessions))]
    finally:
        engine.dispose()

    assert len(rows) == 1
    assert cookie.value not in repr(rows)
    assert len(cookie.value) >= 43  # 256 bits from secrets, URL-safe


def test_a_client_busy_every_few_minutes_is_signed_out_eight_hours_after_signing_in(
    guarded: Flask, clock: FakeClock
) -> None:
    signed_in_at = clock.now()
    browser = sign_in(guarded)

    while clock.now() + timedelta(minutes=5) < signed_in_at + timedelta(hours=8):
        clock.advance(timedelta(minutes=5))
        assert signed_in(browser), clock.now() - signed_in_at

    clock.set(signed_in_at + timedelta(hours=8))
    response = browser.get("/administraties")
    assert response.location == "/inloggen"
    assert EXPIRED in browser.get("/inloggen").text
    assert not signed_in(browser)


def test_a_session_ends_after_thirty_minutes_without_a_request(
    guarded: Flask, clock: FakeClock
) -> None:
    browser = sign_in(guarded)
    other = sign_in(guarded, user_agent=FIREFOX_ON_WINDOWS)

    clock.advance(timedelta(minutes=29, seconds=59))
    assert signed_in(browser)
    clock.advance(timedelta(minutes=29, seconds=59))
    assert signed_in(browser)  # idle is counted from the last request
    assert not signed_in(other)  # 59:58 without a request

    clock.advance(timedelta(minutes=30))
    response = browser.get("/administraties")
    assert response.location == "/inloggen"
    assert EXPIRED in browser.get("/inloggen").text


def sessions_page(client: FlaskClient) -> str:
    response = client.get("/instellingen/sessies")
    assert response.status_code == 200
    return response.text


def rows_of(page: str) -> list[str]:
    return re.findall(
        r"<tr(?: aria-current=\"true\")?>\s*<th scope=\"row\"[^>]*>(.*?)</tr>", page, re.S
    )


def test_the_sessies_page_lists_the_users_own_sessions_with_their_browsers(
    guarded: Flask, clock: FakeClock
) -> None:
    phone = sign_in(guarded, user_agent=SAFARI_ON_IPHONE)
    clock.advance(timedelta(minutes=3))
    laptop = sign_in(guarded, user_agent=FIREFOX_ON_WINDOWS)
    clock.advance(timedelta(minutes=2))
    browser = sign_in(guarded)
    sign_in(guarded, email="zuid@example.nl")

    page = sessions_page(browser)

    rows = rows_of(page)
    assert len(rows) == 3  # Zuid's session is not Noord's
    assert "Chrome op Linux" in rows[0]
    assert "Deze sessie" in rows[0]
    assert "Firefox op Windows" in rows[1]
    assert "Deze sessie" not in rows[1]
    assert "Safari op iOS" in rows[2]
    assert page.count('aria-current="true"') == 1
    assert "Beëindigen" in page
    assert "Alle andere beëindigen" in page
    assert signed_in(phone)
    assert signed_in(laptop)
    browser.post("/taal", data={"language": "en", "csrf_token": csrf_token(browser, "/inloggen")})
    english = sessions_page(browser)
    assert "Chrome on Linux" in english
    assert "This session" in english


def test_ending_a_session_signs_that_browser_out_at_once(guarded: Flask) -> None:
    laptop = sign_in(guarded, user_agent=FIREFOX_ON_WINDOWS)
    browser = sign_in(guarded)
    (laptop_id,) = [
        int(found)
        for found in re.findall(r"/instellingen/sessies/(\d+)/beeindigen", sessions_page(browser))
        if int(found) != current_id(guarded, browser)
    ]

    ended = browser.post(
        f"/instellingen/sessies/{laptop_id}/beeindigen",
        data={"csrf_token": csrf_token(browser, "/instellingen/sessies")},
    )

    assert ended.location == "/instellingen/sessies"
    assert "De sessie is beëindigd." in sessions_page(browser)
    assert len(rows_of(sessions_page(browser))) == 1
    assert not signed_in(laptop)
    assert signed_in(browser)


def test_ending_every_other_session_keeps_only_this_one(guarded: Flask) -> None:
    others = [
        sign_in(guarded, user_agent=agent) for agent in (SAFARI_ON_IPHONE, FIREFOX_ON_WINDOWS)
    ]
    browser = sign_in(guarded)
    zuid = sign_in(guarded, email="zuid@example.nl")

    ended = browser.post(
        "/instellingen/sessies/andere-beeindigen",
        data={"csrf_token": csrf_token(browser, "/instellingen/sessies")},
    )

    assert ended.location == "/instellingen/sessies"
    page = sessions_page(browser)
    assert "2 andere sessie(s) beëindigd." in page
    assert len(rows_of(page)) == 1
    assert "Deze sessie" in page
    assert "Alle andere beëindigen" not in page
    assert [signed_in(other) for other in others] == [False, False]
    assert signed_in(browser)
    assert signed_in(zuid)


def test_ending_the_session_in_use_signs_out(guarded: Flask) -> None:
    browser = sign_in(guarded)

    ended = browser.post(
        f"/instellingen/sessies/{current_id(guarded, browser)}/beeindigen",
        data={"csrf_token": csrf_token(browser, "/instellingen/sessies")},
    )

    assert ended.location == "/inloggen"
    assert not signed_in(browser)


def test_another_users_session_cannot_be_ended(guarded: Flask) -> None:
    zuid = sign_in(guarded, email="zuid@example.nl")
    browser = sign_in(guarded)

    response = browser.post(
        f"/instellingen/sessies/{current_id(guarded, zuid)}/beeindigen",
        data={"csrf_token": csrf_token(browser, "/instellingen/sessies")},
    )

    assert response.status_code == 404
    assert signed_in(zuid)


def current_id(app: Flask, client: FlaskClient) -> int:
    """The id of the session the client is signed in with."""
    cookie = client.get_cookie(SESSION_COOKIE, domain=HOST)
    assert cookie is not None
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    resumed = services.resume_session(runtime.deps, secret=cookie.value)
    return resumed.session.id


def test_a_new_password_ends_every_session_of_the_user(guarded: Flask, scene: Scene) -> None:
    browsers = [sign_in(guarded, user_agent=agent) for agent in (CHROME_ON_LINUX, SAFARI_ON_IPHONE)]
    zuid = sign_in(guarded, email="zuid@example.nl")
    runtime: Runtime = guarded.extensions[RUNTIME_KEY]

    services.change_password(
        runtime.deps,
        actor_id=scene.user("noord@example.nl"),
        password_matches=lambda stored: stored is not None,
        new_password="een heel nieuw wachtwoord",
        hash_password=lambda password: password,
    )

    assert [signed_in(browser) for browser in browsers] == [False, False]
    assert signed_in(zuid)


def change_password(client: FlaskClient, current: str, new: str, again: str) -> TestResponse:
    return client.post(
        "/instellingen/wachtwoord",
        data={
            "huidig": current,
            "nieuw": new,
            "herhaling": again,
            "csrf_token": csrf_token(client, "/instellingen/wachtwoord"),
        },
    )


def test_a_new_password_from_the_portal_signs_out_every_browser(guarded: Flask) -> None:
    phone = sign_in(guarded, user_agent=SAFARI_ON_IPHONE)
    browser = sign_in(guarded)

    changed = change_password(
        browser, "demo", "een heel nieuw wachtwoord", "een heel nieuw wachtwoord"
    )

    assert changed.location == "/inloggen"
    assert "Je wachtwoord is gewijzigd." in browser.get("/inloggen").text
    assert not signed_in(browser)
    assert not signed_in(phone)
    again = guarded.test_client()
    token = csrf_token(again, "/inloggen")
    old = again.post(
        "/inloggen", data={"email": "noord@example.nl", "password": "demo", "csrf_token": token}
    )
    assert old.status_code == 200  # the old password opens nothing
    new = again.post(
        "/inloggen",
        data={
            "email": "noord@example.nl",
            "password": "een heel nieuw wachtwoord",
            "csrf_token": token,
        },
    )
    assert new.status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "code"),
    [
        (
            "fout",
            "een heel nieuw wachtwoord",
            "een heel nieuw wachtwoord",
            "huidig",
            "password_wrong",
        ),
        ("demo", "kort", "kort", "nieuw", "password_too_short"),
        # the form's own check, not the library's: no code
        ("demo", "een heel nieuw wachtwoord", "een ander wachtwoord", "herhaling", None),
    ],
)
def test_a_refused_new_password_is_shown_at_its_field_and_changes_nothing(
    guarded: Flask, current: str, new: str, again: str, field: str, code: str | None
) -> None:
    browser = sign_in(guarded)

    response = change_password(browser, current, new, again)

    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text
    assert codes(response.text) == ({code: f"{field}-error"} if code else {})
    assert signed_in(browser)


def test_signing_in_again_gives_a_new_id_and_ends_the_old_session(guarded: Flask) -> None:
    browser = sign_in(guarded)
    token = csrf_token(browser, "/inloggen")
    old = copy_of(guarded, browser)

    again = browser.post(
        "/inloggen", data={"email": "zuid@example.nl", "password": "demo", "csrf_token": token}
    )

    assert again.status_code == 302
    assert "Ingelogd als zuid@example.nl" in browser.get("/administraties").text
    assert not signed_in(old)
