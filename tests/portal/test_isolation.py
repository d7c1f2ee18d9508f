"""Isolation: every route of the portal, tried with the ids of Kantoor Noord's objects (in
the URL, the query and the form) by a super user of another environment (Kantoor Oost),
by the plain user medewerker@example.nl and by a visitor who is not signed in. Each is
refused (302 to the login page, 403 or 404) and the database stays exactly as it was.

The few routes without an object of their own (a menu, a checklist, the language switch)
are listed apart; they may answer, but never with anything of Noord's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import Scene
from werkzeug.routing import Rule

from migrationkit import services

#: Routes that any signed-in user (or anyone, for the first seven) may use: they act on no
#: object of an environment. Instellingen lists only the menu's pages. The operator's probes
#: and metrics show no office data.
OPEN = {
    "static",
    "bootstrap.static",
    "auth.login",
    "i18n.switch",
    "operations.healthz",
    "operations.readyz",
    "operations.metrics",
    "auth.logout",
    "index",
    "administrations.index",
    "settings.home",
}
#: The demo's Mailbox shows each user only the mail addressed to them.
OWN_MAIL = {"mailbox.index"}
#: Instellingen > API-tokens lists and creates only the signed-in user's own tokens.
OWN_TOKENS = {"tokens.index", "tokens.create"}
#: Instellingen > Sessies and Wachtwoord: the signed-in user's own sessions and password.
OWN_SESSIONS = {"sessions.index", "sessions.end_others", "auth.password"}
#: Forms that take Noord's ids only when posted; their GET shows the empty form.
POSTED_IDS = {"administrations.add"}
#: Pages for super users that show only their own environment's data.
OWN_ENVIRONMENT = {
    "migrations.overview",
    "migrations.actions",
    "migrations.outgoing_checklist",
    "migrations.incoming_checklist",
    "migrations.redeem",
    "connections.index",
    "settings.index",
    "audit.index",
    # The package's way back: without the session's state of a consent it changes nothing.
    "connections.back",
}

REFUSED = (403, 404)


class Victim:
    """Kantoor Noord's objects: an administration, its documents, a user, an offer to Zuid
    redeemed and started there, its item and migration."""

    def __init__(self, scene: Scene) -> None:
        administration = scene.administration("1001")
        self.administration_id = administration.id
        self.connection_id = administration.connection_id
        self.user_id = scene.user("medewerker@example.nl")
        self.address = scene.documents("1001")[0].address
        receipt = scene.offer("1002")
        (migration,) = scene.start(receipt)
        self.offer_id = receipt.offer.id
        self.item_id = receipt.items[0].id
        self.migration_id = migration.id
        # Toegang Nee: the plain user may not open this administration either.
        services.set_access(
            scene.deps,
            actor_id=scene.user("noord@example.nl"),
            administration_id=administration.id,
            user_id=self.user_id,
            granted=False,
        )
        self.token_id = services.create_api_token(
            scene.deps, actor_id=scene.user("noord@example.nl"), name="Script van Noord"
        ).token.id
        self.session_id = services.open_session(
            scene.deps, actor_id=scene.user("noord@example.nl")
        ).session.id
        #: What nobody but Noord's super users may see: 1001 (the plain user has no access
        #: to it), the transfer code and a token's name.
        self.names = ("Bakkerij De Korenschoof", receipt.code, "Script van Noord")

    def url_values(self, rule: Rule) -> dict[str, Any]:
        values = {
            "administration_id": self.administration_id,
            "connection_id": self.connection_id,
            "user_id": self.user_id,
            "offer_id": self.offer_id,
            "item_id": self.item_id,
            "migration_id": self.migration_id,
            "token_id": self.token_id,
            "session_id": self.session_id,
            "address": self.address,
            "filename": "css/bootstrap.min.css"
            if rule.endpoint == "bootstrap.static"
            else "portal.css",
        }
        return {name: values[name] for name in rule.arguments}

    def fields(self) -> dict[str, Any]:
        """Every field a form of the portal has, filled with Noord's ids, and every button
        pressed."""
        return {
            "koppeling": self.connection_id,
            "administratie": self.administration_id,
            "item": self.item_id,
            "ontvangers": "oost@example.nl",
            "voorwaarden": "y",
            "kosten": "y",
            "reden": "niet van jou",
            f"gebruiker-{self.user_id}-toegang": "ja",
            "doelen-0-item": self.item_id,
            "doelen-0-code": "1001",
            **dict.fromkeys(("submit", "toon", "start", "volgende", "afwijzen", "alle"), "x"),
        }


@pytest.fixture
def victim(scene: Scene) -> Victim:
    return Victim(scene)


def portal_rules(app: Flask) -> list[Rule]:
    """Every route but the JSON API's, which test_api_isolation.py tries with tokens."""
    return [rule for rule in app.url_map.iter_rules() if not rule.rule.startswith("/api/")]


