"""No cache keeps an office's data: every page and every API answer (everything but a static
file) carries ``Cache-Control: no-store``, a document ``private, no-store``; static files keep
their caching. The routes are found from the app's ``url_map``, so a new page is held to it
from the start."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import Scene
from security_support import get_paths

from migrationkit import services

NO_STORE = "no-store"


@pytest.mark.parametrize("who", ["noord", "medewerker"])
def test_every_page_for_a_signed_in_user_is_kept_in_no_cache(
    app: Flask, request: pytest.FixtureRequest, who: str
) -> None:
    client: FlaskClient = request.getfixturevalue(who)
    paths = [path for path in get_paths(app) if not path.startswith("/static/")]

    assert len(paths) > 20
    for path in paths:
        response = client.get(path)
        assert response.headers.get("Cache-Control") == NO_STORE, (path, response.status_code)


def test_the_pages_with_an_offices_data_are_kept_in_no_cache(
    noord: FlaskClient, zuid: FlaskClient, scene: Scene
) -> None:
    """The pages the attack found in a cache, each with its data on it (status 200)."""
    receipt = scene.offer("1002")
    migration = scene.start(receipt)[0]
    administration = scene.administration("1001")
    pages = {
        noord: [
            "/administraties",
            f"/administraties/{administration.id}/archief",
            "/migraties",
            "/instellingen/logboek",
            "/instellingen/api-tokens",
        ],
        zuid: [
            f"/migraties/inkomend/{receipt.offer.id}",
            f"/migraties/{migration.id}",
            f"/migraties/{migration.id}/status.json",
        ],
    }

    for client, paths in pages.items():
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["Cache-Control"] == NO_STORE, path


def test_every_api_answer_is_kept_in_no_cache(
    app: Flask, client: FlaskClient, scene: Scene
) -> None:
    issued = services.create_api_token(
        scene.deps, actor_id=scene.user("noord@example.nl"), name="cache"
    )
    bearer = {"Authorization": f"Bearer {issued.secret}"}
    paths = [path for path in get_paths(app) if path.startswith("/api/")]

    assert len(paths) > 10
    for path in paths:
        response = client.get(path, headers=bearer)
        assert response.headers.get("Cache-Control") == NO_STORE, (path, response.status_code)


def test_a_document_is_kept_in_no_cache_private_or_shared(noord: FlaskClient, scene: Scene) -> None:
    document = scene.documents("1001")[0]

    response = noord.get(f"/documenten/{document.address}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("name", ["portal.css", "portal.js"])
def test_static_files_keep_their_caching(noord: FlaskClient, name: str) -> None:
    response = noord.get(f"/static/{name}")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("ETag") or response.headers.get("Last-Modified")
