"""No secret in any log line, at any level: the whole flow (sign-in with a password, a new
password, a refused one; API tokens; offer, transfer code, a wrong code, redeem, start, the
move, its finish, the e-mails sent) runs through the portal with every logger at DEBUG
(SQLAlchemy's statements and their parameters included), written as JSON lines, and the
lines are searched for each secret the flow used."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
from api_support import PREFIX, token_for
from flask import Flask
from portal_support import RUNTIME_KEY, SECRET, Scene

from migrationkit.adapters.logs import configure_logging
from migrationkit.bootstrap import Runtime
from migrationkit.services.outbox import dispatch_outbox
from migrationkit.testing import FakeMailer

NEW_PASSWORD = "Nieuw-wachtwoord-Qx7!kelder"
WRONG_PASSWORD = "Fout-wachtwoord-Zp4?zolder"


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Every log line of the test, at DEBUG, as JSON lines; SQLAlchemy's too (it sets its
    own loggers to WARNING when imported)."""
    lines = io.StringIO()
    configure_logging("json", logging.DEBUG, stream=lines)
    sqlalchemy = logging.getLogger("sqlalchemy")
    sqlalchemy.setLevel(logging.DEBUG)
    yield lines
    sqlalchemy.setLevel(logging.WARNING)
    configure_logging("json", logging.WARNING)


def test_the_whole_flow_logs_no_secret_at_debug(
    app: Flask, scene: Scene, run_jobs: Callable[[], None], logged: io.StringIO
) -> None:
    browser = app.test_client()
    signed_in = browser.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})
    assert signed_in.status_code == 302
    changed = browser.post(
        "/instellingen/wachtwoord",
        data={"huidig": "demo", "nieuw": NEW_PASSWORD, "herhaling": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    refused = browser.post(
        "/inloggen", data={"email": "noord@example.nl", "password": WRONG_PASSWORD}
    )
    assert refused.status_code == 200
    again = browser.post("/inloggen", data={"email": "noord@example.nl", "password": NEW_PASSWORD})
    assert again.status_code == 302
    # Every cookie the portal set: the first session's id, the one after the new password.
    cookies = {
        header.split(";")[0].partition("=")[2]
        for answer in (signed_in, changed, refused, again)
        for header in answer.headers.getlist("Set-Cookie")
    } - {""}
    assert len(cookies) >= 2

    noord, zuid = token_for(scene, "noord@example.nl"), token_for(scene, "zuid@example.nl")
    api = app.test_client()

    def call(token: str, path: str, body: dict[str, object]) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {token}"}
        answer = api.post(f"{PREFIX}/{path}", json=body, headers=headers)
        assert answer.status_code < 500, answer.text
        found: dict[str, object] = answer.get_json()
        return found

    fietsen = scene.administration("1002")
    offered = call(
        noord,
        "offers",
        {
            "connection_id": fietsen.connection_id,
            "administration_ids": [fietsen.id],
            "recipients": ["zuid@example.nl"],
            "accept_terms": True,
        },
    )
    code = str(offered["code"])
    wrong = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"
    call(zuid, "redemptions", {"code": wrong, "accept_terms": True, "accept_costs": True})
    redeemed = call(zuid, "redemptions", {"code": code, "accept_terms": True, "accept_costs": True})
    offer_id = redeemed["offer"]["id"]  # type: ignore[index]
    [item] = offered["items"]  # type: ignore[misc]
    target = scene.connection("Zuid")
    available = api.get(
        f"{PREFIX}/connections/{target.id}/package-administrations",
        headers={"Authorization": f"Bearer {zuid}"},
    ).get_json()
    [counterpart] = [pa for pa in available if pa["name"] == "Fietsenmakerij Van Dijk"]
    choice = {
        "item_id": item["id"],
        "connection_id": target.id,
        "package_admin_id": counterpart["package_admin_id"],
    }
    started = call(zuid, f"offers/{offer_id}/start", {"targets": [choice]})
    assert "migrations" in started, started
    run_jobs()
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    mailer = FakeMailer()
    assert dispatch_outbox(runtime.deps, mailer).sent >= 3
    assert code in [message.secret for message, _ in mailer.sent]  # the e-mail has it

    text = logged.getvalue()
    for event in ("migration_claimed", "migration_finished", "email_sent", "sqlalchemy.engine"):
        assert event in text  # the flow was logged, statements and all
    secrets = {
        "the transfer code": code,
        "the code as typed without dashes": code.replace("-", ""),
        "the wrong code": wrong,
        "noord's API token": noord,
        "zuid's API token": zuid,
        "the demo password": '"demo"',
        "the new password": NEW_PASSWORD,
        "the wrong password": WRONG_PASSWORD,
        "the server's secret key": SECRET,
        **{f"cookie {number}": value for number, value in enumerate(cookies)},
    }
    for what, secret in secrets.items():
        assert secret not in text, f"{what} is in the logs"
        assert secret.lower() not in text.lower(), f"{what} is in the logs"
