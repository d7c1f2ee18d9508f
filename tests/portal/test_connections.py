"""Instellingen > Boekhoudsysteemkoppelingen: the list, and "Koppelen" / "Koppel opnieuw"
through a real package connector (Xero, its token endpoint faked with ``responses``): the
state kept in the session, checked and used once; every refusal changes nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from portal.connections import PENDING
from portal.runtime import RUNTIME_KEY
from portal_support import Scene, Shown, codes, dump, environ, make_app, refusals, signed_in_client

from migrationkit.bootstrap import Runtime
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage

XERO_APP = "portal-xero-app"
XERO_SECRET = "cs-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d-secret"
WAY_BACK = "https://portal.test/instellingen/koppelingen/terug"
XERO_TOKEN = "https://identity.xero.com/connect/token"
NEW_ACCESS = "at-5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b-access"
NEW_REFRESH = "rt-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d-refresh"
LIST = "/instellingen/koppelingen"
BACK = "/instellingen/koppelingen/terug"
MISMATCH = "hoort niet bij een koppeling die je hier bent begonnen"


# --- the demo: in-memory packages, which ask no consent ----------------------------------------


def test_a_super_user_sees_the_environments_connections_all_connected(
    noord: FlaskClient,
) -> None:
    page = noord.get(LIST).text

    assert page.count('<th scope="row" data-label="Naam">') == 5
    for name in ("Exact Online (NL) Noord", "Twinfield Noord", "Xero Noord", "AccountView Noord"):
        assert name in page
    assert page.count(">Gekoppeld<") == 5
    assert "Documentkoppelingen bijwerken na migratie" in page
    assert "/koppelen" not in page
    assert "Zuid" not in page


def test_the_header_links_to_the_screen_in_the_users_language(noord: FlaskClient) -> None:
    with noord.session_transaction() as session:
        session["language"] = "en"

    page = noord.get("/administraties").text
    screen = noord.get(LIST).text

    assert f'<a href="{LIST}">Accounting system connections</a>' in page
    assert "Update document links after migration" in screen
    assert screen.count(">Connected<") == 5


def test_a_connection_that_asks_no_consent_is_refused_on_the_page(
    noord: FlaskClient, scene: Scene
) -> None:
    response = noord.post(f"{LIST}/{scene.connection('Noord').id}/koppelen")

    assert response.location == LIST
    assert codes(noord.get(LIST).text) == {"authorization_not_needed": "flash"}
    with noord.session_transaction() as session:
        assert PENDING not in session


def test_a_plain_user_may_not_open_the_screen(medewerker: FlaskClient) -> None:
    response = medewerker.get(LIST)

    assert response.status_code == 403
    assert 'data-code="not_super_user">' in response.text


# --- Xero set up on this server: the real connector, its tokens sealed in the database ---------


@pytest.fixture
def xero_app(home: Path) -> Flask:
    """The portal over a copy of the demo's database in production mode, with only Xero set
    up (the library's connector; no tokens for any connection yet)."""
    production = {k: v for k, v in environ(home).items() if k != "MIGRATIONKIT_DEMO"}
    return make_app(
        home,
        MIGRATIONKIT_ENVIRON={
            **production,
            "MIGRATIONKIT_XERO_CLIENT_ID": XERO_APP,
            "MIGRATIONKIT_XERO_CLIENT_SECRET": XERO_SECRET,
            "MIGRATIONKIT_XERO_REDIRECT_URL": WAY_BACK,
        },
    )


@pytest.fixture
def xero_scene(xero_app: Flask) -> Scene:
    runtime: Runtime = xero_app.extensions[RUNTIME_KEY]
    return Scene(runtime.deps)


@pytest.fixture
def as_user(xero_app: Flask, xero_scene: Scene) -> Callable[[str], FlaskClient]:
    def sign_in(email: str) -> FlaskClient:
        return signed_in_client(xero_app, xero_scene.user(email))

    return sign_in


@pytest.fixture
def database(xero_app: Flask) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    runtime: Runtime = xero_app.extensions[RUNTIME_KEY]
    return lambda: dump(runtime.settings.database_url)


@pytest.fixture
def package() -> Iterator[responses.RequestsMock]:
    """Xero's API: only what a test registers answers; nothing else may be called."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def xero_connection_id(scene: Scene, office: str = "Noord") -> int:
    return scene.connection(office, AccountingPackage.XERO).id


def start_consent(client: FlaskClient, connection_id: int) -> str:
    """Presses Koppelen: the state sent to Xero, which is the one the session keeps."""
    response = client.post(f"{LIST}/{connection_id}/koppelen")
    assert response.status_code == 302
    consent = urlsplit(response.location)
    assert f"{consent.scheme}://{consent.netloc}{consent.path}" == (
        "https://login.xero.com/identity/connect/authorize"
    )
    (state,) = parse_qs(consent.query)["state"]
    with client.session_transaction() as session:
        assert session[PENDING] == {"state": state, "connection_id": connection_id}
    return state


def test_koppelen_goes_to_xero_and_back_and_the_connection_is_connected(
    as_user: Callable[[str], FlaskClient],
    xero_scene: Scene,
    package: responses.RequestsMock,
    database: Callable[[], dict[str, list[tuple[Any, ...]]]],
) -> None:
    noord = as_user("noord@example.nl")
    connection_id = xero_connection_id(xero_scene)
    before = noord.get(LIST).text
    package.post(
        XERO_TOKEN,
        json={"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 1800},
    )

    state = start_consent(noord, connection_id)
    back = noord.get(BACK, query_string={"state": state, "code": "consent-code-1"})
    after = noord.get(LIST).text

    assert "Niet gekoppeld" in before
    assert ">Koppelen<" in before
    assert before.count("niet ingesteld op deze server") == 4
    assert back.location == LIST
    assert "Xero Noord is gekoppeld." in after
    assert after.count(">Gekoppeld<") == 1
    assert ">Koppel opnieuw<" in after
    (call,) = package.calls
    app = base64.b64encode(f"{XERO_APP}:{XERO_SECRET}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {app}"
    assert parse_qs(call.request.body) == {
        "grant_type": ["authorization_code"],
        "code": ["consent-code-1"],
        "redirect_uri": [WAY_BACK],
    }
    with noord.session_transaction() as session:
        assert PENDING not in session
    (sealed,) = database()["connector_tokens"]
    assert connection_id in sealed
    assert not any(token in repr(sealed) for token in (NEW_ACCESS, NEW_REFRESH))


def test_a_wrong_state_is_refused_and_spends_the_consent_under_way(
    as_user: Callable[[str], FlaskClient],
    xero_scene: Scene,
    package: responses.RequestsMock,
    database: Callable[[], object],
) -> None:
    noord = as_user("noord@example.nl")
    state = start_consent(noord, xero_connection_id(xero_scene))
    before = database()

    wrong = noord.get(BACK, query_string={"state": state[:-1] + "x", "code": "c-1"})
    shown = noord.get(LIST).text
    replayed = noord.get(BACK, query_string={"state": state, "code": "c-1"})

    assert wrong.location == LIST
    assert replayed.location == LIST
    assert MISMATCH in shown
    assert ">Gekoppeld<" not in shown
    assert MISMATCH in noord.get(LIST).text
    assert len(package.calls) == 0
    assert database() == before


def test_a_way_back_without_a_consent_under_way_is_refused(
    as_user: Callable[[str], FlaskClient], package: responses.RequestsMock
) -> None:
    noord = as_user("noord@example.nl")

    noord.get(BACK, query_string={"state": "", "code": "c-1"})

    assert MISMATCH in noord.get(LIST).text
    assert len(package.calls) == 0


@pytest.mark.parametrize("answer", ["said-no", "code-refused"])
def test_a_no_at_xero_or_a_refused_code_is_a_clear_refusal_that_changes_nothing(
    as_user: Callable[[str], FlaskClient],
    xero_scene: Scene,
    package: responses.RequestsMock,
    database: Callable[[], object],
    answer: str,
) -> None:
    noord = as_user("noord@example.nl")
    state = start_consent(noord, xero_connection_id(xero_scene))
    before = database()
    if answer == "said-no":
        query = {"state": state, "error": "access_denied"}
    else:
        query = {"state": state, "code": "spent"}
        package.post(XERO_TOKEN, status=400, json={"error": "invalid_grant"})

    noord.get(BACK, query_string=query)
    page = noord.get(LIST).text

    assert codes(page) == {"package_consent_refused": "flash"}
    assert "Niet gekoppeld" in page
    assert len(package.calls) == (0 if answer == "said-no" else 1)
    assert database() == before


def test_the_refusal_from_xero_is_shown_in_english(
    as_user: Callable[[str], FlaskClient], xero_scene: Scene
) -> None:
    noord = as_user("noord@example.nl")
    with noord.session_transaction() as session:
        session["language"] = "en"
    state = start_consent(noord, xero_connection_id(xero_scene))

    noord.get(BACK, query_string={"state": state, "error": "access_denied"})

    refused = PackageError("package_consent_refused", package="Xero")
    assert refusals(noord.get(LIST).text) == [Shown(refused.code, refused.message("en"), "flash")]


def test_another_environments_connection_cannot_be_connected(
    as_user: Callable[[str], FlaskClient],
    xero_scene: Scene,
    database: Callable[[], object],
) -> None:
    oost = as_user("oost@example.nl")
    before = database()

    response = oost.post(f"{LIST}/{xero_connection_id(xero_scene, 'Noord')}/koppelen")

    assert response.status_code == 404
    with oost.session_transaction() as session:
        assert PENDING not in session
    assert database() == before


def test_koppelen_needs_the_forms_csrf_token(
    as_user: Callable[[str], FlaskClient], xero_app: Flask, xero_scene: Scene
) -> None:
    xero_app.config["WTF_CSRF_ENABLED"] = True
    guarded = as_user("noord@example.nl")

    response = guarded.post(f"{LIST}/{xero_connection_id(xero_scene)}/koppelen")

    assert response.status_code == 400
    with guarded.session_transaction() as session:
        assert PENDING not in session
