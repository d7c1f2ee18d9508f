"""The lockouts hold under a burst: 60 requests at the very same moment at the portal served
over real HTTP (a thread per request), on SQLite and on PostgreSQL. Of 59 wrong passwords at
once no more than the sign-in lockout's 10 are checked, and of 59 wrong transfer codes (the
code form and POST /api/v1/redemptions) no more than R7's 5 are evaluated; the right
password or code, sent within the burst once the limit is reached, gets exactly a wrong
one's answer and opens nothing. Counted from what the library recorded: the audit trail's
refused sign-ins (``sign_in_failed``: checked, ``sign_in_locked``: not looked at) and the
wrong codes in ``redeem_failures``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from portal_support import RUNTIME_KEY, SESSION_COOKIE, Scene, environ, make_app
from security_support import all_at_once, served
from sqlalchemy import Table, func, select

from migrationkit import services
from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.adapters.sqlalchemy.tables import audit_events, redeem_failures, transfer_offers
from migrationkit.bootstrap import Runtime
from migrationkit.domain import codes
from migrationkit.domain.rules import LockoutPolicy
from migrationkit.services.dependencies import SIGN_IN_LOCKOUT

BURST = 60
CODE_LOCKOUT = LockoutPolicy()
CSRF = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")([^"]+)"')
#: The refusals the pages show, by their codes.
WRONG_PASSWORD = 'data-code="sign_in_failed"'
LOCKED_CODE = 'data-code="redeem_locked"'
#: The longest a thread waits for the burst to reach the limit: a bound, not a measure.
PATIENCE = 120.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, home: Path) -> dict[str, str]:
    """The demo's database: the SQLite copy of the test's home, or the demo seeded into a
    fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    url = request.getfixturevalue("throwaway_postgres")
    return {"MIGRATIONKIT_DATABASE_URL": url}


@pytest.fixture
def portal(home: Path, database: dict[str, str]) -> Iterator[Flask]:
    """The portal as served: CSRF on, the system clock, its own host name."""
    app = make_app(
        home,
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
        MIGRATIONKIT_ENVIRON=environ(home) | database,
    )
    yield app
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]


@pytest.fixture
def url(portal: Flask) -> Iterator[str]:
    with served(portal) as base:
        yield base


@pytest.fixture
def portal_scene(portal: Flask) -> Scene:
    runtime: Runtime = portal.extensions[RUNTIME_KEY]
    return Scene(runtime.deps)


def counted(app: Flask, table: Table, *where: object) -> int:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    engine = make_engine(runtime.settings.database_url)
    try:
        with engine.connect() as connection:
            statement = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
            return int(connection.execute(statement).scalar_one())
    finally:
        engine.dispose()


def after(reached: Callable[[], bool], send: Callable[[], requests.Response]) -> requests.Response:
    """Sends once ``reached`` holds: a request of the burst that comes after the limit."""
    deadline = time.monotonic() + PATIENCE
    while not reached():
        assert time.monotonic() < deadline, "the burst never reached the limit"
        time.sleep(0.02)
    return send()


def without_csrf(text: str) -> str:
    return CSRF.sub(r'\1"', text)


