"""Hostile input in every form field of the portal: oversized (1 MB, 10,000 characters),
malformed (not a number, negative, huge, NUL bytes, invalid UTF-8, a lone surrogate, a list
where one value is meant), HTML and SQL-looking text. The portal answers with a clear refusal
in the user's language (a 4xx page, or the form again with its message), never a 5xx; what
must be refused stores nothing (the database as before, but for the audit trail); HTML is
never given back unescaped.

The forms are found, not listed by hand: every ``FlaskForm`` of ``portal.forms`` and every
route that takes a POST must have a way in below (``ROUTES``), or a test fails and says
which one is new."""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from portal_support import RUNTIME_KEY, Scene, codes, environ, make_app, signed_in_client
from security_support import csrf_token, get_paths
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse
from wtforms import BooleanField, Field, FieldList, FormField, HiddenField, SubmitField

from migrationkit import services
from migrationkit.bootstrap import Runtime
from migrationkit.domain.model import AccountingPackage
from migrationkit.services import Dependencies
from portal import forms

Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]

# --- the input ---------------------------------------------------------------------------------


@attrs.frozen
class Bad:
    """One hostile value: ``raw`` is sent as it is (bytes, percent-encoded) when set;
    ``refused``: whatever the field, the portal must refuse it and store nothing;
    ``refused_by_numbers``: a field that takes an id or a choice must refuse it."""

    name: str
    value: str | list[str] = ""
    raw: bytes | None = None
    refused: bool = False
    refused_by_numbers: bool = False


HTML = "<script>alert('mk')</script>"
HTML_ATTRIBUTE = '"><img src=x onerror=alert(1)>'
BAD_INPUT = (
    Bad("1 MB", "A" * 1_000_000, refused=True),
    Bad("10,000 characters", "B" * 10_000, refused=True),
    Bad("a NUL byte", "12\x0034", refused=True),
    Bad("not a number", "abc", refused_by_numbers=True),
    Bad("negative", "-1", refused_by_numbers=True),
    Bad("huge", "9" * 30, refused_by_numbers=True),
    Bad("a fraction", "1.5", refused_by_numbers=True),
    Bad("invalid UTF-8", raw=b"%FF%FE%FD"),
    Bad("a lone surrogate", raw=quote("\ud800", errors="surrogatepass").encode()),
    Bad("a list", ["1", "2"]),
    Bad("HTML", HTML),
    Bad("HTML in an attribute", HTML_ATTRIBUTE),
    Bad("SQL", "'; DROP TABLE users; --"),
)
#: WTForms' own messages in English: a Dutch page must never show them.
ENGLISH = re.compile(
    r"Not a valid|This field is required|Invalid [Cc]hoice|could not coerce|Field must be|"
    r"Invalid input|not a valid"
)
REFUSAL = re.compile(
    r'class="[^"]*\b(?:field-error|form-errors|flash-error|refusal|verdict-refused)\b[^"]*"'
)

# --- where each form is ------------------------------------------------------------------------


@attrs.frozen
class Stage:
    """The demo's objects the routes are reached with: Noord offered 1002 to Zuid, Zuid
    redeemed it; Noord has an API token."""

    deps: Dependencies
    scene: Scene
    offer_id: int
    item_id: int
    token_id: int
    #: A session of Noord's super user in another browser.
    session_id: int

    def id(self, what: str) -> int:
        scene = self.scene
        ids: dict[str, Callable[[], int]] = {
            "administration": lambda: scene.administration("1001").id,
            "noord_connection": lambda: scene.connection("Noord").id,
            "zuid_connection": lambda: scene.connection("Zuid").id,
            "xero_connection": lambda: scene.connection("Noord", AccountingPackage.XERO).id,
            "medewerker": lambda: scene.user("medewerker@example.nl"),
            "offer": lambda: self.offer_id,
            "item": lambda: self.item_id,
            "token": lambda: self.token_id,
            "session": lambda: self.session_id,
        }
        return ids[what]()

    def zuid_package_admin_code(self) -> str:
        connection = self.scene.connection("Zuid")
        available = services.available_package_administrations(
            self.deps, actor_id=self.scene.user("zuid@example.nl"), connection_id=connection.id
        )
        return next(pa.code for pa in available if pa.name.startswith("Fiets"))


