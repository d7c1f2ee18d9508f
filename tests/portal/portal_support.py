"""What the portal tests share besides fixtures: the app factory on a demo home, the demo's
objects by name (``Scene``) and a dump of the database. Kept apart from conftest.py so test
modules import it by a name no other test folder uses."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from migrationkit import services
from migrationkit.adapters.sqlalchemy import make_engine, metadata
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Connection,
    Document,
    Environment,
    Migration,
)
from migrationkit.services import Dependencies, OfferReceipt, RedeemedOffer

PORTAL = Path(__file__).resolve().parents[2] / "examples" / "flask_portal"
if str(PORTAL) not in sys.path:
    sys.path.insert(0, str(PORTAL))

from portal.auth import SESSION_COOKIE  # noqa: E402
from portal.runtime import RUNTIME_KEY  # noqa: E402

from portal import create_app  # noqa: E402

__all__ = [
    "PLAIN_USER",
    "PORTAL",
    "RUNTIME_KEY",
    "SECRET",
    "SESSION_COOKIE",
    "SUPER_USERS",
    "Scene",
    "Shown",
    "codes",
    "dump",
    "environ",
    "form_fields",
    "make_app",
    "production_environ",
    "refusals",
    "start_form",
]

SECRET = "portal-tests-secret-key-of-forty-bytes!!"
SUPER_USERS = ("noord@example.nl", "zuid@example.nl", "oost@example.nl", "west@example.nl")
PLAIN_USER = "medewerker@example.nl"


def environ(home: Path) -> dict[str, str]:
    return {
        "MIGRATIONKIT_HOME": str(home),
        "MIGRATIONKIT_DEMO": "1",
        "MIGRATIONKIT_SECRET_KEY": SECRET,
    }


def production_environ(home: Path) -> dict[str, str]:
    """The variables of a portal outside demo mode, with one package (Xero) set up."""
    return {k: v for k, v in environ(home).items() if k != "MIGRATIONKIT_DEMO"} | {
        "MIGRATIONKIT_XERO_CLIENT_ID": "xero-app",
        "MIGRATIONKIT_XERO_CLIENT_SECRET": "xero-geheim",
    }


def make_app(home: Path, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "portal.test",
            "START_WORKER": False,
            "MIGRATIONKIT_ENVIRON": environ(home),
            **config,
        }
    )


def signed_in_client(app: Flask, user_id: int, user_agent: str | None = None) -> FlaskClient:
    """A test client of ``app`` signed in as the user: a session opened by the library, as
    the login page opens it, its id in the client's cookie (the login itself is tested in
    test_auth.py)."""
    runtime = app.extensions[RUNTIME_KEY]
    issued = services.open_session(runtime.deps, actor_id=user_id, user_agent=user_agent)
    client = app.test_client()
    set_session_cookie(app, client, issued.secret)
    return client


def set_session_cookie(app: Flask, client: FlaskClient, secret: str) -> None:
    """Puts a session id in the client's cookie, for the app's host."""
    client.set_cookie(SESSION_COOKIE, secret, domain=app.config.get("SERVER_NAME") or "localhost")


#: The tables every request may write to: the audit trail records each refusal, a session
#: its last request, the API's rate limit each call.
RECORDS_REQUESTS = ("audit_events", "sessions", "rate_limit_hits")


def dump(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but those that record requests (``RECORDS_REQUESTS``), to
    show that a refused request changed nothing."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(row) for row in connection.execute(select(table))), key=repr
                )
                for table in metadata.sorted_tables
                if table.name not in RECORDS_REQUESTS
            }
    finally:
        engine.dispose()


class Scene:
    """The demo's objects by their names, and the library's use cases to set a scene."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def user(self, email: str) -> int:
        with self.deps.uow() as uow:
            user = uow.users.get_by_email(email)
        assert user is not None
        return user.id

    def environment(self, name: str) -> Environment:
        with self.deps.uow() as uow:
            return next(e for e in uow.environments.list() if e.name == f"Kantoor {name}")

    def connection(
        self, office: str, package: AccountingPackage = AccountingPackage.EXACT_ONLINE_NL
    ) -> Connection:
        environment = self.environment(office)
        with self.deps.uow() as uow:
            return next(
                c
                for c in uow.connections.list_for_environment(environment.id)
                if c.package is package
            )

    def administration(self, code: str) -> Administration:
        with self.deps.uow() as uow:
            for environment in uow.environments.list():
                for administration in uow.administrations.list_for_environment(environment.id):
                    if administration.code == code:
                        return administration
        raise LookupError(code)

    def documents(self, code: str) -> list[Document]:
        """The archive of the administration with this code, in order of id."""
        administration = self.administration(code)
        with self.deps.uow() as uow:
            return list(uow.documents.list_for_administration(administration.id))

    def offer(self, *codes: str, to: str = "zuid@example.nl") -> OfferReceipt:
        """Noord offers its administrations (of one connection) to ``to``."""
        chosen = [self.administration(code) for code in codes]
        return services.offer_administrations(
            self.deps,
            actor_id=self.user("noord@example.nl"),
            connection_id=chosen[0].connection_id,
            administration_ids=[a.id for a in chosen],
            recipients=[to],
            accepted_terms=True,
        )

    def redeem(self, receipt: OfferReceipt, office: str = "zuid") -> RedeemedOffer:
        return services.redeem_code(
            self.deps,
            actor_id=self.user(f"{office}@example.nl"),
            code=receipt.code,
            accepted_terms=True,
            accepted_costs=True,
        )

    def start(self, receipt: OfferReceipt, office: str = "zuid") -> tuple[Migration, ...]:
        """Redeems and starts every item, each on its counterpart in the office's package."""
        redeemed = self.redeem(receipt, office)
        actor = self.user(f"{office}@example.nl")
        connection = self.connection(office.capitalize(), receipt.offer.package)
        available = {
            pa.name: pa.package_admin_id
            for pa in services.available_package_administrations(
                self.deps, actor_id=actor, connection_id=connection.id
            )
        }
        return services.start_migrations(
            self.deps,
            actor_id=actor,
            offer_id=redeemed.offer.id,
            choices=[
                services.TargetChoice(item.id, connection.id, available[item.name])
                for item in redeemed.items
            ],
        )


