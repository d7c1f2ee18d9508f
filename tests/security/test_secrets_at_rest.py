"""No secret at rest: after a whole flow through the portal (sign in, offer, resend, redeem,
start, the move run to Voltooid, an API token made and used, a package connected through
its OAuth consent, the outbox sent) the database holds no transfer code in any spelling, no
API token, no OAuth token and no password, on SQLite (every row, and the file's bytes) and
on PostgreSQL (pg_dump). The transfer code is not in it before the e-mail is sent either:
the outbox seals it (R5)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene, codes, environ, make_app, start_form
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.bootstrap import Runtime
from migrationkit.domain.model import AccountingPackage, ItemStatus
from migrationkit.services.outbox import dispatch_outbox
from migrationkit.testing import FakeMailer

PASSWORDS = {
    "noord@example.nl": "Noord-wachtwoord-7f3a9c!",
    "zuid@example.nl": "Zuid-wachtwoord-2b8e4d!",
}
#: Typed at the login page by mistake: not stored either, not even in the audit trail.
WRONG_PASSWORD = "Verkeerd-wachtwoord-5d1c0e!"
XERO_APP = "security-xero-app"
XERO_SECRET = "cs-security-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c"
WAY_BACK = "https://portal.test/instellingen/koppelingen/terug"
XERO_TOKEN = "https://identity.xero.com/connect/token"
ACCESS_TOKEN = "at-security-4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f"
REFRESH_TOKEN = "rt-security-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
CODE = re.compile(r'<p class="code" id="overdrachtscode">([0-9A-Z-]+)</p>')
API_TOKEN = re.compile(r'<p class="code" id="api-token">(mkt_[A-Za-z0-9_-]+)</p>')


def spellings(code: str) -> set[str]:
    """Every way a code could be written down: with or without dashes, in either case."""
    bare = code.replace("-", "")
    return {code, bare, code.lower(), bare.lower()}


class Flow:
    """The secrets a whole flow handled; what the database must not hold."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.api_tokens: list[str] = []

    def secrets(self) -> set[str]:
        found = {s for code in self.codes for s in spellings(code)}
        found |= set(self.api_tokens)
        # The token's random part, without the prefix the list shows a little of.
        found |= {token.removeprefix("mkt_") for token in self.api_tokens}
        return found | {
            ACCESS_TOKEN,
            REFRESH_TOKEN,
            XERO_SECRET,
            WRONG_PASSWORD,
            *PASSWORDS.values(),
        }


