"""The JSON API under /api/v1: a whole move through it, every refusal with its status and
stable code in Dutch and English (and nothing changed), tokens only (never the session
cookie), strict bodies, problem+json for everything that is not a success, and the audit
trail of the API's calls. Every answer is checked against the OpenAPI document by ``Api``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from api_support import PREFIX, Api, token_for
from flask import Flask
from flask.testing import FlaskClient
from portal_support import PLAIN_USER, RUNTIME_KEY, Scene, make_app

from migrationkit import services
from migrationkit.domain.errors import MESSAGES, ArchiveError
from migrationkit.domain.model import AccountingPackage
from migrationkit.workers.inprocess import InProcessQueue

Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]


def is_message(code: str, language: str, text: str) -> bool:
    """Whether ``text`` is the library's message for ``code`` in ``language``, with any
    values in its placeholders."""
    template = MESSAGES[code][language == "en"]
    pattern = "".join(
        ".+" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{[a-z_]+\})", template)
        if part
    )
    return re.fullmatch(pattern, text, flags=re.S) is not None


def assert_problem(response: Any, status: int, code: str, language: str = "nl") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == code
    assert problem["type"] == f"urn:migrationkit:problem:{code}"
    assert problem["status"] == status
    assert problem["title"]
    assert is_message(code, language, problem["detail"]), problem["detail"]
    assert response.headers["Content-Language"] == language


# --- the whole move --------------------------------------------------------------------------


def test_a_whole_move_goes_through_the_api(
    api_as: Callable[[str], Api], scene: Scene, run_jobs: Callable[[], None]
) -> None:
    noord, zuid = api_as("noord@example.nl"), api_as("zuid@example.nl")
    fietsen = scene.administration("1002")

    offered = noord.post(
        "offers",
        json={
            "connection_id": fietsen.connection_id,
            "administration_ids": [fietsen.id],
            "recipients": ["zuid@example.nl"],
            "accept_terms": True,
        },
    )
    assert offered.status_code == 201
    assert offered.headers["Cache-Control"] == "no-store"
    code = offered.get_json()["code"]
    (item,) = offered.get_json()["items"]
    assert (item["code"], item["status"], item["status_label"]) == ("1002", "OFFERED", "Aangeboden")
    outgoing = noord.get("offers/outgoing", query_string={"search": "fietsen"})
    assert [row["item_id"] for row in outgoing.get_json()["rows"]] == [item["id"]]
    assert code not in outgoing.get_data(as_text=True)
    assert outgoing.get_json()["rows"][0]["masked_code"].endswith(code[-4:])

    redeemed = zuid.post(
        "redemptions",
        json={"code": code.lower().replace("-", " "), "accept_terms": True, "accept_costs": True},
    )
    assert redeemed.status_code == 200
    offer_id = redeemed.get_json()["offer"]["id"]
    assert redeemed.get_json()["source_environment_name"] == "Kantoor Noord"
    assert code not in redeemed.get_data(as_text=True)
    assert zuid.get(f"offers/{offer_id}").get_json()["items"] == redeemed.get_json()["items"]
    incoming = zuid.get("offers/incoming").get_json()["rows"]
    assert [row["offer_id"] for row in incoming] == [offer_id]

    (exact,) = [c for c in zuid.get("connections").get_json() if c["package"] == "EXACT_ONLINE_NL"]
    available = zuid.get(f"connections/{exact['id']}/package-administrations").get_json()
    (counterpart,) = [pa for pa in available if pa["name"] == "Fietsenmakerij Van Dijk"]
    assert counterpart["code"] == "7002"
    targets = {
        "targets": [
            {
                "item_id": item["id"],
                "connection_id": exact["id"],
                "package_admin_id": counterpart["package_admin_id"],
            }
        ]
    }
    dry_run = zuid.post(f"offers/{offer_id}/start/preflight", json=targets)
    assert dry_run.get_json()["passed"] is True
    assert zuid.get(f"offers/{offer_id}").get_json()["items"][0]["status"] == "OFFERED"

    started = zuid.post(f"offers/{offer_id}/start", json=targets)
    assert started.status_code == 201
    (migration,) = started.get_json()["migrations"]
    assert migration["target"]["code"] == "7002"
    assert zuid.get(f"migrations/{migration['id']}").get_json()["status"] == "QUEUED"

    run_jobs()

    progress = zuid.get(f"migrations/{migration['id']}").get_json()
    assert (progress["status"], progress["status_label"]) == ("COMPLETED", "Voltooid")
    assert (progress["documents_done"], progress["documents_total"]) == (12, 12)
    assert progress["percent"] == 100
    assert progress["bytes_done"] == progress["bytes_total"] > 0
    in_english = noord.get(f"migrations/{migration['id']}", language="en").get_json()
    assert in_english["status_label"] == "Completed"
    assert "1002" not in [a["code"] for a in noord.get("administrations").get_json()]
    (moved,) = [a for a in zuid.get("administrations").get_json() if a["code"] == "7002"]
    assert moved["id"] == fietsen.id
    assert moved["email"] == fietsen.email

    # R14: nobody has access until a super user grants it.
    access = zuid.get(f"administrations/{fietsen.id}/access").get_json()
    assert [row["granted"] for row in access] == [False] * len(access)
    user_id = scene.user("zuid@example.nl")
    granted = zuid.put(f"administrations/{fietsen.id}/access/{user_id}", json={"granted": True})
    assert granted.get_json() == {
        "administration_id": fietsen.id,
        "user_id": user_id,
        "granted": True,
    }
    access = zuid.get(f"administrations/{fietsen.id}/access").get_json()
    assert {row["user"]["id"]: row["granted"] for row in access}[user_id] is True

    first = zuid.get(f"administrations/{fietsen.id}/documents", query_string={"limit": 5})
    page = first.get_json()
    rest = zuid.get(
        f"administrations/{fietsen.id}/documents",
        query_string={"after": page["next_after"], "limit": 100},
    ).get_json()
    listed = [d["id"] for d in page["documents"] + rest["documents"]]
    assert len(page["documents"]) == 5
    assert rest["next_after"] is None
    assert listed == [d.id for d in scene.documents("7002")]
    assert rest["documents"][-1]["sha256"] == scene.documents("7002")[-1].sha256


def test_the_offer_dry_run_lists_every_check_and_changes_nothing(
    api_as: Callable[[str], Api], scene: Scene, unchanged_dump: Dump
) -> None:
    noord = api_as("noord@example.nl")
    chosen = [scene.administration("1001"), scene.administration("1003")]
    before = unchanged_dump()

    report = noord.post(
        "offers/preflight",
        json={
            "connection_id": chosen[0].connection_id,
            "administration_ids": [a.id for a in chosen],
        },
        language="en",
    ).get_json()

    assert unchanged_dump() == before
    assert report["passed"] is False
    free, flowed = report["administrations"]
    assert free["passed"] is True
    assert flowed["passed"] is False
    (refused,) = [c for c in flowed["checks"] if c["verdict"] == "refused"]
    assert (refused["rule"], refused["code"]) == ("R10", "authorizers_in_flow")
    assert is_message("authorizers_in_flow", "en", refused["explanation"])
    assert {c["rule"] for c in free["checks"]} >= {f"R{n}" for n in range(1, 11)}


def test_a_resent_code_is_shown_once_and_the_old_one_stops_working(
    api_as: Callable[[str], Api], scene: Scene
) -> None:
    receipt = scene.offer("1001")
    noord, zuid = api_as("noord@example.nl"), api_as("zuid@example.nl")

    resent = noord.post(f"offers/{receipt.offer.id}/resend")

    assert resent.status_code == 200
    assert resent.headers["Cache-Control"] == "no-store"
    new_code = resent.get_json()["code"]
    assert new_code != receipt.code
    redeem = {"accept_terms": True, "accept_costs": True}
    assert_problem(
        zuid.post("redemptions", json={"code": receipt.code, **redeem}), 409, "code_unknown"
    )
    assert zuid.post("redemptions", json={"code": new_code, **redeem}).status_code == 200


def test_withdraw_and_reject_answer_the_items_as_they_are_now(
    api_as: Callable[[str], Api], scene: Scene
) -> None:
    noord, zuid = api_as("noord@example.nl"), api_as("zuid@example.nl")
    withdrawn = scene.offer("2001")
    rejected = scene.offer("1001", "1002")
    scene.redeem(rejected)

    item = noord.post(f"offer-items/{withdrawn.items[0].id}/withdraw", json={}).get_json()
    items = zuid.post(
        f"offers/{rejected.offer.id}/reject", json={"reason": "Blijft bij ons."}, language="en"
    ).get_json()["items"]

    assert (item["status"], item["status_label"]) == ("WITHDRAWN", "Ingetrokken")
    assert [(i["code"], i["status_label"], i["rejection_reason"]) for i in items] == [
        ("1001", "Rejected", "Blijft bij ons."),
        ("1002", "Rejected", "Blijft bij ons."),
    ]


def test_a_failed_migration_is_retried_through_the_api(
    api_as: Callable[[str], Api], scene: Scene
) -> None:
    (migration,) = scene.start(scene.offer("1002"))
    services.claim_migration(scene.deps, migration.id)
    services.fail_migration(
        scene.deps, migration.id, ArchiveError("archive_unavailable", store="noord")
    )
    zuid = api_as("zuid@example.nl")

    failed = zuid.get(f"migrations/{migration.id}", language="en").get_json()
    retried = zuid.post(f"migrations/{migration.id}/retry").get_json()

    assert (failed["status"], failed["failure_code"]) == ("FAILED", "archive_unavailable")
    assert is_message("archive_unavailable", "en", failed["failure"])
    assert retried["status"] == "QUEUED"


# --- refusals --------------------------------------------------------------------------------


@attrs.frozen
class World:
    """Noord's offer of 1002 to Zuid, redeemed there and not started; its offer of 2001,
    started in Zuid (In de wachtrij); 1001 closed to the plain user (Toegang Nee); and a
    client for each demo user."""

    scene: Scene
    api: dict[str, Api]
    open_offer: services.OfferReceipt
    started_offer: services.OfferReceipt
    migration_id: int


@pytest.fixture
def world(app: Flask, scene: Scene) -> World:
    open_offer = scene.offer("1002")
    scene.redeem(open_offer)
    started_offer = scene.offer("2001")
    (migration,) = scene.start(started_offer)
    services.set_access(
        scene.deps,
        actor_id=scene.user("noord@example.nl"),
        administration_id=scene.administration("1001").id,
        user_id=scene.user(PLAIN_USER),
        granted=False,
    )
    people = ("noord", "zuid", "oost", "west")
    api = {name: Api(app, token_for(scene, f"{name}@example.nl")) for name in people}
    api["medewerker"] = Api(app, token_for(scene, PLAIN_USER))
    return World(scene, api, open_offer, started_offer, migration.id)


def _offer_body(world: World, *codes: str, **changes: Any) -> dict[str, Any]:
    chosen = [world.scene.administration(code) for code in codes]
    return {
        "connection_id": chosen[0].connection_id,
        "administration_ids": [a.id for a in chosen],
        "recipients": ["zuid@example.nl"],
        "accept_terms": True,
        **changes,
    }


def _redeem_body(code: str) -> dict[str, Any]:
    return {"code": code, "accept_terms": True, "accept_costs": True}


def _targets(world: World, package: AccountingPackage) -> dict[str, Any]:
    connection = world.scene.connection("Zuid", package)
    item = world.open_offer.items[0]
    return {
        "targets": [
            {"item_id": item.id, "connection_id": connection.id, "package_admin_id": "zuid-1002"}
        ]
    }


#: Each refusal: who, what (method, path and keyword arguments of the call, from the world),
#: and the answer (status and code).
REFUSALS: dict[str, tuple[str, Callable[[World], tuple[str, str, dict[str, Any]]], int, str]] = {
    "a plain user may not offer (R1)": (
        "medewerker",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1001")}),
        403,
        "not_super_user",
    ),
    "an administration with authorizers in a flow (R10)": (
        "noord",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1003")}),
        409,
        "authorizers_in_flow",
    ),
    "an administration already in an open offer (R4)": (
        "noord",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1002")}),
        409,
        "already_offered",
    ),
    "an offer without the terms accepted": (
        "noord",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1001", accept_terms=False)}),
        422,
        "terms_not_accepted",
    ),
    "an offer to an address that is none": (
        "noord",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1001", recipients=["zuid"])}),
        422,
        "email_invalid",
    ),
    "an offer of another environment's administration": (
        "oost",
        lambda w: ("POST", "offers", {"json": _offer_body(w, "1001")}),
        404,
        "unknown_connection",
    ),
    "a redemption by an environment without a subscription (R7)": (
        "west",
        lambda w: ("POST", "redemptions", {"json": _redeem_body(w.open_offer.code)}),
        409,
        "no_subscription",
    ),
    "a redemption of a code another environment took in (R3)": (
        "oost",
        lambda w: ("POST", "redemptions", {"json": _redeem_body(w.open_offer.code)}),
        409,
        "code_used",
    ),
    "a redemption of one's own code": (
        "noord",
        lambda w: ("POST", "redemptions", {"json": _redeem_body(w.open_offer.code)}),
        409,
        "own_environment",
    ),
    "a redemption without the costs accepted": (
        "zuid",
        lambda w: (
            "POST",
            "redemptions",
            {"json": {**_redeem_body(w.open_offer.code), "accept_costs": False}},
        ),
        422,
        "costs_not_accepted",
    ),
    "a withdrawal by the recipient": (
        "zuid",
        lambda w: ("POST", f"offer-items/{w.open_offer.items[0].id}/withdraw", {}),
        404,
        "unknown_item",
    ),
    "a withdrawal of a started item (R12)": (
        "noord",
        lambda w: ("POST", f"offer-items/{w.started_offer.items[0].id}/withdraw", {}),
        409,
        "item_started",
    ),
    "a resend when nothing is offered any more": (
        "noord",
        lambda w: ("POST", f"offers/{w.started_offer.offer.id}/resend", {}),
        409,
        "no_open_items",
    ),
    "a rejection by the sender": (
        "noord",
        lambda w: ("POST", f"offers/{w.open_offer.offer.id}/reject", {"json": {}}),
        404,
        "unknown_offer",
    ),
    "a rejection with a reason too long": (
        "zuid",
        lambda w: (
            "POST",
            f"offers/{w.open_offer.offer.id}/reject",
            {"json": {"reason": "x" * 1001}},
        ),
        422,
        "reason_too_long",
    ),
    "a start on another package's connection (R2)": (
        "zuid",
        lambda w: (
            "POST",
            f"offers/{w.open_offer.offer.id}/start",
            {"json": _targets(w, AccountingPackage.TWINFIELD)},
        ),
        409,
        "package_mismatch",
    ),
    "a start of an offer another environment took in": (
        "oost",
        lambda w: (
            "POST",
            f"offers/{w.open_offer.offer.id}/start",
            {"json": _targets(w, AccountingPackage.EXACT_ONLINE_NL)},
        ),
        404,
        "unknown_offer",
    ),
    "a retry of a migration that did not fail (R13)": (
        "zuid",
        lambda w: ("POST", f"migrations/{w.migration_id}/retry", {}),
        409,
        "migration_not_failed",
    ),
    "another environment's migration": (
        "oost",
        lambda w: ("GET", f"migrations/{w.migration_id}", {}),
        404,
        "unknown_migration",
    ),
    "an unknown offer": ("zuid", lambda w: ("GET", "offers/2147483647", {}), 404, "unknown_offer"),
    "the archive of an administration without access": (
        "medewerker",
        lambda w: ("GET", f"administrations/{w.scene.administration('1001').id}/documents", {}),
        403,
        "no_access",
    ),
    "another environment's archive": (
        "oost",
        lambda w: ("GET", f"administrations/{w.scene.administration('1001').id}/documents", {}),
        404,
        "unknown_administration",
    ),
    "access for a user of another environment": (
        "noord",
        lambda w: (
            "PUT",
            f"administrations/{w.scene.administration('1001').id}/access/"
            f"{w.scene.user('zuid@example.nl')}",
            {"json": {"granted": True}},
        ),
        404,
        "unknown_user",
    ),
    "a relink to a package administration that is linked already (R9)": (
        "noord",
        lambda w: (
            "POST",
            f"administrations/{w.scene.administration('1001').id}/relink",
            {
                "json": {
                    "connection_id": w.scene.administration("1001").connection_id,
                    "package_admin_id": w.scene.administration("1003").package_admin_id,
                }
            },
        ),
        409,
        "package_administration_linked",
    ),
    "the audit trail for a plain user": (
        "medewerker",
        lambda w: ("GET", "audit", {}),
        403,
        "not_super_user",
    ),
    "connections for a plain user": (
        "medewerker",
        lambda w: ("GET", "connections", {}),
        403,
        "not_super_user",
    ),
    "a search term too long": (
        "noord",
        lambda w: ("GET", "offers/outgoing", {"query_string": {"search": "x" * 201}}),
        422,
        "search_too_long",
    ),
    "a cursor that is not one of ours": (
        "zuid",
        lambda w: ("GET", "offers/incoming", {"query_string": {"cursor": "bm90LWEtY3Vyc29y"}}),
        422,
        "cursor_invalid",
    ),
    "an overview page of no rows": (
        "noord",
        lambda w: ("GET", "offers/outgoing", {"query_string": {"limit": "0"}}),
        422,
        "request_invalid",
    ),
    "an audit page of no rows": (
        "noord",
        lambda w: ("GET", "audit", {"query_string": {"limit": 0}}),
        422,
        "request_invalid",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_refusal_has_its_status_and_code_in_dutch_and_english_and_changes_nothing(
    world: World, unchanged_dump: Dump, case: str
) -> None:
    who, request, status, code = REFUSALS[case]
    method, path, arguments = request(world)
    before = unchanged_dump()

    dutch = world.api[who].call(method, path, **arguments)
    english = world.api[who].call(method, path, language="en-GB,en;q=0.9", **arguments)

    assert_problem(dutch, status, code, "nl")
    assert_problem(english, status, code, "en")
    assert unchanged_dump() == before


def test_wrong_codes_count_and_lock_redeeming_with_retry_after(world: World) -> None:
    oost = world.api["oost"]
    wrong = _redeem_body("0000-0000-0000-0000-0000-0000")

    answers = [oost.post("redemptions", json=wrong) for _ in range(5)]
    locked = oost.post("redemptions", json=_redeem_body("abc"), language="en")

    assert [a.get_json()["code"] for a in answers] == ["code_unknown"] * 5
    assert_problem(locked, 429, "redeem_locked", "en")
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60


# --- tokens, not cookies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer mkt_not-a-token", "Basic bm9vcmQ6ZGVtbw==", "mkt_x"],
    ids=["none", "empty", "no token", "blank token", "garbage", "basic", "no scheme"],
)
def test_a_call_without_a_valid_token_is_refused_401(
    app: Flask, authorization: str | None, unchanged_dump: Dump
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    before = unchanged_dump()

    response = Api(app, None).get("me", headers=headers)

    assert_problem(response, 401, "api_token_invalid")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert unchanged_dump() == before


def test_a_revoked_token_opens_nothing_any_more(app: Flask, scene: Scene) -> None:
    token = token_for(scene, "noord@example.nl")
    api = Api(app, token)
    assert api.get("me").status_code == 200
    (listed, *_) = services.list_api_tokens(scene.deps, actor_id=scene.user("noord@example.nl"))

    services.revoke_api_token(
        scene.deps, actor_id=scene.user("noord@example.nl"), token_id=listed.id
    )

    assert_problem(api.get("me", language="en"), 401, "api_token_invalid", "en")


def test_the_session_cookie_alone_opens_no_api_call(app: Flask, noord: FlaskClient) -> None:
    assert noord.get("/migraties").status_code == 200

    with_cookie = Api(app, None, client=noord)

    assert_problem(with_cookie.get("me"), 401, "api_token_invalid")
    assert_problem(with_cookie.post("offers", json={}), 401, "api_token_invalid")


def test_with_a_cookie_and_a_token_the_token_says_who_calls(
    app: Flask, scene: Scene, noord: FlaskClient
) -> None:
    as_zuid = Api(app, token_for(scene, "zuid@example.nl"), client=noord)

    me = as_zuid.get("me").get_json()

    assert (me["email"], me["role"]) == ("zuid@example.nl", "SUPER_USER")
    answer = as_zuid.get("me")
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")


def test_a_token_acts_with_its_plain_user_s_rights(
    api_as: Callable[[str], Api], scene: Scene
) -> None:
    medewerker = api_as(PLAIN_USER)
    granted = {
        row.administration.code
        for row in services.list_administrations(scene.deps, actor_id=scene.user(PLAIN_USER))
    }

    listed = medewerker.get("administrations").get_json()

    assert medewerker.get("me").get_json()["role"] == "USER"
    assert {a["code"] for a in listed} == granted
    assert_problem(medewerker.get("offers/outgoing"), 403, "not_super_user")


def test_the_api_needs_no_csrf_token_where_the_portal_does(home: Any, scene: Scene) -> None:
    app = make_app(home, WTF_CSRF_ENABLED=True)
    try:
        api = Api(app, token_for(scene, "noord@example.nl"))
        chosen = scene.administration("1001")
        offered = api.post(
            "offers",
            json={
                "connection_id": chosen.connection_id,
                "administration_ids": [chosen.id],
                "recipients": ["zuid@example.nl"],
                "accept_terms": True,
            },
        )
        portal = app.test_client().post("/taal", data={"language": "en"})
    finally:
        queue = app.extensions[RUNTIME_KEY].queue
        if isinstance(queue, InProcessQueue):
            queue.stop(timeout=5)

    assert offered.status_code == 201
    assert portal.status_code == 400


# --- strict input ----------------------------------------------------------------------------

#: A body of POST /offers with one thing wrong, and the field the refusal names.
MALFORMED: dict[str, tuple[Any, str]] = {
    "an id as text": ({"connection_id": "1"}, "connection_id"),
    "an id as a boolean": ({"connection_id": True}, "connection_id"),
    "an id as a fraction": ({"connection_id": 1.5}, "connection_id"),
    "an id out of range": ({"administration_ids": [1, 2**31]}, "administration_ids[1]"),
    "a list as text": ({"recipients": "zuid@example.nl"}, "recipients"),
    "a boolean as a number": ({"accept_terms": 1}, "accept_terms"),
    "text with NUL": ({"recipients": ["zuid@example.nl\x00"]}, "recipients[0]"),
    "a field too many": ({"accept_costs": True}, "accept_costs"),
    "a field missing": ({"recipients": None}, "recipients"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_body_is_refused_422_naming_the_field(
    world: World, unchanged_dump: Dump, case: str
) -> None:
    change, field = MALFORMED[case]
    body = {**_offer_body(world, "1001"), **change}
    body = {name: value for name, value in body.items() if value is not None}
    before = unchanged_dump()

    response = world.api["noord"].post("offers", json=body, language="en")

    assert_problem(response, 422, "request_invalid", "en")
    assert f" {field} " in response.get_json()["detail"]
    assert unchanged_dump() == before


def test_a_malformed_target_is_named_by_its_place(world: World) -> None:
    body = _targets(world, AccountingPackage.EXACT_ONLINE_NL)
    body["targets"].append({"item_id": 1, "connection_id": 1})

    response = world.api["zuid"].post(f"offers/{world.open_offer.offer.id}/start", json=body)

    assert_problem(response, 422, "request_invalid")
    # the field by its place, and what is wrong with it (the API's word for a missing field)
    assert response.get_json()["detail"].endswith(" targets[1].package_admin_id ontbreekt.")


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ("{", "application/json", 422, "request_invalid"),
        ("[]", "application/json", 422, "request_invalid"),
        ('"offers"', "application/json", 422, "request_invalid"),
        ("[" * 100_000, "application/json", 413, "request_too_large"),
        ("[" * 60_000, "application/json", 422, "request_invalid"),
        ("connection_id=1", "application/x-www-form-urlencoded", 415, "request_not_json"),
        ("{}", "text/plain", 415, "request_not_json"),
        (b"\xff\xfe{}", "application/json", 422, "request_invalid"),
    ],
    ids=["cut off", "a list", "a string", "too large", "too deep", "a form", "text", "not utf-8"],
)
def test_a_body_that_is_no_json_object_is_refused(
    world: World, data: str | bytes, content_type: str, status: int, code: str
) -> None:
    response = world.api["noord"].post("offers", data=data, content_type=content_type)

    assert_problem(response, status, code)


def test_an_action_takes_no_body_or_an_empty_one(world: World) -> None:
    item_id = world.open_offer.items[0].id
    noord = world.api["noord"]

    assert_problem(
        noord.post(f"offer-items/{item_id}/withdraw", json={"reason": "x"}), 422, "request_invalid"
    )
    assert noord.post(f"offer-items/{item_id}/withdraw", json={}).status_code == 200


def test_unknown_paths_and_methods_are_problems_too(world: World) -> None:
    noord = world.api["noord"]

    assert_problem(noord.get("offers/outgoing/everything"), 404, "path_unknown")
    assert_problem(noord.get("/api/v2/me"), 404, "path_unknown")
    assert_problem(noord.get("migrations/0"), 404, "path_unknown")
    assert_problem(noord.get("migrations/99999999999"), 404, "path_unknown")
    wrong_method = noord.call("DELETE", "me", language="en")
    assert_problem(wrong_method, 405, "method_not_allowed", "en")
    assert "GET" in wrong_method.headers["Allow"]


def test_an_unexpected_error_is_a_problem_that_shows_nothing_of_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 3")

    monkeypatch.setattr(services, "list_connections", broken)

    response = world.api["noord"].get("connections")

    assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "secret" not in response.get_data(as_text=True)


# --- the audit trail -------------------------------------------------------------------------


def test_the_audit_trail_records_api_calls_with_their_channel_and_address(
    world: World,
) -> None:
    noord = world.api["noord"]
    offered = noord.post(
        "offers",
        json=_offer_body(world, "1001"),
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    ).get_json()
    world.api["medewerker"].post(
        "offers", json=_offer_body(world, "1001"), environ_base={"REMOTE_ADDR": "192.0.2.8"}
    )

    trail = noord.get("audit", query_string={"search": "offer", "limit": 10}, language="en")
    events = trail.get_json()["events"]

    done = next(e for e in events if e["outcome"] == "done" and e["action"] == "offer")
    refused = next(e for e in events if e["outcome"] == "refused" and e["action"] == "offer")
    assert (done["channel"], done["address"]) == ("api", "192.0.2.7")
    assert (done["subject_type"], done["subject_id"]) == ("offer", offered["offer"]["id"])
    assert done["actor_email"] == "noord@example.nl"
    assert (refused["channel"], refused["address"]) == ("api", "192.0.2.8")
    assert (refused["actor_email"], refused["error_code"]) == (PLAIN_USER, "not_super_user")
    assert refused["message"] == MESSAGES["not_super_user"][1]
    assert offered["code"] not in trail.get_data(as_text=True)


# --- the document ----------------------------------------------------------------------------


def test_the_openapi_document_is_served_without_a_token_and_is_valid(app: Flask) -> None:
    from openapi_spec_validator import validate

    response = app.test_client().get(f"{PREFIX}/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(app: Flask) -> None:
    document = Api(app, None).document
    routes = {
        (re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{PREFIX}/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }

    assert routes == documented
