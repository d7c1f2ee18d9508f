"""Controle vooraf (the dry run) in the portal: the offer's checks on the summary and as a
page to print, and the start's checks from the targets page, each verdict in words in Dutch
and English, with nothing changed."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from api_support import Api
from flask.testing import FlaskClient
from portal_support import Scene, codes, refusals, start_form
from werkzeug.datastructures import MultiDict

from migrationkit import services
from migrationkit.domain.errors import RuleViolation
from migrationkit.domain.model import AccountingPackage, OfferItem
from migrationkit.services import preflight

Dump = Callable[[], object]


def in_english(client: FlaskClient) -> FlaskClient:
    with client.session_transaction() as session:
        session["language"] = "en"
    return client


def offer_report_url(scene: Scene, *codes: str) -> str:
    ids = "".join(f"&administratie={scene.administration(code).id}" for code in codes)
    connection = scene.connection("Noord").id
    return f"/migraties/uitgaand/koppelingen/{connection}/controle?{ids[1:]}"


def targets(
    client: FlaskClient, offer_id: int, items: Any, connection_id: int | None = None, **codes: str
) -> MultiDict[str, str]:
    """The targets page's form for ``items``, with the codes typed for some (by the item's
    code) and, when given, another connection than the one chosen."""
    typed = {item.id: codes[item.code] for item in items if item.code in codes}
    fields = start_form(client, offer_id, [item.id for item in items], typed)
    if connection_id is not None:
        fields["koppeling"] = str(connection_id)
    return fields


def redeemed(scene: Scene, *codes: str) -> tuple[int, tuple[OfferItem, ...]]:
    receipt = scene.offer(*codes)
    return receipt.offer.id, scene.redeem(receipt).items


def check(client: FlaskClient, offer_id: int, data: dict[str, str]) -> Any:
    return client.post(f"/migraties/inkomend/{offer_id}/controle", data=data)


# --- the offer -------------------------------------------------------------------------------


def test_the_summary_shows_every_verdict_in_words(noord: FlaskClient, scene: Scene) -> None:
    connection = scene.connection("Noord").id
    ids = [scene.administration(code).id for code in ("1001", "1003")]

    page = noord.get(
        f"/migraties/uitgaand/samenvatting?koppeling={connection}"
        f"&administratie={ids[0]}&administratie={ids[1]}"
    ).text

    assert 'class="verdict verdict-passed">In orde</span>' in page
    assert 'class="verdict verdict-later">Later gecontroleerd</span>' in page
    assert 'class="verdict verdict-refused">Geweigerd</span>' in page
    assert "Wordt gecontroleerd bij de start in de nieuwe omgeving." in page
    assert codes(page) == {"authorizers_in_flow": "check"}
    assert (
        f'href="/migraties/uitgaand/koppelingen/{connection}/controle'
        f'?administratie={ids[0]}&amp;administratie={ids[1]}"'
    ) in page


def test_the_printable_offer_report_lists_r1_to_r10_and_changes_nothing(
    noord: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    before = database_dump()

    response = noord.get(offer_report_url(scene, "1001", "1003"))

    assert response.status_code == 200
    page = response.text
    assert database_dump() == before
    assert "<h1>Controle vooraf</h1>" in page
    assert "<caption>1001 Bakkerij De Korenschoof" in page
    assert "<caption>1003 Hoveniersbedrijf Groen" in page
    for rule in [f"R{n}" for n in range(1, 11)]:
        assert f'<td data-label="Regel">{rule}</td>' in page
    assert '<td data-label="Regel">Checklist</td>' in page
    assert page.count('class="verdict verdict-refused">Geweigerd</span>') == 1
    assert "Niet alles is in orde." in page
    assert "Geldig tot " in page
    assert "Deze controle verstuurt niets en wijzigt niets." in page


def test_the_printable_offer_report_in_english(noord: FlaskClient, scene: Scene) -> None:
    page = in_english(noord).get(offer_report_url(scene, "1001")).text

    assert "<h1>Pre-flight check</h1>" in page
    assert 'class="verdict verdict-passed">Passed</span>' in page
    assert 'class="verdict verdict-later">Checked later</span>' in page
    assert "No authorizers in an authorization flow" in page
    assert "Checked at the start in the new environment." in page
    assert "No objection found." in page
    assert '<th scope="col">Verdict</th>' in page


def test_an_offer_refused_in_the_report_says_why_in_english(
    noord: FlaskClient, scene: Scene
) -> None:
    page = in_english(noord).get(offer_report_url(scene, "1003")).text

    assert 'class="verdict verdict-refused">Refused</span>' in page
    assert "Administration 1003 Hoveniersbedrijf Groen has authorizers" in page


def test_the_offer_report_is_for_super_users_of_its_own_environment(
    zuid: FlaskClient, medewerker: FlaskClient, scene: Scene
) -> None:
    url = offer_report_url(scene, "1001")

    assert zuid.get(url).status_code == 404
    assert medewerker.get(url).status_code == 403


# --- the start -------------------------------------------------------------------------------


def test_the_targets_page_has_controleer_next_to_start_migratie(
    zuid: FlaskClient, scene: Scene
) -> None:
    offer_id, items = redeemed(scene, "1001")

    page = zuid.get(f"/migraties/inkomend/{offer_id}/koppelen?item={items[0].id}").text

    assert (
        f'<button type="submit" class="btn btn-outline-secondary" '
        f'formaction="/migraties/inkomend/{offer_id}/controle">Controleer</button>'
    ) in page
    assert 'value="Start migratie"' in page


def test_controleer_shows_the_checks_of_the_chosen_targets_and_starts_nothing(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    offer_id, items = redeemed(scene, "1001", "1002")
    data = targets(zuid, offer_id, items, **{"1002": "7002"})
    before = database_dump()

    response = check(zuid, offer_id, data)

    assert response.status_code == 200
    assert database_dump() == before
    page = response.text
    assert "<h2>Controle vooraf</h2>" in page
    assert "Geen bezwaar gevonden." in page
    assert "Er is nog niets gestart en niets gewijzigd." in page
    assert "<caption>1001 Bakkerij De Korenschoof" in page
    assert "administratie 7002 Fietsenmakerij Van Dijk" in page
    assert page.count('class="verdict verdict-passed">In orde</span>') == 20
    assert "Geweigerd</span>" not in page
    # The choices go with the form: back to the choice, or start as checked.
    assert f'action="/migraties/inkomend/{offer_id}/koppelen"' in page
    assert 'name="doelen-1-code" value="7002"' in page
    assert 'value="Start migratie"' in page

    started = zuid.post(f"/migraties/inkomend/{offer_id}/koppelen", data=data | {"start": "S"})
    assert started.location == f"/migraties/inkomend/{offer_id}"


def test_controleer_refuses_a_target_not_chosen_and_offers_no_start(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    offer_id, items = redeemed(scene, "1001")
    before = database_dump()

    page = check(zuid, offer_id, targets(zuid, offer_id, items, 0)).text

    assert database_dump() == before
    assert "Niet alles is in orde." in page
    assert 'class="verdict verdict-refused">Geweigerd</span>' in page
    assert codes(page) == {"target_not_chosen": "check"}
    assert "Nog geen boekhoudsysteemkoppeling gekozen" in page
    assert "Later gecontroleerd</span>" in page
    assert 'value="Start migratie"' not in page
    assert "Terug naar de keuze" in page


def test_controleer_names_each_refusal_in_english(zuid: FlaskClient, scene: Scene) -> None:
    offer_id, items = redeemed(scene, "1001")
    twinfield = scene.connection("Zuid", AccountingPackage.TWINFIELD)

    page = check(in_english(zuid), offer_id, targets(zuid, offer_id, items, twinfield.id)).text

    assert "<h2>Pre-flight check</h2>" in page
    assert 'class="verdict verdict-refused">Refused</span>' in page
    mismatch = RuleViolation(
        "package_mismatch", source_package="Exact Online (NL)", target_package="Twinfield"
    )
    assert {(shown.code, shown.words) for shown in refusals(page)} == {
        (mismatch.code, mismatch.message("en"))
    }
    assert 'class="verdict verdict-later">Checked later</span>' in page
    assert "Not everything is in order." in page


def test_controleer_after_a_withdrawal_says_so(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    offer_id, items = redeemed(scene, "1001")
    data = targets(zuid, offer_id, items)
    services.withdraw_item(scene.deps, actor_id=scene.user("noord@example.nl"), item_id=items[0].id)
    before = database_dump()

    page = check(zuid, offer_id, data).text

    assert database_dump() == before
    assert codes(page)["item_withdrawn"] == "check"


def test_controleer_on_another_environments_offer_is_not_found(
    noord: FlaskClient, signed_in: Callable[[str], FlaskClient], scene: Scene, database_dump: Dump
) -> None:
    offer_id, items = redeemed(scene, "1001")
    data = targets(signed_in("zuid@example.nl"), offer_id, items)
    before = database_dump()

    assert check(noord, offer_id, data).status_code == 404
    assert check(signed_in("oost@example.nl"), offer_id, data).status_code == 404
    assert check(noord, 9999, data).status_code == 404
    assert database_dump() == before


def test_controleer_needs_the_csrf_token(
    app: Any, signed_in: Callable[[str], FlaskClient], scene: Scene
) -> None:
    offer_id, items = redeemed(scene, "1001")
    app.config["WTF_CSRF_ENABLED"] = True
    client = signed_in("zuid@example.nl")

    data = targets(client, offer_id, items)
    data.pop("csrf_token")

    response = check(client, offer_id, data)

    assert response.status_code == 400
    assert "Het formulier is verlopen of ongeldig" in response.text


# --- one dry run per click -------------------------------------------------------------------


@pytest.fixture
def reports_made(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the offer's and the start's report are made, wherever they are called from."""
    made: Counter[str] = Counter()
    for name in ("offer_report", "start_report"):
        original = getattr(preflight, name)

        def counted(*args: Any, _name: str = name, _made: Any = original, **kwargs: Any) -> Any:
            made[_name] += 1
            return _made(*args, **kwargs)

        for module in list(sys.modules.values()):
            bound = getattr(module, name, None) is original
            if bound and module.__name__.startswith("migrationkit."):
                monkeypatch.setattr(module, name, counted)
    return made