def set_passwords(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for email, password in PASSWORDS.items():
                connection.execute(
                    text("UPDATE users SET password_hash = :hash WHERE email = :email"),
                    {"hash": generate_password_hash(password), "email": email},
                )
    finally:
        engine.dispose()


def sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    refused = client.post("/inloggen", data={"email": email, "password": WRONG_PASSWORD})
    assert codes(refused.text) == {"sign_in_failed": "password-error"}
    response = client.post("/inloggen", data={"email": email, "password": PASSWORDS[email]})
    assert response.status_code == 302, response.text
    return client


def code_of(response: TestResponse) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    found = CODE.search(response.text)
    assert found, response.text
    return found.group(1)


def offer(noord: FlaskClient, scene: Scene) -> str:
    administration = scene.administration("1002")
    response = noord.post(
        "/migraties/uitgaand/samenvatting",
        data={
            "koppeling": str(administration.connection_id),
            "administratie": str(administration.id),
            "ontvangers": "noord@example.nl, zuid@example.nl",
            "voorwaarden": "y",
        },
    )
    return code_of(response)


def move(zuid: FlaskClient, scene: Scene, code: str, run_jobs: Callable[[], None]) -> None:
    """Redeems the code, starts the one item on its counterpart in Zuid's package, runs
    the move to Voltooid."""
    redeemed = zuid.post(
        "/migraties/inkomend/code",
        data={"code": code.lower(), "voorwaarden": "y", "kosten": "y"},
    )
    assert redeemed.status_code == 302, redeemed.text
    offered = redeemed.location
    offer_id = int(offered.rsplit("/", 1)[1])
    [item] = services.redeemed_offer(
        scene.deps, actor_id=scene.user("zuid@example.nl"), offer_id=offer_id
    ).items
    fields = start_form(zuid, offer_id, [item.id])
    started = zuid.post(f"{offered}/koppelen", data=fields | {"start": "Start migratie"})
    assert started.status_code == 302, started.text
    run_jobs()
    [row] = [
        r
        for r in services.incoming_overview(scene.deps, actor_id=scene.user("zuid@example.nl")).rows
        if r.item_id == item.id
    ]
    assert row.status is ItemStatus.COMPLETED


def make_api_token(client: FlaskClient) -> str:
    response = client.post("/instellingen/api-tokens", data={"naam": "Koppeling met ons CRM"})
    assert response.status_code == 200, response.text
    found = API_TOKEN.search(response.text)
    assert found, response.text
    token = found.group(1)
    used = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert used.status_code == 200, used.text
    return token


def connect_xero(production: Flask) -> None:
    """Koppelen for Noord's Xero connection through the consent flow, Xero's token
    endpoint faked: the tokens it hands out go into the database sealed."""
    noord = sign_in(production, "noord@example.nl")
    runtime: Runtime = production.extensions[RUNTIME_KEY]
    connection_id = Scene(runtime.deps).connection("Noord", AccountingPackage.XERO).id
    with responses.RequestsMock() as package:
        package.post(
            XERO_TOKEN,
            json={
                "access_token": ACCESS_TOKEN,
                "refresh_token": REFRESH_TOKEN,
                "expires_in": 1800,
            },
        )
        consent = noord.post(f"/instellingen/koppelingen/{connection_id}/koppelen")
        (state,) = parse_qs(urlsplit(consent.location).query)["state"]
        back = noord.get(
            "/instellingen/koppelingen/terug", query_string={"state": state, "code": "consent-1"}
        )
    assert back.status_code == 302
    assert "Xero Noord is gekoppeld." in noord.get("/instellingen/koppelingen").text


def dispatch(app: Flask, flow: Flow) -> None:
    """Sends the outbox; the code e-mails carry the codes, so the sealed ones were read."""
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    mailer = FakeMailer()
    dispatch_outbox(runtime.deps, mailer)
    texts = " ".join(email.text() for email, _id in mailer.sent)
    assert all(code in texts for code in flow.codes)


def rows_of_every_table(database_url: str) -> str:
    """Every row of every table the database holds (the audit trail and Alembic's table
    too), as text."""
    engine = make_engine(database_url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(
                f"{table.name}: {tuple(row)!r}"
                for table in tables.sorted_tables
                for row in connection.execute(select(table))
            )
    finally:
        engine.dispose()


def sqlite_dump(database_url: str) -> str:
    """The rows, and the raw bytes of the database file and its write-ahead log: what was
    once written and deleted may linger there."""
    path = Path(make_url(database_url).database or "")
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    return rows_of_every_table(database_url) + raw.decode("latin-1")


def postgres_dump(database_url: str) -> str:
    """``pg_dump`` of the whole database (schema and data) when it is installed; else every
    row of every table."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return rows_of_every_table(database_url)
    libpq_url = make_url(database_url).set(drivername="postgresql")
    dumped = subprocess.run(
        [pg_dump, "--no-owner", libpq_url.render_as_string(hide_password=False)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dumped.stdout


def assert_holds_none(dump: str, kept: set[str], *, when: str) -> None:
    found = sorted(secret for secret in kept if secret in dump)
    assert not found, f"{when}: the database holds {found}"


def whole_flow(
    home: Path,
    database_environ: dict[str, str],
    dump: Callable[[], str],
) -> None:
    demo = make_app(home, MIGRATIONKIT_ENVIRON=environ(home) | database_environ)
    runtime: Runtime = demo.extensions[RUNTIME_KEY]
    try:
        scene = Scene(runtime.deps)
        set_passwords(runtime.settings.database_url)
        flow = Flow()
        noord = sign_in(demo, "noord@example.nl")
        zuid = sign_in(demo, "zuid@example.nl")

        flow.codes.append(offer(noord, scene))
        assert_holds_none(dump(), flow.secrets(), when="offered, its e-mail not sent")

        offer_id = next(
            row.offer_id
            for row in services.outgoing_overview(
                scene.deps, actor_id=scene.user("noord@example.nl")
            ).rows
        )
        flow.codes.append(code_of(noord.post(f"/migraties/verzoeken/{offer_id}/code-opnieuw")))
        assert_holds_none(dump(), flow.secrets(), when="resent, its e-mail not sent")

        def run_jobs() -> None:
            runtime.queue.work(runtime.deps, runtime.archives, sweep_every=None, burst=True)  # type: ignore[attr-defined]

        move(zuid, scene, flow.codes[-1], run_jobs)
        flow.api_tokens.append(make_api_token(zuid))
        assert_holds_none(dump(), flow.secrets(), when="moved, the e-mails not sent")
        dispatch(demo, flow)
    finally:
        runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]

    production = make_app(
        home,
        MIGRATIONKIT_ENVIRON={k: v for k, v in environ(home).items() if k != "MIGRATIONKIT_DEMO"}
        | database_environ
        | {
            "MIGRATIONKIT_XERO_CLIENT_ID": XERO_APP,
            "MIGRATIONKIT_XERO_CLIENT_SECRET": XERO_SECRET,
            "MIGRATIONKIT_XERO_REDIRECT_URL": WAY_BACK,
        },
    )
    connect_xero(production)

    assert_holds_none(dump(), flow.secrets(), when="after the whole flow")


def test_a_whole_flow_leaves_no_secret_in_the_sqlite_database(home: Path) -> None:
    database_url = f"sqlite:///{home / 'migrationkit.sqlite3'}"

    whole_flow(home, {}, lambda: sqlite_dump(database_url))


@pytest.mark.postgres
def test_a_whole_flow_leaves_no_secret_in_the_postgresql_database(
    tmp_path: Path, throwaway_postgres: str
) -> None:
    """The demo seeded into a throwaway PostgreSQL database, the archive in a new home."""
    home = tmp_path / "pg-home"
    home.mkdir()

    whole_flow(
        home,
        {"MIGRATIONKIT_DATABASE_URL": throwaway_postgres},
        lambda: postgres_dump(throwaway_postgres),
    )
