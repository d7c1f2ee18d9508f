"""The office takeover under the test client: Kantoor Praktijk's 300 administrations in one
offer; the pages select all in one action, the targets page asks the package once for all
of them, and one post of 300 targets fits the form bound with room to spare."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal.security import FORM_MAX_BYTES
from portal_fixtures import close_app
from portal_support import RUNTIME_KEY, Scene, environ, make_app, signed_in_client, start_form

from migrationkit import services
from migrationkit.adapters.connectors.memory import InMemoryConnector
from migrationkit.domain.model import ItemStatus

PRACTICE = 300
PRAKTIJK, ZUID = "praktijk@example.nl", "zuid@example.nl"


@pytest.fixture(scope="module")
def practice_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with Kantoor Praktijk, seeded once for the module."""
    home = tmp_path_factory.mktemp("takeover") / "seeded"
    close_app(make_app(home, MIGRATIONKIT_ENVIRON=environ_of(home)))
    return home


def environ_of(home: Path) -> dict[str, str]:
    return environ(home) | {"MIGRATIONKIT_DEMO_PRACTICE": str(PRACTICE)}


@pytest.fixture
def app(practice_home: Path, tmp_path: Path) -> Iterator[Flask]:
    home = tmp_path / "home"
    shutil.copytree(practice_home, home)
    made = make_app(home, MIGRATIONKIT_ENVIRON=environ_of(home))
    yield made
    close_app(made)


@pytest.fixture
def scene(app: Flask) -> Scene:
    return Scene(app.extensions[RUNTIME_KEY].deps)


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connection ids the in-memory packages were asked to list, a call each."""
    asked: list[int] = []
    listed = InMemoryConnector.list_administrations

    def counted(self: InMemoryConnector, connection: Any) -> Any:
        asked.append(connection.id)
        return listed(self, connection)

    monkeypatch.setattr(InMemoryConnector, "list_administrations", counted)
    return asked


def as_user(app: Flask, scene: Scene, email: str) -> FlaskClient:
    return signed_in_client(app, scene.user(email))


def offered_to_zuid(scene: Scene) -> services.RedeemedOffer:
    seller = scene.user(PRAKTIJK)
    connection = scene.connection("Praktijk")
    administrations = services.offerable_administrations(
        scene.deps, actor_id=seller, connection_id=connection.id
    )
    receipt = services.offer_administrations(
        scene.deps,
        actor_id=seller,
        connection_id=connection.id,
        administration_ids=[a.id for a in administrations],
        recipients=[ZUID],
        accepted_terms=True,
    )
    return scene.redeem(receipt)


def test_the_sender_selects_all_of_a_connection_in_one_action_and_narrows_by_a_filter(
    app: Flask, scene: Scene
) -> None:
    praktijk = as_user(app, scene, PRAKTIJK)
    page = f"/migraties/uitgaand/administraties?koppeling={scene.connection('Praktijk').id}"

    everything = praktijk.get(f"{page}&alle=1").text
    bakeries = praktijk.get(f"{page}&filter=bakkerij&alle=1").text

    assert everything.count('name="administratie" type="checkbox"') == PRACTICE
    assert everything.count("checked") == PRACTICE
    assert bakeries.count("checked") == PRACTICE // 20
    assert "60021 Bakkerij Jansen" in bakeries
    assert "60002 Slagerij" not in bakeries


def test_the_recipient_selects_all_in_one_action(app: Flask, scene: Scene) -> None:
    redeemed = offered_to_zuid(scene)
    zuid = as_user(app, scene, ZUID)

    page = zuid.post(f"/migraties/inkomend/{redeemed.offer.id}", data={"alle": "x"}).text

    assert page.count(" checked>") == PRACTICE
    assert re.search(r'class="count-offered">.*?<strong class="count">300</strong>', page, re.S)


def test_the_targets_page_asks_the_package_once_for_300_administrations(
    app: Flask, scene: Scene, listings: list[int]
) -> None:
    redeemed = offered_to_zuid(scene)
    zuid = as_user(app, scene, ZUID)
    query = "&".join(f"item={item.id}" for item in redeemed.items)

    page = zuid.get(f"/migraties/inkomend/{redeemed.offer.id}/koppelen?{query}").text

    assert listings == [scene.connection("Zuid").id]
    assert "286 met dezelfde code, 12 met dezelfde naam, 2 zonder voorstel." in page
    first_rows = re.findall(r'<tr class="match-(\w+)">', page)[:3]
    assert first_rows == ["none", "none", "name"]  # the unmatched first


def test_one_post_of_300_targets_fits_the_form_bound_and_starts_them_all(
    app: Flask, scene: Scene
) -> None:
    redeemed = offered_to_zuid(scene)
    zuid = as_user(app, scene, ZUID)
    by_code = {item.code: item.id for item in redeemed.items}
    typed = {by_code["60007"]: "80007", by_code["60013"]: "80013"}
    fields = start_form(zuid, redeemed.offer.id, [item.id for item in redeemed.items], typed)
    fields["start"] = "Start migratie"

    body = urlencode(list(fields.items(multi=True))).encode()
    response = zuid.post(
        f"/migraties/inkomend/{redeemed.offer.id}/koppelen",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )

    # Every item's id and a blank code but for the two typed: about 12 KiB of the 64 KiB.
    assert len(body) < FORM_MAX_BYTES // 4
    assert response.location == f"/migraties/inkomend/{redeemed.offer.id}"
    shown = services.redeemed_offer(
        scene.deps, actor_id=scene.user(ZUID), offer_id=redeemed.offer.id
    )
    assert shown.counts == ((ItemStatus.QUEUED, PRACTICE),)
    targets = {m.target.code for m in shown.migrations.values()}
    assert {"80007", "80013", "80025", "60001"} <= targets
