"""Instellingen > API-tokens: every signed-in user lists, creates and revokes their own
tokens; a new token is shown once, on a page no cache keeps, and works until Intrekken."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from portal_support import PLAIN_USER, Scene, Shown, codes, make_app, refusals, signed_in_client

from migrationkit import services
from migrationkit.domain.errors import InvalidInput, NotAllowed
from migrationkit.services import Dependencies

Dump = Callable[[], object]
TOKEN = re.compile(r'<p class="code" id="api-token">(mkt_[A-Za-z0-9_-]{43})</p>')
PAGE = "/instellingen/api-tokens"


def create(client: FlaskClient, name: str = "Koppeling met ons CRM") -> str:
    """Creates a token through the page; the token as the page showed it."""
    response = client.post(PAGE, data={"naam": name})
    found = TOKEN.search(response.text)
    assert found is not None, response.text
    return found.group(1)


def token_id(deps: Dependencies, scene: Scene, email: str) -> int:
    """The id of the user's newest token."""
    return services.list_api_tokens(deps, actor_id=scene.user(email))[0].id


def test_the_nav_leads_everyone_signed_in_to_their_api_tokens(
    noord: FlaskClient, medewerker: FlaskClient
) -> None:
    for client in (noord, medewerker):
        page = client.get("/administraties").text
        assert f'<a href="{PAGE}">API-tokens</a>' in page

    page = medewerker.get(PAGE)
    assert page.status_code == 200
    assert "Je hebt nog geen API-tokens." in page.text
    assert '<label class="form-label" for="naam">Naam</label>' in page.text


