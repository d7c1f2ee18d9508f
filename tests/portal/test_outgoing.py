"""Moving administrations out: Migratie overzicht and acties, the checklist, the choice of
connection and administrations, the summary, the code shown once, withdraw and resend."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from portal_support import Scene, codes

from migrationkit import services
from migrationkit.domain.model import ItemStatus

CODE = re.compile(r'<p class="code" id="overdrachtscode">([0-9A-Z-]+)</p>')


def send(noord: FlaskClient, scene: Scene, *codes: str, **fields: Any) -> Any:
    data: dict[str, Any] = {
        "koppeling": scene.connection("Noord").id,
        "administratie": [scene.administration(code).id for code in codes],
        "ontvangers": "noord@example.nl, zuid@example.nl",
        "voorwaarden": "y",
    }
    data.update(fields)
    return noord.post("/migraties/uitgaand/samenvatting", data=data)


def test_the_administraties_tab_leads_to_the_migratie_overzicht(noord: FlaskClient) -> None:
    page = noord.get("/administraties").text

    assert page.index("+ Administratie(s) toevoegen") < page.index("+ Migreer administratie(s)")
    assert 'href="/migraties"' in page


def test_the_overview_has_its_three_parts(noord: FlaskClient) -> None:
    page = noord.get("/migraties").text

    for words in (
        "Start een nieuwe migratie",
        "Administraties die al ter migratie zijn aangeboden",
        "Administraties die klaar staan om gemigreerd te worden",
        '<label class="form-label" for="aangeboden">Zoeken in aangeboden administraties</label>',
        '<label class="form-label" for="ontvangen">Zoeken in ontvangen administraties</label>',
    ):
        assert words in page


def test_migratie_acties_offers_two_choices_and_volgende(noord: FlaskClient) -> None:
    page = noord.get("/migraties/acties").text

    assert "Verplaats één of meerdere administratie(s) naar een andere omgeving" in page
    assert "Haal één of meerdere administratie(s) op uit een andere omgeving" in page
    assert noord.post("/migraties/acties", data={"keuze": "uitgaand"}).location == (
        "/migraties/uitgaand/checklist"
    )
    assert noord.post("/migraties/acties", data={"keuze": "inkomend"}).location == (
        "/migraties/inkomend/checklist"
    )


def test_migratie_acties_without_a_choice_says_so(noord: FlaskClient) -> None:
    response = noord.post("/migraties/acties", data={})

    assert response.status_code == 200
    assert "Maak een keuze." in response.text


def test_the_checklist_has_its_two_points(noord: FlaskClient) -> None:
    page = noord.get("/migraties/uitgaand/checklist").text

    assert "Autorisatoren worden, net als de andere gebruikers, niet overgezet" in page
    assert "check of er geen autorisator(en) in een autorisatieflow aanwezig zijn" in page
    assert 'href="/migraties/uitgaand/administraties"' in page


def test_choosing_a_connection_lists_its_administrations(noord: FlaskClient, scene: Scene) -> None:
    connection = scene.connection("Noord").id

    page = noord.get(f"/migraties/uitgaand/administraties?koppeling={connection}").text

    for name in ("Bakkerij De Korenschoof", "Fietsenmakerij Van Dijk", "Hoveniersbedrijf Groen"):
        assert name in page
    assert "Installatiebedrijf Vos" not in page


def test_volgende_without_an_administration_stays_on_the_page(
    noord: FlaskClient, scene: Scene
) -> None:
    connection = scene.connection("Noord").id

    response = noord.get(
        f"/migraties/uitgaand/administraties?koppeling={connection}&volgende=Volgende"
    )

    assert response.status_code == 200
    assert codes(response.text) == {"no_administrations": "administratie-error"}


def test_toon_administraties_lists_them_without_an_error_before_the_user_chose(
    noord: FlaskClient, scene: Scene
) -> None:
    connection = scene.connection("Noord").id

    response = noord.get(
        f"/migraties/uitgaand/administraties?koppeling={connection}&toon=Toon+administraties"
    )

    assert response.status_code == 200
    assert "1001 Bakkerij De Korenschoof" in response.text
    assert codes(response.text) == {}
    assert 'id="administratie-error"' not in response.text


def test_volgende_with_administrations_leads_to_the_summary(
    noord: FlaskClient, scene: Scene
) -> None:
    connection = scene.connection("Noord").id
    first = scene.administration("1001").id

    response = noord.get(
        f"/migraties/uitgaand/administraties?koppeling={connection}"
        f"&administratie={first}&volgende=Volgende"
    )

    assert response.location == (
        f"/migraties/uitgaand/samenvatting?koppeling={connection}&administratie={first}"
    )


def test_the_summary_prefills_the_users_own_address_and_shows_the_checks(
    noord: FlaskClient, scene: Scene
) -> None:
    connection = scene.connection("Noord").id
    ids = [scene.administration(code).id for code in ("1001", "1003")]

    page = noord.get(
        f"/migraties/uitgaand/samenvatting?koppeling={connection}"
        f"&administratie={ids[0]}&administratie={ids[1]}"
    ).text

    assert 'value="noord@example.nl, "' in page
    assert "Ik ga akkoord met de Algemene voorwaarden" in page
    assert "Bakkerij De Korenschoof" in page
    assert codes(page) == {"authorizers_in_flow": "check"}


def test_the_summary_without_administrations_goes_back_to_the_choice(
    noord: FlaskClient, scene: Scene
) -> None:
    response = noord.get(
        f"/migraties/uitgaand/samenvatting?koppeling={scene.connection('Noord').id}"
    )

    assert response.location == "/migraties/uitgaand/administraties"


def test_sending_shows_the_code_once_and_the_overview_masks_it(
    noord: FlaskClient, scene: Scene
) -> None:
    response = send(noord, scene, "1001", "1002")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = CODE.search(response.text)
    assert code is not None
    overview = noord.get("/migraties").text
    assert code.group(1) not in overview
    assert f"••••-••••-••••-••••-••••-{code.group(1)[-4:]}" in overview
    assert overview.count("Aangeboden") >= 2
    assert "zuid@example.nl" in overview


def test_a_refused_offer_shows_why_at_the_field_and_keeps_what_was_typed(
    noord: FlaskClient, scene: Scene, database_dump: Callable[[], object]
) -> None:
    before = database_dump()

    response = send(noord, scene, "1001", ontvangers="noord@example.nl, zuid@@example")

    assert response.status_code == 200
    assert codes(response.text) == {"email_invalid": "ontvangers-error"}
    assert 'value="noord@example.nl, zuid@@example"' in response.text
    assert 'aria-describedby="ontvangers-hint ontvangers-error"' in response.text
    assert database_dump() == before


def test_an_offer_without_the_terms_accepted_is_refused(
    noord: FlaskClient, scene: Scene, database_dump: Callable[[], object]
) -> None:
    before = database_dump()

    response = send(noord, scene, "1001", voorwaarden="")

    assert codes(response.text) == {"terms_not_accepted": "voorwaarden-error"}
    assert database_dump() == before


def test_an_administration_with_authorizers_in_a_flow_is_refused(
    noord: FlaskClient, scene: Scene, database_dump: Callable[[], object]
) -> None:
    before = database_dump()

    response = send(noord, scene, "1003")

    assert "Administratie 1003 Hoveniersbedrijf Groen heeft autorisatoren" in response.text
    assert 'role="alert"' in response.text
    assert database_dump() == before


def test_the_overview_search_finds_rows_by_any_column(noord: FlaskClient, scene: Scene) -> None:
    send(noord, scene, "1001", "1002")

    found = noord.get("/migraties?aangeboden=fietsen").text
    assert "Fietsenmakerij Van Dijk" in found
    assert "Bakkerij De Korenschoof" not in found.split("Administraties die klaar staan")[0]


def test_a_search_term_that_is_too_long_is_refused_at_the_field(noord: FlaskClient) -> None:
    response = noord.get("/migraties?aangeboden=" + "x" * 201)

    assert response.status_code == 200
    assert codes(response.text) == {"search_too_long": "aangeboden-error"}


def test_intrekken_withdraws_an_offered_administration(
    noord: FlaskClient,
    scene: Scene,
) -> None:
    send(noord, scene, "1001")
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]

    response = noord.post(f"/migraties/aangeboden/{row.item_id}/intrekken")

    assert response.location == "/migraties"
    assert "1001 Bakkerij De Korenschoof is ingetrokken." in noord.get("/migraties").text
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]
    assert row.status is ItemStatus.WITHDRAWN


def test_intrekken_twice_shows_the_refusal_on_the_overview(
    noord: FlaskClient,
    scene: Scene,
) -> None:
    send(noord, scene, "1001")
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]
    noord.post(f"/migraties/aangeboden/{row.item_id}/intrekken")

    response = noord.post(f"/migraties/aangeboden/{row.item_id}/intrekken", follow_redirects=True)

    assert codes(response.text) == {"item_withdrawn": "flash"}


def test_resend_shows_a_new_code_and_the_old_one_dies(
    noord: FlaskClient,
    scene: Scene,
) -> None:
    first = CODE.search(send(noord, scene, "1001").text)
    assert first is not None
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]

    response = noord.post(f"/migraties/verzoeken/{row.offer_id}/code-opnieuw")

    second = CODE.search(response.text)
    assert second is not None
    assert second.group(1) != first.group(1)
    assert "Nieuwe overdrachtscode verzonden" in response.text


def test_resend_of_an_offer_with_nothing_open_is_refused_on_the_overview(
    noord: FlaskClient,
    scene: Scene,
) -> None:
    send(noord, scene, "1001")
    row = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows[0]
    noord.post(f"/migraties/aangeboden/{row.item_id}/intrekken")

    response = noord.post(
        f"/migraties/verzoeken/{row.offer_id}/code-opnieuw", follow_redirects=True
    )

    assert codes(response.text) == {"no_open_items": "flash"}
