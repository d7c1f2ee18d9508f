"""Instellingen > Logboek: the environment's audit trail for its super users, newest first,
with who, when (Amsterdam time), what, the outcome, the object, the channel and the
address; its search and its pages; and nothing secret in it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import (
    PLAIN_USER,
    RUNTIME_KEY,
    Scene,
    Shown,
    codes,
    make_app,
    refusals,
    start_form,
)
from sqlalchemy import select

from migrationkit import services
from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.adapters.sqlalchemy.tables import audit_events
from migrationkit.bootstrap import Runtime
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import NotAllowed, RuleViolation
from migrationkit.services import Dependencies
from migrationkit.testing import FakeClock
from migrationkit.workers.inprocess import InProcessQueue

PAGE = "/instellingen/logboek"
#: 13:05 UTC on a winter day is 14:05 in Amsterdam.
NOW = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)
SHOWN_NOW = "28-11-2026 14:05"
ADDRESS = "203.0.113.9"
CODE = re.compile(r'<p class="code" id="overdrachtscode">([0-9A-Z-]+)</p>')
TOKEN = re.compile(r'<p class="code" id="api-token">(mkt_[A-Za-z0-9_-]{43})</p>')


@pytest.fixture
def app(home: Path) -> Iterator[Flask]:
    """The portal on a clock that stands still at ``NOW``."""
    app = make_app(home, CLOCK=FakeClock(NOW))
    yield app
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    if isinstance(runtime.queue, InProcessQueue):
        runtime.queue.stop(timeout=5)


def rows(page: str) -> list[str]:
    """The trail's rows as text, one string per row, newest first; what a refused user was
    told reads as its code in brackets ("[item_withdrawn]")."""
    if "<tbody>" not in page:
        return []
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    body = re.sub(r'<span [^>]*data-code="([^"]+)"[^>]*>[^<]*</span>', r"[\1]", body)
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in body.split("<tr>")[1:]
    ]


def send(client: FlaskClient, scene: Scene, *codes: str, **environ: Any) -> str:
    """Noord offers administrations to Zuid through the portal; the code it showed."""
    response = client.post(
        "/migraties/uitgaand/samenvatting",
        data={
            "koppeling": scene.connection("Noord").id,
            "administratie": [scene.administration(code).id for code in codes],
            "ontvangers": "noord@example.nl, zuid@example.nl",
            "voorwaarden": "y",
        },
        environ_base=environ,
    )
    found = CODE.search(response.text)
    assert found is not None
    return found.group(1)


def withdraw_first(client: FlaskClient, scene: Scene) -> int:
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]
    client.post(f"/migraties/aangeboden/{row.item_id}/intrekken")
    return row.item_id


# --- who may read it -------------------------------------------------------------------------


def test_the_logboek_is_for_super_users_and_in_their_nav(
    noord: FlaskClient, medewerker: FlaskClient
) -> None:
    refused = medewerker.get(PAGE)

    assert refused.status_code == 403
    assert 'data-code="not_super_user">' in refused.text
    assert f'href="{PAGE}"' not in medewerker.get("/administraties").text
    assert f'<a href="{PAGE}">Logboek</a>' in noord.get("/administraties").text


def test_a_plain_users_refusal_is_in_the_trail_of_their_environment(
    noord: FlaskClient, medewerker: FlaskClient
) -> None:
    medewerker.get(PAGE, environ_base={"REMOTE_ADDR": ADDRESS})

    assert rows(noord.get(PAGE).text) == [
        f"{SHOWN_NOW} {PLAIN_USER} Openen Geweigerd [not_super_user] portaal {ADDRESS}"
    ]


# --- what it shows ---------------------------------------------------------------------------


def test_each_action_and_refusal_shows_who_when_what_the_object_and_where(
    noord: FlaskClient, scene: Scene
) -> None:
    send(noord, scene, "1001", REMOTE_ADDR=ADDRESS)
    item_id = withdraw_first(noord, scene)
    withdraw_first(noord, scene)
    (row,) = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows

    page = noord.get(PAGE).text

    assert rows(page) == [
        f"{SHOWN_NOW} noord@example.nl Intrekken Geweigerd [item_withdrawn] aangeboden "
        f"administratie {item_id} portaal 127.0.0.1",
        f"{SHOWN_NOW} noord@example.nl Intrekken Uitgevoerd aangeboden administratie "
        f"{item_id} portaal 127.0.0.1",
        f"{SHOWN_NOW} noord@example.nl Administraties aanbieden Uitgevoerd "
        f"migratieverzoek {row.offer_id} portaal {ADDRESS}",
    ]
    assert '<time datetime="2026-11-28T13:05:00+00:00">28-11-2026 14:05</time>' in page
    assert "Oudere gebeurtenissen" not in page


def test_an_object_with_a_page_links_to_it(
    noord: FlaskClient, zuid: FlaskClient, scene: Scene
) -> None:
    (migration,) = scene.start(scene.offer("1001"))

    page = zuid.get(PAGE).text

    assert f'<a href="/migraties/{migration.id}">migratie {migration.id}</a>' in page
    assert "Start migratie Uitgevoerd" in " ".join(rows(page))
    # The use cases called without a request are recorded as the library's.
    assert "bibliotheek" in page
    # The sender's trail holds its offer, not the recipient's start.
    assert "Start migratie" not in noord.get(PAGE).text


def test_the_trail_holds_only_its_own_environments_events(
    noord: FlaskClient, signed_in: Callable[[str], FlaskClient], scene: Scene, deps: Dependencies
) -> None:
    oost = signed_in("oost@example.nl")
    issued = services.create_api_token(deps, actor_id=scene.user("noord@example.nl"), name="CRM")
    oost.post("/instellingen/api-tokens", data={"naam": "Script van Oost"})
    # Oost tries Noord's token: refused, and recorded as Oost's.
    assert oost.post(f"/instellingen/api-tokens/{issued.token.id}/intrekken").status_code == 404
    oost.get("/migraties/999999")

    noord_page = noord.get(PAGE).text
    noord_rows = rows(noord_page)
    oost_rows = rows(oost.get(PAGE).text)

    assert noord_rows == [
        f"{SHOWN_NOW} noord@example.nl API-token aanmaken Uitgevoerd API-token "
        f"{issued.token.id} bibliotheek"
    ]
    assert f'<a href="/instellingen/api-tokens">API-token {issued.token.id}</a>' in noord_page
    assert oost_rows == [
        f"{SHOWN_NOW} oost@example.nl Openen Geweigerd [unknown_migration] migratie 999999 "
        "portaal 127.0.0.1",
        f"{SHOWN_NOW} oost@example.nl API-token intrekken Geweigerd [unknown_api_token] "
        f"API-token {issued.token.id} portaal 127.0.0.1",
        f"{SHOWN_NOW} oost@example.nl API-token aanmaken Uitgevoerd API-token "
        f"{issued.token.id + 1} portaal 127.0.0.1",
    ]


def test_the_logboek_speaks_english_on_request(noord: FlaskClient, scene: Scene) -> None:
    send(noord, scene, "1001")
    withdraw_first(noord, scene)
    withdraw_first(noord, scene)
    with noord.session_transaction() as session:
        session["language"] = "en"

    page = noord.get(PAGE).text

    assert "Date and time" in page
    assert rows(page)[0].startswith(
        f"{SHOWN_NOW} noord@example.nl Withdraw Refused [item_withdrawn] offered administration"
    )
    withdrawn = RuleViolation("item_withdrawn", code="1001", name="Bakkerij De Korenschoof")
    in_trail = [shown for shown in refusals(page) if shown.place == "trail"]
    assert in_trail == [Shown(withdrawn.code, withdrawn.message("en"), "trail")]
    assert rows(page)[-1].startswith(
        f"{SHOWN_NOW} noord@example.nl Offer administrations Done migration request"
    )
    assert rows(page)[-1].endswith("portal 127.0.0.1")


# --- search and pages ------------------------------------------------------------------------


@pytest.fixture
def trail(noord: FlaskClient, medewerker: FlaskClient, scene: Scene) -> Callable[[str], list[str]]:
    """Noord's trail with an offer (from ``ADDRESS``), a withdrawal, a refused withdrawal
    and the plain user's refusal; searched with the term given."""
    send(noord, scene, "1001", REMOTE_ADDR=ADDRESS)
    withdraw_first(noord, scene)
    withdraw_first(noord, scene)
    medewerker.get(PAGE)
    return lambda term: rows(noord.get(PAGE, query_string={"zoeken": term}).text)


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("", ["Openen Geweigerd", "Intrekken Geweigerd", "Intrekken Uitgevoerd", "aanbieden"]),
        ("aanbieden", ["aanbieden"]),
        ("Offer administrations", ["aanbieden"]),
        ("WITHDRAW", ["Intrekken Geweigerd", "Intrekken Uitgevoerd"]),
        ("medewerker", ["Openen Geweigerd"]),
        ("203.0.113", ["aanbieden"]),
        ("geweigerd", ["Openen Geweigerd", "Intrekken Geweigerd"]),
        ("refused", ["Openen Geweigerd", "Intrekken Geweigerd"]),
        ("uitgevoerd noord@example", ["Intrekken Uitgevoerd", "aanbieden"]),
        ("geweigerd medewerker", ["Openen Geweigerd"]),
        ("supergebruiker", ["Openen Geweigerd"]),
        ("zuid@example.nl", []),
        ("migratieverzoek", ["aanbieden"]),
        ("migration request", ["aanbieden"]),
        ("portaal aanbieden", ["aanbieden"]),
    ],
)
def test_the_search_finds_by_any_column_and_label_each_word(
    trail: Callable[[str], list[str]], term: str, found: list[str]
) -> None:
    results = trail(term)

    assert len(results) == len(found)
    assert all(words in row for words, row in zip(found, results, strict=True))


