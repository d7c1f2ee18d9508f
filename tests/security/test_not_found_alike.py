"""Another environment's object answers exactly as a missing one: same status, same body,
same headers. Every route with an id (walked from the app's url_map, so a new one cannot be
forgotten), the API's and the portal's, every method, is called by Kantoor Oost's super user
once with an id of Kantoor Noord's and once with an id that names nothing; for each id of a
route in turn, the others being Oost's own where Oost has one. The two answers must be the
same but for the Date header and the CSRF token a page holds. The library refuses both with
one ``NotFound`` (``services/_load.py``), so its audit trail does not tell them apart
either."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import PREFIX, Api, openapi_document, operation_of, token_for
from flask import Flask
from portal_support import Scene, signed_in_client
from test_api_isolation import body_of
from test_isolation import Victim
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.domain.audit import AuditOutcome
from migrationkit.domain.model import MAX_ID, AccountingPackage

#: An id that names nothing (the largest an id may be).
MISSING = MAX_ID
#: The route arguments that are not an object's id.
NOT_IDS = {"filename"}
#: Kantoor Oost's super user.
OOST = "oost@example.nl"
#: What a page holds that differs by nature: its CSRF token, and its own address (the
#: language switch comes back to it).
OWN_VALUES = re.compile(r'(name="(?:csrf_token|next)" (?:type="hidden" )?value=")[^"]*"')


class Own:
    """Kantoor Oost's own objects, for the ids of a route that are not the one tried."""

    def __init__(self, scene: Scene) -> None:
        oost = scene.user(OOST)
        connection = scene.connection("Oost", AccountingPackage.EXACT_ONLINE_NL)
        first = services.available_package_administrations(
            scene.deps, actor_id=oost, connection_id=connection.id
        )[0]
        (added,) = services.add_administrations(
            scene.deps,
            actor_id=oost,
            connection_id=connection.id,
            package_admin_ids=[first.package_admin_id],
            inbox_domain="inbox.example.nl",
        )
        self.values: dict[str, Any] = {
            "administration_id": added.id,
            "connection_id": connection.id,
            "user_id": oost,
            "session_id": services.open_session(scene.deps, actor_id=oost).session.id,
        }


@pytest.fixture
def victim(scene: Scene) -> Victim:
    return Victim(scene)


@pytest.fixture
def own(scene: Scene) -> Own:
    return Own(scene)


def id_arguments(rule: Rule) -> list[str]:
    return sorted(set(rule.arguments) - NOT_IDS)


def missing_value(argument: str, victim: Victim) -> Any:
    """A value of ``argument`` that names nothing."""
    if argument == "address":
        return re.sub(r"[0-9a-f]{64}", "0" * 64, victim.address)
    return MISSING


def pairs(
    app: Flask, victim: Victim, own: Own, *, api: bool
) -> Iterator[tuple[str, str, str, str]]:
    """(method, what, Noord's url, missing url) for every id of every route of the API (or
    of the portal) and every method."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(f"{PREFIX}/") != api or not id_arguments(rule):
                continue
            noord = victim.url_values(rule)
            for argument in id_arguments(rule):
                values = {name: own.values.get(name, noord[name]) for name in rule.arguments}
                theirs = app.url_for(rule.endpoint, **(values | {argument: noord[argument]}))
                nothing = app.url_for(
                    rule.endpoint, **(values | {argument: missing_value(argument, victim)})
                )
                for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                    yield method, f"{rule.endpoint} {argument}", theirs, nothing


def alike(response: TestResponse) -> tuple[int, str, list[tuple[str, str]]]:
    """What the caller sees: status, body (without a CSRF token's value and the page's own
    address) and headers (but the Date, the request's own id, and the length of a page,
    which holds its own address)."""
    page = response.mimetype == "text/html"
    headers = sorted(
        (k, v)
        for k, v in response.headers.items()
        if k not in ("Date", "X-Request-ID") and not (page and k == "Content-Length")
    )
    return response.status_code, OWN_VALUES.sub(r'\1"', response.get_data(as_text=True)), headers


def test_every_api_id_of_another_environment_answers_as_a_missing_one(
    app: Flask, scene: Scene, victim: Victim, own: Own
) -> None:
    api = Api(app, token_for(scene, OOST))
    document = openapi_document(app)
    different, tried = [], 0

    for method, what, theirs, nothing in pairs(app, victim, own, api=True):
        operation = operation_of(document, method, theirs)
        assert operation is not None, f"{method} {theirs} is not documented"
        body = body_of(document, operation, victim)
        sent = {} if body is None else {"json": body}
        answers = [api.call(method, url, **sent) for url in (theirs, nothing)]
        tried += 1
        if alike(answers[0]) != alike(answers[1]):
            different.append(f"{method} {what}: {theirs} {alike(answers[0])[:2]} != {nothing}")
        assert answers[0].status_code == 404, (method, theirs, answers[0].json)

    assert different == []
    assert tried >= 15


@pytest.mark.parametrize("field", ["connection_id", "administration_ids"])
def test_an_api_body_id_of_another_environment_answers_as_a_missing_one(
    app: Flask, scene: Scene, victim: Victim, own: Own, field: str
) -> None:
    """The offer and its dry run name their objects in the body only."""
    api = Api(app, token_for(scene, OOST))
    body = {
        "connection_id": own.values["connection_id"],
        "administration_ids": [own.values["administration_id"]],
        "recipients": ["zuid@example.nl"],
        "accept_terms": True,
    }
    noord = {
        "connection_id": victim.connection_id,
        "administration_ids": [victim.administration_id],
    }
    missing = {"connection_id": MISSING, "administration_ids": [MISSING]}

    for path, fields in (("offers", body), ("offers/preflight", dict(list(body.items())[:2]))):
        theirs = api.post(path, json=fields | {field: noord[field]})
        nothing = api.post(path, json=fields | {field: missing[field]})

        assert theirs.status_code == 404
        assert alike(theirs) == alike(nothing)


def test_every_portal_id_of_another_environment_answers_as_a_missing_one(
    app: Flask, scene: Scene, victim: Victim, own: Own
) -> None:
    """Each request from a browser of its own, so that no message flashed by one shows on
    the next; the form filled for the id in the path, whichever it is."""
    fields = victim.fields() | {f"gebruiker-{MISSING}-toegang": "ja"}

    def answer(method: str, url: str) -> TestResponse:
        client = signed_in_client(app, scene.user(OOST))
        client.get("/administraties")  # the first page sets the cookie of the CSRF token
        return client.open(url, method=method, data=fields)

    different, tried = [], 0
    for method, what, theirs, nothing in pairs(app, victim, own, api=False):
        answers = [answer(method, url) for url in (theirs, nothing)]
        tried += 1
        if alike(answers[0]) != alike(answers[1]):
            different.append(f"{method} {what}: {theirs} {answers[0].status_code} != {nothing}")
        assert answers[0].status_code != 200, (method, theirs)

    assert different == []
    assert tried >= 15


def test_the_trail_does_not_tell_them_apart_either(
    app: Flask, scene: Scene, victim: Victim
) -> None:
    api = Api(app, token_for(scene, OOST))
    api.get(f"administrations/{victim.administration_id}/access")
    api.get(f"administrations/{MISSING}/access")

    page = services.audit_trail(scene.deps, actor_id=scene.user(OOST), search="geweigerd")
    refused = [e.record for e in page.events if e.record.outcome is AuditOutcome.REFUSED][:2]
    assert [r.error_code for r in refused] == ["unknown_administration"] * 2
    assert refused[0].message_nl == refused[1].message_nl