def submitted(noord: FlaskClient, scene: Scene, *codes: str, **fields: str) -> Any:
    data: dict[str, Any] = {
        "koppeling": scene.connection("Noord").id,
        "administratie": [scene.administration(code).id for code in codes],
        "ontvangers": "noord@example.nl, zuid@example.nl",
        "voorwaarden": "y",
        **fields,
    }
    return noord.post("/migraties/uitgaand/samenvatting", data=data)


def test_the_portal_makes_the_offers_report_once_per_submit(
    noord: FlaskClient, scene: Scene, reports_made: Counter[str]
) -> None:
    sent = submitted(noord, scene, "1001")
    assert sent.status_code == 200
    assert reports_made == {"offer_report": 1}

    # Refused by its report (R10): the page shows the refusal and the report it came with.
    reports_made.clear()
    page = submitted(noord, scene, "1003").text
    assert reports_made == {"offer_report": 1}
    assert 'class="verdict verdict-refused">Geweigerd</span>' in page
    assert page.count('class="verdict verdict-passed">In orde</span>') > 0

    # Refused before its report (the terms): the page still shows the report, made once.
    reports_made.clear()
    page = submitted(noord, scene, "1002", voorwaarden="").text
    assert reports_made == {"offer_report": 1}
    assert 'class="verdict verdict-passed">In orde</span>' in page