@attrs.frozen
class Route:
    """How a user reaches a form: who, which method, the path, the form class (or none),
    the fields a valid submission holds (from which each is spoiled in turn)."""

    user: str | None
    method: str
    path: Callable[[Stage], str]
    form: type[FlaskForm] | None = None
    prefix: str = ""
    valid: Callable[[Stage], dict[str, str]] = lambda _stage: {}
    #: Tables a refused value may still write: a wrong transfer code counts (R7).
    records_refusals: tuple[str, ...] = ()
    #: A value it cannot read is ignored without a word: a read-only choice, the language.
    quiet: bool = False


NOORD, ZUID, VISITOR = "noord@example.nl", "zuid@example.nl", None
ROUTES: dict[str, Route] = {
    "auth.login": Route(
        VISITOR,
        "POST",
        lambda s: "/inloggen",
        forms.LoginForm,
        valid=lambda s: {"email": NOORD, "password": "niet-demo"},
        records_refusals=("sign_in_failures",),
    ),
    "auth.logout": Route(NOORD, "POST", lambda s: "/uitloggen"),
    "i18n.switch": Route(
        NOORD,
        "POST",
        lambda s: "/taal",
        valid=lambda s: {"language": "nl", "next": "/"},
        quiet=True,
    ),
    "migrations.overview": Route(
        NOORD,
        "GET",
        lambda s: "/migraties",
        forms.SearchForm,
        valid=lambda s: {"aangeboden": "Bakkerij", "ontvangen": "Bakkerij"},
    ),
    "migrations.actions": Route(
        NOORD,
        "POST",
        lambda s: "/migraties/acties",
        forms.ActionForm,
        valid=lambda s: {"keuze": "uitgaand"},
    ),
    "migrations.outgoing_choose": Route(
        NOORD,
        "GET",
        lambda s: "/migraties/uitgaand/administraties",
        forms.OutgoingChoiceForm,
        valid=lambda s: {
            "koppeling": str(s.id("noord_connection")),
            "administratie": str(s.id("administration")),
            "volgende": "Volgende",
        },
        quiet=True,
    ),
    "migrations.outgoing_choose connection": Route(
        NOORD,
        "GET",
        lambda s: "/migraties/uitgaand/administraties",
        forms.ConnectionForm,
        valid=lambda s: {"koppeling": str(s.id("noord_connection"))},
        quiet=True,
    ),
    "migrations.outgoing_summary": Route(
        NOORD,
        "POST",
        lambda s: "/migraties/uitgaand/samenvatting",
        forms.OfferForm,
        valid=lambda s: {
            "koppeling": str(s.id("noord_connection")),
            "administratie": str(s.id("administration")),
            "ontvangers": "zuid@example.nl",
            # Not accepted: the summary answers, and nothing is offered by a valid rest.
            "voorwaarden": "",
        },
    ),
    "migrations.outgoing_preflight": Route(
        NOORD,
        "GET",
        lambda s: f"/migraties/uitgaand/koppelingen/{s.id('noord_connection')}/controle",
        valid=lambda s: {"administratie": str(s.id("administration"))},
        quiet=True,
    ),
    "migrations.withdraw": Route(
        NOORD, "POST", lambda s: f"/migraties/aangeboden/{s.id('item')}/intrekken"
    ),
    "migrations.resend": Route(
        NOORD, "POST", lambda s: f"/migraties/verzoeken/{s.id('offer')}/code-opnieuw"
    ),
    "migrations.redeem": Route(
        ZUID,
        "POST",
        lambda s: "/migraties/inkomend/code",
        forms.RedeemForm,
        valid=lambda s: {"code": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "voorwaarden": "y"},
        records_refusals=("redeem_failures",),
    ),
    "migrations.offered": Route(
        ZUID,
        "POST",
        lambda s: f"/migraties/inkomend/{s.id('offer')}",
        forms.OfferedItemsForm,
        valid=lambda s: {"administratie": str(s.id("item")), "reden": "", "afwijzen": "x"},
    ),
    "migrations.targets": Route(
        ZUID,
        "POST",
        lambda s: f"/migraties/inkomend/{s.id('offer')}/koppelen",
        forms.StartForm,
        valid=lambda s: {
            "koppeling": str(s.id("zuid_connection")),
            "voorstellen": "0" * 16,
            "doelen-0-item": str(s.id("item")),
            "doelen-0-code": "geen-administratie",
            "start": "x",
        },
    ),
    "migrations.start_preflight": Route(
        ZUID,
        "POST",
        lambda s: f"/migraties/inkomend/{s.id('offer')}/controle",
        forms.StartForm,
        valid=lambda s: {
            "koppeling": str(s.id("zuid_connection")),
            "doelen-0-item": str(s.id("item")),
            "doelen-0-code": s.zuid_package_admin_code(),
        },
    ),
    "migrations.retry": Route(NOORD, "POST", lambda s: f"/migraties/{s.id('item')}/opnieuw"),
    "administrations.add": Route(
        ZUID,
        "POST",
        lambda s: "/administraties/toevoegen",
        forms.AddAdministrationsForm,
        valid=lambda s: {
            "koppeling": str(s.id("zuid_connection")),
            "administratie": "geen-administratie",
            "submit": "x",
        },
    ),
    "administrations.relink": Route(
        NOORD,
        "POST",
        lambda s: f"/administraties/{s.id('administration')}/interne-migratie",
        forms.RelinkForm,
        valid=lambda s: {
            "koppeling": str(s.id("noord_connection")),
            "administratie": "geen-administratie",
            "submit": "x",
        },
    ),
    "settings.set_access": Route(
        NOORD,
        "POST",
        lambda s: (
            f"/instellingen/administraties/{s.id('administration')}/bewerken/gebruikers/"
            f"{s.id('medewerker')}"
        ),
        forms.AccessForm,
        prefix=lambda s: f"gebruiker-{s.id('medewerker')}",  # type: ignore[arg-type]
        valid=lambda s: {},
    ),
    "archive.index": Route(
        NOORD,
        "POST",
        lambda s: f"/administraties/{s.id('administration')}/archief",
        forms.UploadForm,
    ),
    "connections.connect": Route(
        NOORD, "POST", lambda s: f"/instellingen/koppelingen/{s.id('xero_connection')}/koppelen"
    ),
    "tokens.create": Route(
        NOORD,
        "POST",
        lambda s: "/instellingen/api-tokens",
        forms.ApiTokenForm,
        valid=lambda s: {"naam": "Koppeling met ons CRM"},
    ),
    "tokens.revoke": Route(
        NOORD, "POST", lambda s: f"/instellingen/api-tokens/{s.id('token')}/intrekken"
    ),
    "auth.password": Route(
        NOORD,
        "POST",
        lambda s: "/instellingen/wachtwoord",
        forms.PasswordForm,
        # Not the current password: refused, and counted as a refused sign-in.
        valid=lambda s: {
            "huidig": "niet-demo",
            "nieuw": "een nieuw wachtwoord",
            "herhaling": "een nieuw wachtwoord",
        },
        records_refusals=("sign_in_failures",),
    ),
    "sessions.end": Route(
        NOORD, "POST", lambda s: f"/instellingen/sessies/{s.id('session')}/beeindigen"
    ),
    "sessions.end_others": Route(
        NOORD, "POST", lambda s: "/instellingen/sessies/andere-beeindigen"
    ),
    "audit.index": Route(
        NOORD,
        "GET",
        lambda s: "/instellingen/logboek",
        forms.AuditSearchForm,
        valid=lambda s: {"zoeken": "noord"},
    ),
}