def test_a_search_term_that_is_too_long_is_refused_at_the_field(noord: FlaskClient) -> None:
    response = noord.get(PAGE, query_string={"zoeken": "x" * 201})

    assert response.status_code == 200
    assert codes(response.text) == {"search_too_long": "zoeken-error"}
    assert "<table>" not in response.text


def test_older_events_come_a_page_at_a_time_keeping_the_search(
    noord: FlaskClient, scene: Scene, deps: Dependencies
) -> None:
    medewerker = scene.user(PLAIN_USER)
    for _ in range(105):
        services.record_refusal(
            deps, action=AuditAction.OPEN, error=NotAllowed("not_super_user"), actor_id=medewerker
        )

    first = noord.get(PAGE, query_string={"zoeken": "geweigerd"}).text
    assert len(rows(first)) == 100
    link = re.search(
        r'<a class="btn btn-outline-primary" href="(/instellingen/logboek\?[^"]+)">'
        r"Oudere gebeurtenissen</a>",
        first,
    )
    assert link is not None
    target = html.unescape(link.group(1))
    assert "zoeken=geweigerd" in target
    assert "before=" in target

    second = noord.get(target).text
    assert len(rows(second)) == 5
    assert "Oudere gebeurtenissen" not in second


# --- nothing secret --------------------------------------------------------------------------


