"""An offer of many administrations through the portal, each request counted: its SQL
statements (SQLAlchemy's ``before_cursor_execute``) and its calls to the accounting
package, the in-memory one's by its own count, Exact Online's by the HTTP requests a faked
API (``responses``) received. ``tests/portal/test_scale.py`` asserts bounds on the counts;
``benchmarks/calls.py`` prints them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import responses
from flask import Flask
from portal_support import RUNTIME_KEY, Scene, environ, form_fields, make_app, signed_in_client
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from migrationkit import services
from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import Wiring
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.connectors.registry import PackageConnectorRegistry
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.bootstrap import Runtime
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens
from migrationkit.services import RedeemedOffer

EXACT = AccountingPackage.EXACT_ONLINE_NL
EXACT_API = "https://start.exactonline.nl/api/v1"
#: Exact's own page size for a listing of divisions.
EXACT_PAGE = 60
#: The division Exact names current (any one: the listing is of the whole account).
CURRENT_DIVISION = 1
#: The requests counted, in the order of the flow.
REQUESTS = ("offerable", "summary", "offer post", "targets page", "start post")


@attrs.frozen
class Count:
    statements: int
    package_calls: int


class ExactApi:
    """Exact Online's divisions of one account, answered as its REST API does: ``Me``,
    then the divisions a page of ``EXACT_PAGE`` at a time, or one by ``$filter``."""

    def __init__(self, divisions: list[PackageAdministration], *, busy_for: int = 0) -> None:
        self.divisions = divisions
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        if busy_for:  # Exact's minutely limit reached: it says so to every call
            self.mock.get(
                re.compile(re.escape(EXACT_API) + ".*"),
                status=429,
                headers={"Retry-After": str(busy_for)},
            )
            return
        self.mock.get(
            f"{EXACT_API}/current/Me",
            json={"d": {"results": [{"CurrentDivision": CURRENT_DIVISION}]}},
        )
        self.mock.add_callback(
            responses.GET,
            re.compile(re.escape(f"{EXACT_API}/{CURRENT_DIVISION}/system/Divisions") + ".*"),
            callback=self._divisions,
        )

    def _divisions(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        rows = [
            {"Code": int(pa.package_admin_id), "Hid": int(pa.code), "Description": pa.name}
            for pa in self.divisions
        ]
        if "$filter" in query:
            wanted = int(query["$filter"][0].removeprefix("Code eq "))
            rows = [row for row in rows if row["Code"] == wanted]
        skip = int(query.get("$skip", ["0"])[0])
        body: dict[str, Any] = {"results": rows[skip : skip + EXACT_PAGE]}
        if skip + EXACT_PAGE < len(rows):
            body["__next"] = (
                f"{EXACT_API}/{CURRENT_DIVISION}/system/Divisions?$skip={skip + EXACT_PAGE}"
            )
        return 200, {}, json.dumps({"d": body})

    @property
    def calls(self) -> int:
        return len(self.mock.calls)


@attrs.define
class Flow:
    """A demo portal whose Noord offers ``size`` administrations of its Exact Online
    connection to Zuid, whose Exact Online account holds a division for each."""

    app: Flask
    runtime: Runtime
    size: int
    package_calls: Callable[[], int]
    counts: dict[str, Count] = attrs.field(factory=dict)

    @property
    def scene(self) -> Scene:
        return Scene(self.runtime.deps)

    @contextmanager
    def counted(self, name: str) -> Iterator[None]:
        statements = 0

        def count(*_args: object) -> None:
            nonlocal statements
            statements += 1

        calls = self.package_calls()
        event.listen(self.runtime.database, "before_cursor_execute", count)
        try:
            yield
        finally:
            event.remove(self.runtime.database, "before_cursor_execute", count)
        self.counts[name] = Count(statements, self.package_calls() - calls)

    def offered(self) -> list[int]:
        """The ids of Noord's administrations to offer."""
        source = self.scene.connection("Noord")
        with self.runtime.deps.uow() as uow:
            offered = [
                a.id
                for a in uow.administrations.list_for_connection(source.id)
                if a.code.startswith("S")
            ]
        assert len(offered) == self.size
        return offered

    def redeemed(self) -> RedeemedOffer:
        """Noord's administrations offered to Zuid, Zuid's code entered: through the library."""
        scene = self.scene
        receipt = services.offer_administrations(
            self.runtime.deps,
            actor_id=scene.user("noord@example.nl"),
            connection_id=scene.connection("Noord").id,
            administration_ids=self.offered(),
            recipients=["zuid@example.nl"],
            accepted_terms=True,
        )
        return scene.redeem(receipt)

    def run(self) -> dict[str, Count]:
        """Every request of ``REQUESTS``, each counted; the start must succeed."""
        scene = self.scene
        noord = signed_in_client(self.app, scene.user("noord@example.nl"))
        zuid = signed_in_client(self.app, scene.user("zuid@example.nl"))
        source = scene.connection("Noord")
        offered = self.offered()
        with self.counted("offerable"):
            page = noord.get(f"/migraties/uitgaand/administraties?koppeling={source.id}")
        assert page.status_code == 200
        query = {"koppeling": source.id, "administratie": offered}
        with self.counted("summary"):
            page = noord.get("/migraties/uitgaand/samenvatting", query_string=query)
        assert page.status_code == 200
        with self.counted("offer post"):
            page = noord.post(
                "/migraties/uitgaand/samenvatting",
                data={**query, "ontvangers": "zuid@example.nl", "voorwaarden": "y"},
            )
        found = re.search(r'id="overdrachtscode">([^<]+)<', page.get_data(as_text=True))
        assert found, page.get_data(as_text=True)
        redeemed = services.redeem_code(
            self.runtime.deps,
            actor_id=scene.user("zuid@example.nl"),
            code=found.group(1),
            accepted_terms=True,
            accepted_costs=True,
        )
        address = targets_address(redeemed)
        with self.counted("targets page"):
            page = zuid.get(address)
        shown = page.get_data(as_text=True)
        assert page.status_code == 200
        assert shown.count('-code"') >= self.size, shown  # a row of each, with its proposal
        with self.counted("start post"):
            page = zuid.post(address, data=started(shown))
        assert page.status_code == 302, page.get_data(as_text=True)
        return self.counts