class Shown(NamedTuple):
    """A library refusal on a page: its code, its words, and where: the element's id (a
    field's error: ``code-error``), else "flash", "refusal" (the refusal page or a move's
    failure), "check" (a refused check of a dry run), "trail" (the audit trail) or "form"."""

    code: str
    words: str
    place: str


class _Refusals(HTMLParser):
    """Collects every element that carries a refusal's code (``data-code``) with its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: list[Shown] = []
        self._open: list[tuple[str, str, list[str]]] = []  # code, place, words so far
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open:
            self._depth += 1
            return
        found = dict(attrs)
        if found.get("data-code"):
            classes = (found.get("class") or "").split()
            kinds = {
                "flash": "flash",
                "refusal": "refusal",
                "check-refusal": "check",
                "reason": "trail",
            }
            kind = next((kinds[c] for c in classes if c in kinds), "form")
            place = found.get("id") or kind
            self._open.append((found["data-code"] or "", place, []))
            self._depth = 0

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        if self._depth:
            self._depth -= 1
            return
        code, place, words = self._open.pop()
        self.shown.append(Shown(code, " ".join("".join(words).split()), place))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


def refusals(page: str) -> list[Shown]:
    """The library refusals a page shows (flash messages, field and form errors, the refusal
    page), in the page's order: each carries its code in a ``data-code`` attribute."""
    parser = _Refusals()
    parser.feed(page)
    parser.close()
    return parser.shown


def codes(page: str) -> dict[str, str]:
    """The codes of the refusals a page shows, each with its place (see ``Shown``)."""
    return {shown.code: shown.place for shown in refusals(page)}


class _FormFields(HTMLParser):
    """The fields one form of a page sends as a browser sends them: its inputs with their
    values (a checkbox only when ticked; submit buttons left out), each select's chosen
    option, in the page's order."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.chosen = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attributes}
        if tag == "form":
            self.inside = found.get("id") == self.form_id
        if not self.inside:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type", "text") not in ("submit", "button"):
            if found.get("type") != "checkbox" or "checked" in found:
                self.fields.append((name, found.get("value", "")))
        elif tag == "select" and name:
            self.select, self.first_option, self.chosen = name, None, False
        elif tag == "option" and self.select is not None:
            if self.first_option is None:
                self.first_option = found.get("value", "")
            if "selected" in found:
                self.fields.append((self.select, found.get("value", "")))
                self.chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            if not self.chosen and self.first_option is not None:
                self.fields.append((self.select, self.first_option))
            self.select = None


def form_fields(page: str, form_id: str) -> list[tuple[str, str]]:
    """What the form ``form_id`` of ``page`` sends when submitted as it is shown."""
    parser = _FormFields(form_id)
    parser.feed(page)
    return parser.fields


def start_form(
    client: FlaskClient, offer_id: int, item_ids: list[int], codes: Mapping[int, str] = {}
) -> MultiDict[str, str]:
    """The targets page's form as a browser sends it after the user typed ``codes`` (by item
    id) and accepted the other proposals: read from the page itself (the proposals'
    fingerprint among its fields)."""
    query = "&".join(f"item={item_id}" for item_id in item_ids)
    page = client.get(f"/migraties/inkomend/{offer_id}/koppelen?{query}").text
    fields = form_fields(page, "doelen-formulier")
    items = {name.removesuffix("-item"): value for name, value in fields if name.endswith("-item")}
    typed = {f"{row}-code": codes[int(item)] for row, item in items.items() if int(item) in codes}
    return MultiDict([(name, typed.get(name, value)) for name, value in fields])
