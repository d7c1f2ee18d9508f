"""Isolation of the JSON API: every route under /api/v1 (walked from the app's url_map, so a
new one cannot be forgotten), with every method, tried with the ids of Kantoor Noord's
objects (in the path and in every field of its body) by a super user of another environment
(Kantoor Oost), by the plain user medewerker@example.nl and without a token. Each is refused
as the contract says (404 for another environment's object, 403 above the user's role, 401
without a token), shows nothing of Noord's, and leaves the database as it was.

The routes without an object of their own (the token's user, the lists of the caller's own
environment, a redemption, whose code is the key) are listed apart: they may answer, but
never with anything of Noord's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_support import PREFIX, Api, operation_of, token_for
from flask import Flask
from portal_support import PLAIN_USER, Scene
from test_isolation import Victim

#: Routes about the caller's own environment only, or with no object at all.
#: Served to anyone, without a token: the API's description and the key that checks a
#: Migratieverslag's signature.
PUBLIC = {"api.openapi", "api.report_key"}
OWN_ENVIRONMENT = {
    *PUBLIC,
    "api.me",
    "api.administrations",
    "api.connections",
    "api.outgoing",
    "api.incoming",
    "api.audit",
    # The code is the key: Noord's code, taken in by Zuid already, is refused as used.
    "api.redeem",
}


@pytest.fixture
def victim(scene: Scene) -> Victim:
    return Victim(scene)


def noord_values(victim: Victim) -> dict[str, Any]:
    """Every field a body of the API has, filled with Noord's ids and values."""
    return {
        "connection_id": victim.connection_id,
        "administration_ids": [victim.administration_id],
        "package_admin_id": "noord-1001",
        "granted": True,
        "recipients": ["oost@example.nl"],
        "accept_terms": True,
        "accept_costs": True,
        "code": victim.names[1],
        "item_ids": [victim.item_id],
        "reason": "niet van jou",
        "targets": [
            {
                "item_id": victim.item_id,
                "connection_id": victim.connection_id,
                "package_admin_id": "noord-1001",
            }
        ],
    }


def body_of(document: dict[str, Any], operation: dict[str, Any], victim: Victim) -> Any:
    """The operation's body with every field it takes, filled from ``noord_values``."""
    content = operation.get("requestBody", {}).get("content")
    if content is None:
        return None
    reference = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = document["components"]["schemas"][reference]["properties"]
    values = noord_values(victim)
    return {name: values[name] for name in fields}


def api_requests(
    app: Flask, victim: Victim, document: dict[str, Any]
) -> list[tuple[str, str, str, Any]]:
    """(endpoint, method, url, body) for every route under /api/v1 and every method."""
    tried = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(f"{PREFIX}/"):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                url = app.url_for(rule.endpoint, **victim.url_values(rule))
                operation = operation_of(document, method, url)
                assert operation is not None, f"{method} {url} is not documented"
                tried.append((rule.endpoint, method, url, body_of(document, operation, victim)))
    return tried


def try_everything(
    app: Flask,
    api: Api,
    victim: Victim,
    dump: Callable[[], object],
    allowed: Callable[[str], bool],
    refused: Callable[[int], bool],
) -> list[str]:
    """Sends every request; the ones that were not refused (or that showed Noord's data)
    and the ones after which the database differed."""
    wrong = []
    for endpoint, method, url, body in api_requests(app, victim, api.document):
        before = dump()
        response = api.call(method, url, json=body) if body is not None else api.call(method, url)
        shown = response.get_data(as_text=True)
        if any(name in shown for name in victim.names):
            wrong.append(f"{method} {url} ({endpoint}) showed Noord's data")
        if not allowed(endpoint) and not refused(response.status_code):
            wrong.append(f"{method} {url} ({endpoint}): {response.status_code}")
        if dump() != before:
            wrong.append(f"{method} {url} ({endpoint}) changed the database")
    return wrong


def test_every_api_route_is_classified_or_takes_an_object(app: Flask) -> None:
    api = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(f"{PREFIX}/")]
    without_objects = {rule.endpoint for rule in api if not rule.arguments}

    assert {rule.endpoint for rule in api} >= OWN_ENVIRONMENT
    # The routes that take Noord's ids only in their body.
    assert without_objects - OWN_ENVIRONMENT == {"api.offer", "api.offer_preflight"}


def test_a_super_user_of_another_environment_is_refused_everywhere(
    app: Flask, scene: Scene, victim: Victim, unchanged_dump: Callable[[], object]
) -> None:
    oost = Api(app, token_for(scene, "oost@example.nl"))

    wrong = try_everything(
        app,
        oost,
        victim,
        unchanged_dump,
        allowed=lambda endpoint: endpoint in OWN_ENVIRONMENT,
        refused=lambda status: status == 404,
    )

    assert wrong == []


def test_the_plain_user_is_refused_everywhere(
    app: Flask, scene: Scene, victim: Victim, unchanged_dump: Callable[[], object]
) -> None:
    medewerker = Api(app, token_for(scene, PLAIN_USER))

    wrong = try_everything(
        app,
        medewerker,
        victim,
        unchanged_dump,
        allowed=lambda endpoint: endpoint in {*PUBLIC, "api.me", "api.administrations"},
        refused=lambda status: status in (403, 404),
    )

    assert wrong == []


def test_a_caller_without_a_token_is_refused_everywhere(
    app: Flask, victim: Victim, unchanged_dump: Callable[[], object]
) -> None:
    wrong = try_everything(
        app,
        Api(app, None),
        victim,
        unchanged_dump,
        allowed=lambda endpoint: endpoint in PUBLIC,
        refused=lambda status: status == 401,
    )

    assert wrong == []