def browser_at(url: str, path: str) -> tuple[requests.Session, str]:
    """A browser that opened a page with a form: its cookies and the form's CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{url}{path}", timeout=30)
    found = CSRF.search(page.text)
    assert found, path
    return browser, found.group(2)


# --- sign-in ---------------------------------------------------------------------------------


def refused_sign_ins(app: Flask, code: str) -> int:
    column = audit_events.c
    return counted(app, audit_events, column.action == "sign_in", column.error_code == code)


def test_a_burst_of_wrong_passwords_checks_at_most_the_limit_and_the_right_one_fails(
    portal: Flask, url: str
) -> None:
    limit = SIGN_IN_LOCKOUT.max_failures
    browsers = [browser_at(url, "/inloggen") for _ in range(BURST)]

    def sign_in(index: int, password: str) -> Callable[[], requests.Response]:
        browser, token = browsers[index]
        form = {"email": "noord@example.nl", "password": password, "csrf_token": token}
        return lambda: browser.post(
            f"{url}/inloggen", data=form, allow_redirects=False, timeout=PATIENCE
        )

    def right_after_the_limit() -> requests.Response:
        reached = lambda: refused_sign_ins(portal, "sign_in_failed") >= limit  # noqa: E731
        return after(reached, sign_in(BURST - 1, "demo"))

    answers = all_at_once(
        [sign_in(i, f"geraden-{i}") for i in range(BURST - 1)] + [right_after_the_limit]
    )

    assert refused_sign_ins(portal, "sign_in_failed") == limit  # checked, all wrong
    assert refused_sign_ins(portal, "sign_in_locked") == BURST - limit  # never looked at
    right = answers[-1]
    assert right.status_code == 200
    assert WRONG_PASSWORD in right.text
    assert SESSION_COOKIE not in right.cookies
    wrong = answers[0]
    assert without_csrf(right.text) == without_csrf(wrong.text)  # no oracle
    assert [a.status_code for a in answers] == [200] * BURST
    column = audit_events.c
    assert counted(portal, audit_events, column.action == "sign_in", column.outcome == "done") == 0


# --- transfer codes --------------------------------------------------------------------------


def wrong_code(index: int) -> str:
    return codes.format_code(f"{index:0>24}".replace("0", "Z")[:24])


def redeemed(app: Flask, offer_id: int) -> bool:
    column = transfer_offers.c
    return counted(app, transfer_offers, column.id == offer_id, column.redeemed_at.is_not(None)) > 0


def signed_in_browser(portal: Flask, scene: Scene, url: str) -> tuple[requests.Session, str]:
    """Zuid's super user in a browser of their own, on the code form."""
    runtime: Runtime = portal.extensions[RUNTIME_KEY]
    issued = services.open_session(runtime.deps, actor_id=scene.user("zuid@example.nl"))
    browser = requests.Session()
    browser.cookies.set(SESSION_COOKIE, issued.secret)
    page = browser.get(f"{url}/migraties/inkomend/code", timeout=30)
    found = CSRF.search(page.text)
    assert found, page.text[:300]
    return browser, found.group(2)


@pytest.mark.parametrize("channel", ["form", "api"])
def test_a_burst_of_wrong_codes_evaluates_at_most_the_limit_and_the_right_one_fails(
    portal: Flask, portal_scene: Scene, url: str, channel: str
) -> None:
    receipt = portal_scene.offer("1001")
    zuid = portal_scene.user("zuid@example.nl")
    limit = CODE_LOCKOUT.max_failures
    if channel == "form":
        browsers = [signed_in_browser(portal, portal_scene, url) for _ in range(BURST)]
    else:
        token = services.create_api_token(portal_scene.deps, actor_id=zuid, name="Aanval")
        header = {"Authorization": f"Bearer {token.secret}"}

    def redeem(index: int, code: str) -> Callable[[], requests.Response]:
        if channel == "form":
            browser, csrf = browsers[index]
            form = {"code": code, "voorwaarden": "y", "kosten": "y", "csrf_token": csrf}
            return lambda: browser.post(
                f"{url}/migraties/inkomend/code", data=form, allow_redirects=False, timeout=PATIENCE
            )
        body = {"code": code, "accept_terms": True, "accept_costs": True}
        return lambda: requests.post(
            f"{url}/api/v1/redemptions", json=body, headers=header, timeout=PATIENCE
        )

    def right_after_the_limit() -> requests.Response:
        reached = lambda: counted(portal, redeem_failures) >= limit  # noqa: E731
        return after(reached, redeem(BURST - 1, receipt.code))

    answers = all_at_once(
        [redeem(i, wrong_code(i)) for i in range(BURST - 1)] + [right_after_the_limit]
    )

    assert counted(portal, redeem_failures) == limit  # evaluated, all wrong
    assert not redeemed(portal, receipt.offer.id)
    right, locked = answers[-1], answers[limit + 1 :]
    if channel == "form":
        assert right.status_code == 200
        assert LOCKED_CODE in right.text
    else:
        assert right.status_code == 429
        assert right.json()["code"] == "redeem_locked"
        assert int(right.headers["Retry-After"]) > 0
    assert sum(LOCKED_CODE in a.text or a.status_code == 429 for a in answers) >= BURST - limit
    assert locked  # the burst went on past the limit