def test_the_portal_makes_the_starts_report_once_per_submit(
    zuid: FlaskClient, scene: Scene, reports_made: Counter[str]
) -> None:
    offer_id, items = redeemed(scene, "1001", "1002")
    zuid_id = scene.connection("Zuid").id
    url = f"/migraties/inkomend/{offer_id}/koppelen"

    # Both on the same package administration: refused by the start's report (R8/R9).
    same = targets(zuid, offer_id, items, zuid_id, **{"1002": "1001"})
    reports_made.clear()
    refused = zuid.post(url, data=same | {"start": "S"})
    assert refused.status_code == 200
    assert reports_made == {"start_report": 1}

    chosen = targets(zuid, offer_id, items, zuid_id)
    reports_made.clear()
    started = zuid.post(url, data=chosen | {"start": "S"})
    assert started.location == f"/migraties/inkomend/{offer_id}"
    assert reports_made == {"start_report": 1}


def test_the_api_makes_each_report_once_per_call(
    api_as: Callable[[str], Api], scene: Scene, reports_made: Counter[str]
) -> None:
    noord, zuid = api_as("noord@example.nl"), api_as("zuid@example.nl")
    offer = {
        "connection_id": scene.connection("Noord").id,
        "administration_ids": [scene.administration("1001").id],
        "recipients": ["zuid@example.nl"],
        "accept_terms": True,
    }
    refused = {**offer, "administration_ids": [scene.administration("1003").id]}

    assert noord.post("offers", json=refused).get_json()["code"] == "authorizers_in_flow"
    assert reports_made == {"offer_report": 1}
    reports_made.clear()
    code = noord.post("offers", json=offer).get_json()["code"]
    assert reports_made == {"offer_report": 1}

    redeemed = zuid.post(
        "redemptions", json={"code": code, "accept_terms": True, "accept_costs": True}
    ).get_json()
    (item,) = redeemed["items"]
    start = f"offers/{redeemed['offer']['id']}/start"
    target = {"item_id": item["id"], "connection_id": scene.connection("Zuid").id}
    reports_made.clear()
    unknown = zuid.post(start, json={"targets": [{**target, "package_admin_id": "zuid-9999"}]})
    assert unknown.status_code >= 400
    assert reports_made == {"start_report": 1}
    reports_made.clear()
    started = zuid.post(start, json={"targets": [{**target, "package_admin_id": "zuid-1001"}]})
    assert started.status_code == 201
    assert reports_made == {"start_report": 1}