def test_nothing_secret_is_in_the_logboek_or_the_trail_after_a_full_flow(
    app: Flask,
    client: FlaskClient,
    noord: FlaskClient,
    zuid: FlaskClient,
    scene: Scene,
    deps: Dependencies,
    run_jobs: Callable[[], None],
) -> None:
    code = send(noord, scene, "1001")
    wrong_code = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"
    zuid.post(
        "/migraties/inkomend/code", data={"code": wrong_code, "voorwaarden": "y", "kosten": "y"}
    )
    redeemed = zuid.post(
        "/migraties/inkomend/code", data={"code": code.lower(), "voorwaarden": "y", "kosten": "y"}
    )
    offer_id = int(redeemed.location.rsplit("/", 1)[1])
    item = services.redeemed_offer(deps, actor_id=scene.user("zuid@example.nl"), offer_id=offer_id)
    fields = start_form(zuid, offer_id, [item.items[0].id])
    started = zuid.post(f"/migraties/inkomend/{offer_id}/koppelen", data=fields | {"start": "S"})
    assert started.location == f"/migraties/inkomend/{offer_id}"
    run_jobs()
    created = TOKEN.search(noord.post("/instellingen/api-tokens", data={"naam": "CRM"}).text)
    assert created is not None
    token = created.group(1)
    for presented in (token, token[:-1] + "x"):
        client.get("/api/v1/migrations/999999", headers={"Authorization": f"Bearer {presented}"})
    client.post("/inloggen", data={"email": "noord@example.nl", "password": "geheim-typfout"})
    client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})

    noord_page, zuid_page = noord.get(PAGE).text, zuid.get(PAGE).text
    pages = noord_page + zuid_page
    shown = " ".join(rows(noord_page) + rows(zuid_page))
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    engine = make_engine(runtime.settings.database_url)
    try:
        with engine.connect() as connection:
            stored = repr(list(connection.execute(select(audit_events))))
    finally:
        engine.dispose()

    assert "Overdrachtscode invoeren Geweigerd" in shown
    assert "Inloggen Geweigerd" in shown
    assert "Start migratie Uitgevoerd" in shown
    assert "Openen Geweigerd [unknown_migration] migratie 999999 API 127.0.0.1" in shown
    secrets = [code, code.replace("-", ""), code.lower(), wrong_code, token, token[4:]]
    secrets += [wrong_code.replace("-", ""), "geheim-typfout", token[:-1] + "x"]
    for secret in secrets:
        assert secret not in pages
        assert secret not in stored