def test_a_new_token_is_shown_once_on_a_page_no_cache_keeps(noord: FlaskClient) -> None:
    response = noord.post(PAGE, data={"naam": "Koppeling met ons CRM"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = TOKEN.search(response.text)
    assert found is not None
    token = found.group(1)
    assert "het wordt maar één keer getoond en niet bewaard" in response.text
    assert "Het API-token Koppeling met ons CRM is aangemaakt." in response.text

    listed = noord.get(PAGE)
    assert token not in listed.text
    assert f"{token[:8]}…" in listed.text
    assert "Koppeling met ons CRM" in listed.text
    assert "Actief" in listed.text
    assert "nog niet" in listed.text
    assert noord.get(PAGE).text.count(token[:8]) == listed.text.count(token[:8])


def me(client: FlaskClient, token: str) -> Any:
    """GET /api/v1/me with the token, as a program sends it."""
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_new_token_opens_the_api_as_its_user_until_intrekken(
    noord: FlaskClient, client: FlaskClient, scene: Scene, deps: Dependencies
) -> None:
    token = create(noord)
    answer = me(client, token)
    assert answer.status_code == 200
    assert answer.json is not None
    assert answer.json["email"] == "noord@example.nl"

    response = noord.post(f"{PAGE}/{token_id(deps, scene, 'noord@example.nl')}/intrekken")

    assert response.location == PAGE
    page = noord.get(PAGE).text
    assert "Het API-token Koppeling met ons CRM is ingetrokken." in page
    assert "Ingetrokken" in page
    assert "/intrekken" not in page
    refused = me(client, token)
    assert refused.status_code == 401
    assert refused.json is not None
    assert refused.json["code"] == "api_token_invalid"
    with pytest.raises(NotAllowed) as caught:
        services.authenticate_api_token(deps, token=token)
    assert caught.value.code == "api_token_invalid"


def test_the_list_shows_when_a_token_was_last_used(noord: FlaskClient, deps: Dependencies) -> None:
    token = create(noord)
    services.authenticate_api_token(deps, token=token)

    page = noord.get(PAGE).text

    # Aangemaakt and Laatst gebruikt, both a moment now.
    moment = r"<td data-label=\"[^\"]+\">\d\d-\d\d-\d{4} \d\d:\d\d</td>"
    assert re.search(moment + r"\s*" + moment, page)
    assert "nog niet" not in page


def test_a_token_without_a_name_is_refused_at_the_field(
    noord: FlaskClient, database_dump: Dump
) -> None:
    before = database_dump()

    response = noord.post(PAGE, data={"naam": "   "})

    assert response.status_code == 200
    assert TOKEN.search(response.text) is None
    assert codes(response.text) == {"api_token_name_missing": "naam-error"}
    assert 'aria-describedby="naam-hint naam-error"' in response.text
    assert database_dump() == before


def test_a_name_that_is_too_long_is_refused_at_the_field_and_kept(
    noord: FlaskClient, database_dump: Dump
) -> None:
    before = database_dump()

    response = noord.post(PAGE, data={"naam": "x" * 101})

    assert codes(response.text) == {"api_token_name_too_long": "naam-error"}
    assert f'value="{"x" * 101}"' in response.text
    assert 'maxlength="100"' in response.text
    assert database_dump() == before


def test_the_twenty_first_token_is_refused_at_the_field(
    noord: FlaskClient, scene: Scene, deps: Dependencies, database_dump: Dump
) -> None:
    for number in range(20):
        services.create_api_token(
            deps, actor_id=scene.user("noord@example.nl"), name=f"Programma {number}"
        )
    before = database_dump()

    response = noord.post(PAGE, data={"naam": "Nog één"})

    assert codes(response.text) == {"too_many_api_tokens": "naam-error"}
    assert database_dump() == before


def test_another_users_token_cannot_be_revoked(
    noord: FlaskClient,
    client: FlaskClient,
    scene: Scene,
    deps: Dependencies,
    database_dump: Dump,
) -> None:
    issued = services.create_api_token(
        deps, actor_id=scene.user("zuid@example.nl"), name="Zuid's script"
    )
    before = database_dump()

    response = noord.post(f"{PAGE}/{issued.token.id}/intrekken")

    assert response.status_code == 404
    assert "Zuid&#39;s script" not in response.text
    assert database_dump() == before
    assert me(noord, issued.secret).json == me(client, issued.secret).json
    assert me(client, issued.secret).json["email"] == "zuid@example.nl"


def test_each_user_lists_only_their_own_tokens(noord: FlaskClient, medewerker: FlaskClient) -> None:
    create(noord, "Script van Noord")

    page = medewerker.get(PAGE).text

    assert "Script van Noord" not in page
    assert "Je hebt nog geen API-tokens." in page


def test_a_plain_user_manages_their_own_tokens(
    medewerker: FlaskClient, scene: Scene, deps: Dependencies
) -> None:
    token = create(medewerker, "Rapportage")

    assert services.authenticate_api_token(deps, token=token).email == PLAIN_USER
    medewerker.post(f"{PAGE}/{token_id(deps, scene, PLAIN_USER)}/intrekken")
    with pytest.raises(NotAllowed):
        services.authenticate_api_token(deps, token=token)


def test_the_pages_speak_english_on_request(noord: FlaskClient) -> None:
    with noord.session_transaction() as session:
        session["language"] = "en"

    response = noord.post(PAGE, data={"naam": "CRM"})
    assert "Copy the token now and keep it safe: it is shown only once" in response.text

    page = noord.get(PAGE).text
    assert "Your API tokens" in page
    assert "Active" in page
    assert "Revoke" in page
    refused = InvalidInput("api_token_name_missing")
    assert refusals(noord.post(PAGE, data={"naam": ""}).text) == [
        Shown(refused.code, refused.message("en"), "naam-error")
    ]


def test_intrekken_needs_the_forms_csrf_token(home: Path, scene: Scene) -> None:
    app = make_app(home, WTF_CSRF_ENABLED=True)
    deps: Dependencies = app.extensions["migrationkit"].deps
    issued = services.create_api_token(deps, actor_id=scene.user("noord@example.nl"), name="CRM")
    client = signed_in_client(app, scene.user("noord@example.nl"))

    refused = client.post(f"{PAGE}/{issued.token.id}/intrekken")
    assert refused.status_code == 400
    assert services.authenticate_api_token(deps, token=issued.secret).email == "noord@example.nl"

    page = client.get(PAGE).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    accepted = client.post(f"{PAGE}/{issued.token.id}/intrekken", data={"csrf_token": csrf})
    assert accepted.status_code == 302
    with pytest.raises(NotAllowed):
        services.authenticate_api_token(deps, token=issued.secret)