def requests(app: Flask, victim: Victim) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route and method of the portal."""
    tried = []
    with app.test_request_context():
        for rule in portal_rules(app):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                url = app.url_for(rule.endpoint, **victim.url_values(rule))
                tried.append((rule.endpoint, method, url))
    return tried


def send(client: FlaskClient, method: str, url: str, victim: Victim) -> Any:
    fields = victim.fields()
    if method == "GET":
        return client.get(url, query_string=fields)
    files = {"bestand": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf", "application/pdf")}
    return client.post(url, data={**fields, **files}, content_type="multipart/form-data")


def shows_nothing_of(victim: Victim, response: Any) -> bool:
    return response.status_code in (200, 302) and not any(
        name in response.get_data(as_text=True) for name in victim.names
    )


def try_everything(
    app: Flask,
    client: Callable[[], FlaskClient],
    victim: Victim,
    dump: Callable[[], object],
    allowed: Callable[[str, str], bool],
    refused: Callable[[Any], bool],
) -> list[str]:
    """Sends every request, each from a fresh ``client()`` (so that logging out does not
    end the rest); the ones that were not refused (or that showed Noord's data) and the
    ones after which the database differed."""
    wrong = []
    for endpoint, method, url in requests(app, victim):
        before = dump()
        response = send(client(), method, url, victim)
        ok = shows_nothing_of(victim, response) if allowed(endpoint, method) else refused(response)
        if not ok:
            wrong.append(f"{method} {url} ({endpoint}): {response.status_code}")
        if dump() != before:
            wrong.append(f"{method} {url} ({endpoint}) changed the database")
    return wrong


def test_every_route_is_classified_or_takes_an_object(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in portal_rules(app)}
    without_objects = {
        rule.endpoint
        for rule in portal_rules(app)
        if not rule.arguments and rule.endpoint not in ("static", "bootstrap.static")
    }

    assert endpoints >= OPEN | OWN_MAIL | OWN_TOKENS | OWN_SESSIONS | OWN_ENVIRONMENT
    # The routes that take Noord's ids only in the query or the form.
    assert without_objects - OPEN - OWN_MAIL - OWN_TOKENS - OWN_SESSIONS - OWN_ENVIRONMENT == {
        "administrations.add",
        "migrations.outgoing_choose",
        "migrations.outgoing_summary",
    }


def test_a_super_user_of_another_environment_is_refused_everywhere(
    app: Flask,
    signed_in: Callable[[str], FlaskClient],
    victim: Victim,
    database_dump: Callable[[], object],
) -> None:
    wrong = try_everything(
        app,
        lambda: signed_in("oost@example.nl"),
        victim,
        database_dump,
        allowed=lambda endpoint, method: (
            endpoint in OPEN | OWN_MAIL | OWN_TOKENS | OWN_SESSIONS | OWN_ENVIRONMENT
            or (endpoint in POSTED_IDS and method == "GET")
        ),
        refused=lambda response: response.status_code == 404,
    )

    assert wrong == []


def test_the_plain_user_is_refused_everywhere(
    app: Flask,
    signed_in: Callable[[str], FlaskClient],
    victim: Victim,
    database_dump: Callable[[], object],
) -> None:
    wrong = try_everything(
        app,
        lambda: signed_in("medewerker@example.nl"),
        victim,
        database_dump,
        allowed=lambda endpoint, _method: endpoint in OPEN | OWN_MAIL | OWN_TOKENS | OWN_SESSIONS,
        refused=lambda response: response.status_code in REFUSED,
    )

    assert wrong == []


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(
    app: Flask, victim: Victim, database_dump: Callable[[], object]
) -> None:
    def to_login(response: Any) -> bool:
        return response.status_code == 302 and re.match(r"^/inloggen\b", response.location)

    wrong = try_everything(
        app,
        app.test_client,
        victim,
        database_dump,
        allowed=lambda endpoint, _method: endpoint in OPEN - {"administrations.index"},
        refused=to_login,
    )

    assert wrong == []
