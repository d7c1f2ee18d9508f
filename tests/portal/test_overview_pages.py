"""The Migratie overzicht a page at a time: Volgende and Vorige under each list, each list's
place in the address, the searches kept, and a place that is not one of ours refused."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from portal_support import Scene

from migrationkit.domain.errors import MESSAGES

ROW = re.compile(r">9\d{3} Winkel (\d+)</th>")
LINK = re.compile(r'<a class="btn btn-outline-primary" rel="(next|prev)" href="([^"]+)">')


def offer_many(scene: Scene, count: int) -> None:
    """``count`` more administrations of Noord, offered in one request (one offer, so one
    moment: the item's id orders them)."""
    exact = scene.connection("Noord")
    with scene.deps.uow() as uow:
        for n in range(count):
            uow.administrations.add(
                exact.environment_id, exact.id, f"9{n:03d}", f"Winkel {n}", f"w{n}@in.nl", f"w{n}"
            )
        uow.commit()
    scene.offer(*(f"9{n:03d}" for n in range(count)))


def shops(page: str) -> list[int]:
    """The numbers of the Winkels in the rows, top to bottom."""
    return [int(n) for n in ROW.findall(page)]


def links(page: str) -> dict[str, str]:
    return {rel: html.unescape(address) for rel, address in LINK.findall(page)}


def test_the_offered_list_pages_with_volgende_and_vorige_keeping_the_searches(
    noord: FlaskClient, scene: Scene
) -> None:
    offer_many(scene, 52)

    first = noord.get("/migraties?aangeboden=winkel&ontvangen=niets").text
    assert shops(first) == list(range(51, 1, -1))
    assert set(links(first)) == {"next"}
    assert "aangeboden=winkel" in links(first)["next"]
    assert "ontvangen=niets" in links(first)["next"]

    second = noord.get(links(first)["next"]).text
    assert shops(second) == [1, 0]
    assert set(links(second)) == {"prev"}

    back = noord.get(links(second)["prev"]).text
    assert shops(back) == shops(first)


def test_a_link_to_another_page_is_built_from_this_pages_path_alone(
    noord: FlaskClient, scene: Scene
) -> None:
    offer_many(scene, 51)

    page = noord.get("/migraties?_scheme=javascript&_external=1").text

    assert links(page)["next"].startswith("/migraties?")


def test_a_place_that_is_not_ours_says_so_at_the_list(noord: FlaskClient) -> None:
    answer = noord.get("/migraties?aangeboden_vanaf=niet-van-ons")

    assert answer.status_code == 200
    assert html.escape(MESSAGES["cursor_invalid"][0], quote=False) in answer.text