def form_classes() -> set[type[FlaskForm]]:
    """Every form of the portal that a user fills in."""
    return {
        cls
        for _name, cls in inspect.getmembers(forms, inspect.isclass)
        if issubclass(cls, FlaskForm) and cls not in (FlaskForm, forms.ReadForm)
    }


def test_every_form_of_the_portal_has_a_way_in(app: Flask) -> None:
    reached = {route.form for route in ROUTES.values()}

    assert form_classes() - reached == set(), "a new form: add it to ROUTES"


def test_every_route_that_takes_a_post_has_a_way_in(app: Flask) -> None:
    posted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and not rule.rule.startswith("/api/")
    }

    assert posted - {name.split()[0] for name in ROUTES} == set(), "add it to ROUTES"


# --- the fields --------------------------------------------------------------------------------


def fields_of(form: forms.Form) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FormField):
            yield from fields_of(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries or [field.append_entry()]:
                yield from fields_of(entry.form) if isinstance(entry, FormField) else [entry]
        elif field.name != "csrf_token":
            yield field


#: What a field takes, and so what it must refuse: a choice or an id refuses anything that
#: is not one; text refuses what is too long or holds a NUL; a checkbox is only there or
#: not (any value ticks it), so only a body too big to read is refused there.
CHOICE, TEXT, TICK = "choice", "text", "tick"


def kind_of(field: Field) -> str | None:
    if isinstance(field, SubmitField):
        return None  # which button was pressed: its value is never read
    if isinstance(field, BooleanField):
        return TICK
    if getattr(field, "coerce", None) is forms.id_number or getattr(
        field, "validate_choice", False
    ):
        return CHOICE
    if isinstance(field, HiddenField) and field.short_name in ("koppeling", "item"):
        return CHOICE
    return TEXT


def field_kinds(app: Flask, route: Route, stage: Stage) -> dict[str, str]:
    """The route's fields by name (with the form's prefix), each with its kind."""
    kinds: dict[str, str | None] = {}
    if route.form is not None:
        prefix = route.prefix(stage) if callable(route.prefix) else route.prefix
        with app.test_request_context():
            form = route.form(formdata=None, prefix=prefix, meta={"csrf": False})
            kinds |= {field.name: kind_of(field) for field in fields_of(form)}
    for name in route.valid(stage):  # fields read without a form, from the request itself
        kinds.setdefault(name, CHOICE if name == "administratie" else TEXT)
    return {name: kind for name, kind in kinds.items() if kind is not None}


def must_refuse(bad: Bad, kind: str | None, route: Route) -> bool:
    """Whether ``bad`` in a field of ``kind`` (None: a field the form does not have) must
    be refused: a body too big to read always; else by what the field takes."""
    if bad.name == "1 MB":
        return route.method == "POST"
    if kind in (TEXT, CHOICE) and bad.refused:
        return True
    return kind == CHOICE and bad.refused_by_numbers


# --- the requests ------------------------------------------------------------------------------


def send(
    client: FlaskClient, route: Route, path: str, data: MultiDict[str, Any], raw: bytes | None
) -> TestResponse:
    """The request as a browser sends it: a GET with a query, or a POST of the form with
    its CSRF token; ``raw`` goes at the end as it is."""
    if route.method == "POST":
        data = MultiDict([("csrf_token", csrf_token(client)), *data.items(multi=True)])
    encoded = "&".join(f"{quote(k)}={quote(str(v))}" for k, v in data.items(multi=True))
    if raw is not None:
        encoded += ("&" if encoded else "") + raw.decode()
    if route.method == "GET":
        return client.get(f"{path}?{encoded}")
    return client.post(path, data=encoded, content_type="application/x-www-form-urlencoded")


def spoiled(
    valid: dict[str, str], field: str, bad: Bad
) -> tuple[MultiDict[str, Any], bytes | None]:
    data: MultiDict[str, Any] = MultiDict(valid)
    data.pop(field, None)
    if bad.raw is not None:
        return data, f"{quote(field)}=".encode() + bad.raw
    for value in bad.value if isinstance(bad.value, list) else [bad.value]:
        data.add(field, value)
    return data, None


def shown_refusal(client: FlaskClient, response: TestResponse) -> str:
    """The page that says what was refused: this one, or where a redirect leads."""
    if response.status_code in (301, 302, 303):
        return client.get(response.location).text
    return response.text


def make_stage(deps: Dependencies, scene: Scene) -> Stage:
    receipt = scene.offer("1002")
    redeemed = scene.redeem(receipt)
    token = services.create_api_token(deps, actor_id=scene.user(NOORD), name="Het CRM")
    elsewhere = services.open_session(deps, actor_id=scene.user(NOORD))
    return Stage(
        deps, scene, receipt.offer.id, redeemed.items[0].id, token.token.id, elsewhere.session.id
    )


@pytest.fixture
def stage(deps: Dependencies, scene: Scene) -> Stage:
    return make_stage(deps, scene)


@pytest.fixture
def served(app: Flask) -> Flask:
    """The app as it is served: CSRF on, and a bug answered with 500 instead of raised."""
    app.config.update(WTF_CSRF_ENABLED=True, PROPAGATE_EXCEPTIONS=False)
    return app


@attrs.define
class Checker:
    """Sends hostile requests for one route and says what went wrong with each; keeps the
    database as it was before the request, to see what a refused one stored."""

    client: FlaskClient
    route: Route
    path: str
    database_dump: Dump
    before: dict[str, list[tuple[Any, ...]]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.before = self.database_dump()

    def check(
        self, data: MultiDict[str, Any], raw: bytes | None, *, must_refuse: bool
    ) -> list[str]:
        response = send(self.client, self.route, self.path, data, raw)
        after = self.database_dump()
        before, self.before = self.before, after
        if response.status_code >= 500:
            return ["a server error"]
        problems = []
        if HTML in response.text or HTML_ATTRIBUTE in response.text:
            problems.append("the HTML came back unescaped")
        if not must_refuse:
            return problems
        changed = [
            t for t in after if after[t] != before[t] and t not in self.route.records_refusals
        ]
        if changed:
            problems.append(f"stored in {changed}")
        page = shown_refusal(self.client, response)
        if response.status_code < 400 and not self.route.quiet and not REFUSAL.search(page):
            problems.append(f"no refusal shown ({response.status_code})")
        if english := ENGLISH.search(page):
            problems.append(f"an English message on a Dutch page: {english.group()}")
        return problems


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_hostile_input_in_every_field_is_refused_in_dutch_and_never_breaks_the_portal(
    endpoint: str,
    served: Flask,
    stage: Stage,
    signed_in: Callable[[str], FlaskClient],
    database_dump: Dump,
) -> None:
    route = ROUTES[endpoint]
    client = served.test_client() if route.user is None else signed_in(route.user)
    path = route.path(stage)
    valid = route.valid(stage)
    problems: list[str] = []

    checker = Checker(client, route, path, database_dump)
    # Each field spoiled in turn; then a field the form does not have, which is ignored
    # unless it makes the request too big to read.
    for field, kind in [*field_kinds(served, route, stage).items(), ("onbekend", None)]:
        for bad in BAD_INPUT:
            data, raw = spoiled(valid, field, bad)
            found = checker.check(data, raw, must_refuse=must_refuse(bad, kind, route))
            problems += [f"{route.method} {path} {field}={bad.name}: {p}" for p in found]
    # What was stored is shown escaped wherever it is shown.
    for page in get_paths(served):
        answer = client.get(page)
        if not answer.mimetype.startswith(("text/", "application/json")):
            continue  # a PDF or a download: never rendered as a page
        shown = answer.text
        if HTML in shown or HTML_ATTRIBUTE in shown:
            problems.append(f"GET {page}: HTML stored by {endpoint} shown unescaped")

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("number", [str(2**31), "9" * 30, "-1", "0x10", "1e3"])
def test_an_id_in_a_path_that_can_name_nothing_is_not_found(
    served: Flask, noord: FlaskClient, number: str
) -> None:
    """Every route with an id in its path, for every method it takes: 404, as for an id of
    nothing (a number beyond what the database holds no longer reaches it)."""
    rules = [rule for rule in served.url_map.iter_rules() if rule.arguments - {"filename"}]
    token = csrf_token(noord)

    for rule in rules:
        path = re.sub(r"<int:\w+>", number, rule.rule)
        path = re.sub(r"<(?:path:)?\w+>", number, path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = noord.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path, response.status_code)


def upload(client: FlaskClient, path: str, filename: str) -> TestResponse:
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "bestand": (io.BytesIO(b"%PDF-1.4 factuur"), filename),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("filename", "code"),
    [
        ("F" * 10_000 + ".pdf", "filename_too_long"),
        ("factuur\x00.pdf", "filename_invisible_characters"),
        ("factuur\x1b[31m.pdf", "filename_invisible_characters"),
    ],
    ids=["10,000 characters", "a NUL byte", "an escape"],
)
def test_an_upload_with_a_hostile_file_name_is_refused_at_the_field(
    served: Flask,
    noord: FlaskClient,
    stage: Stage,
    database_dump: Dump,
    filename: str,
    code: str,
) -> None:
    path = f"/administraties/{stage.id('administration')}/archief"
    before = database_dump()

    response = upload(noord, path, filename)

    assert response.status_code == 200
    assert codes(response.text) == {code: "bestand-error"}
    assert database_dump() == before


def test_an_upload_named_in_html_is_stored_and_shown_escaped(
    served: Flask, noord: FlaskClient, stage: Stage
) -> None:
    path = f"/administraties/{stage.id('administration')}/archief"

    response = upload(noord, path, f"{HTML}.pdf")
    listing = noord.get(path).text

    assert response.status_code == 302
    assert HTML not in listing
    assert "&lt;script&gt;alert(&#39;mk&#39;)&lt;/script&gt;.pdf" in listing


#: What PostgreSQL itself refuses (a NUL in text, half a surrogate pair, a number beyond a
#: column) or what is longer than a column: SQLite takes all of it, so the portal must
#: stop it before it reaches a query.
FOR_POSTGRES = [bad for bad in BAD_INPUT if bad.name in ("10,000 characters", "a NUL byte", "huge")]
API_TEXT = [
    ("GET", "/api/v1/offers/outgoing?search=a%00b", None),
    ("GET", "/api/v1/offers/incoming?search=a%00b", None),
    ("GET", "/api/v1/audit?search=a%00b", None),
    ("GET", f"/api/v1/administrations/{2**31}/documents", None),
    ("POST", "/api/v1/offers/{offer}/reject", {"reason": "een\u0000reden"}),
    ("POST", "/api/v1/offers/{offer}/reject", {"reason": "half \ud800 een paar"}),
    ("POST", "/api/v1/redemptions", {"code": "\u0000", "accept_terms": True, "accept_costs": True}),
]


@pytest.mark.postgres
def test_hostile_text_and_ids_never_break_the_portal_or_the_api_on_postgresql(
    tmp_path: Path, throwaway_postgres: str
) -> None:
    """The demo seeded into PostgreSQL; every field of ``ROUTES`` given what PostgreSQL
    refuses, and the API's texts too: refused, never a 5xx."""
    home = tmp_path / "home"
    home.mkdir()
    app = make_app(
        home,
        MIGRATIONKIT_ENVIRON=environ(home) | {"MIGRATIONKIT_DATABASE_URL": throwaway_postgres},
        WTF_CSRF_ENABLED=True,
        PROPAGATE_EXCEPTIONS=False,
    )
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    try:
        stage = make_stage(runtime.deps, Scene(runtime.deps))
        problems: list[str] = []
        for route in ROUTES.values():
            client = (
                app.test_client()
                if route.user is None
                else signed_in_client(app, stage.scene.user(route.user))
            )
            path = route.path(stage)
            for field in [*field_kinds(app, route, stage), "onbekend"]:
                for bad in FOR_POSTGRES:
                    data, raw = spoiled(route.valid(stage), field, bad)
                    status = send(client, route, path, data, raw).status_code
                    if status >= 500:
                        problems.append(f"{route.method} {path} {field}={bad.name}: {status}")
        token = services.create_api_token(
            runtime.deps, actor_id=stage.scene.user(ZUID), name="Proef"
        ).secret
        api = app.test_client()
        for method, path, body in API_TEXT:
            response = api.open(
                path.format(offer=stage.offer_id),
                method=method,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code >= 500:
                problems.append(f"{method} {path}: {response.status_code}")
    finally:
        runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]

    assert not problems, "\n".join(problems)