def targets_address(redeemed: RedeemedOffer) -> str:
    """The targets page of every item of ``redeemed``, as the selection leads there."""
    items = "&".join(f"item={item.id}" for item in redeemed.items)
    return f"/migraties/inkomend/{redeemed.offer.id}/koppelen?{items}"


def started(page: str) -> MultiDict[str, str]:
    """The targets page's form as shown (each item on its proposal), with Start migratie."""
    return MultiDict([*form_fields(page, "doelen-formulier"), ("start", "Start migratie")])


def division(number: int) -> PackageAdministration:
    """Zuid's counterpart of Noord's administration ``S<number>``: code ``T<number>``
    in the in-memory package; Exact's codes are numbers, so there ``number`` itself."""
    return PackageAdministration(str(10_000 + number), f"{number}", f"Klant {number:04d}")


def _seed(runtime: Runtime, size: int) -> tuple[Connection, list[PackageAdministration]]:
    """Noord's ``size`` administrations ``S1``... of its Exact Online connection, and their
    counterparts in Zuid's account; Zuid's connection."""
    scene = Scene(runtime.deps)
    source = scene.connection("Noord")
    target = scene.connection("Zuid")
    with runtime.deps.uow() as uow:
        for number in range(1, size + 1):
            uow.administrations.add(
                source.environment_id,
                source.id,
                f"S{number}",
                f"Klant {number:04d}",
                f"klant{number}@inbox.example.nl",
                f"noord-s{number}",
            )
        uow.commit()
    return target, [division(number) for number in range(1, size + 1)]


@contextmanager
def flow(
    home: Path,
    size: int,
    *,
    database_url: str | None = None,
    exact: bool,
    busy_for: int = 0,
) -> Iterator[Flow]:
    """The demo portal with ``size`` administrations to offer; Zuid's Exact Online account
    in memory, or behind Exact's faked web API (``exact``), which answers every call with a
    429 asking to wait ``busy_for`` seconds when it is given. No call waits."""
    # Warnings only: the start's log line per migration would bury what is counted.
    extra = {"MIGRATIONKIT_LOG_LEVEL": "WARNING"}
    if database_url is not None:
        extra["MIGRATIONKIT_DATABASE_URL"] = database_url
    app = make_app(home, MIGRATIONKIT_ENVIRON=environ(home) | extra)
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    memory = runtime.deps.connectors
    assert isinstance(memory, InMemoryConnectorRegistry)
    target, divisions = _seed(runtime, size)
    if not exact:
        package = memory.connector(EXACT)
        for pa in divisions:
            package.add_package_administration(
                target.id, PackageAdministration(pa.package_admin_id, f"T{pa.code}", pa.name)
            )
        yield Flow(app, runtime, size, lambda: sum(package.calls.values()))
        return
    api = ExactApi(divisions, busy_for=busy_for)
    tokens = InMemoryTokenStore()
    tokens.save(
        target.id,
        OAuthTokens("exact-access", "exact-refresh", datetime.now(UTC) + timedelta(days=1)),
    )
    waits: list[float] = []
    exact_online = ExactOnlineConnector(
        PackageCredentials("app", "secret"), Wiring(tokens=tokens, sleep=waits.append)
    )
    others = [memory.connector(p) for p in AccountingPackage if p is not EXACT]
    registry = PackageConnectorRegistry([*others, exact_online])
    runtime = attrs.evolve(runtime, deps=attrs.evolve(runtime.deps, connectors=registry))
    app.extensions[RUNTIME_KEY] = runtime
    with api.mock:
        yield Flow(app, runtime, size, lambda: api.calls)
    assert waits == []
