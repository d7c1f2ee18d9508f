"""The Administraties tab, "+ Administratie(s) toevoegen", interne migratie, and
Instellingen > Administraties > bewerken > tab Gebruikers."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from portal_support import Scene, codes

from migrationkit import services
from migrationkit.domain.model import AccountingPackage, PackageAdministration

Dump = Callable[[], object]


def test_a_super_user_sees_every_administration_with_its_actions(noord: FlaskClient) -> None:
    page = noord.get("/administraties").text

    for words in ("1001", "Bakkerij De Korenschoof", "5002", "Advocatenkantoor Meijer"):
        assert words in page
    assert "Interne migratie" in page
    assert "Bewerken" in page


def test_a_plain_user_sees_the_administrations_with_toegang_ja_only(
    medewerker: FlaskClient, scene: Scene
) -> None:
    services.set_access(
        scene.deps,
        actor_id=scene.user("noord@example.nl"),
        administration_id=scene.administration("1001").id,
        user_id=scene.user("medewerker@example.nl"),
        granted=False,
    )

    page = medewerker.get("/administraties").text

    assert "Bakkerij De Korenschoof" not in page
    assert "Fietsenmakerij Van Dijk" in page
    assert "Interne migratie" not in page


def test_the_root_leads_to_the_administraties_tab(noord: FlaskClient) -> None:
    assert noord.get("/").location == "/administraties"


def add_form(scene: Scene, office: str, **fields: object) -> dict[str, object]:
    return {"koppeling": scene.connection(office).id, **fields}


def test_toevoegen_lists_the_package_administrations_not_linked_yet(
    zuid: FlaskClient, scene: Scene
) -> None:
    page = zuid.post("/administraties/toevoegen", data=add_form(scene, "Zuid", toon="Toon")).text

    assert "1001 Bakkerij De Korenschoof" in page
    assert "7002 Fietsenmakerij Van Dijk" in page


def test_toevoegen_adds_the_chosen_administrations(zuid: FlaskClient, scene: Scene) -> None:
    response = zuid.post(
        "/administraties/toevoegen",
        data=add_form(scene, "Zuid", administratie=["zuid-1001"], submit="Toevoegen"),
    )

    assert response.location == "/administraties"
    page = zuid.get("/administraties").text
    assert "1 administratie(s) toegevoegd." in page
    assert "bakkerijdekorenschoof-1001@inbox.example.nl" in page


def test_toevoegen_without_a_choice_is_refused_at_the_field(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    before = database_dump()

    response = zuid.post(
        "/administraties/toevoegen", data=add_form(scene, "Zuid", submit="Toevoegen")
    )

    assert codes(response.text) == {"no_administrations": "administratie-error"}
    assert database_dump() == before


def test_the_add_page_starts_with_the_choice_of_connection(zuid: FlaskClient) -> None:
    page = zuid.get("/administraties/toevoegen").text

    assert '<label class="form-label" for="koppeling">Boekhoudsysteemkoppeling</label>' in page
    assert "Let op: voeg een administratie die naar je omgeving gemigreerd wordt niet" in page


def test_interne_migratie_relinks_to_another_package_administration(
    noord: FlaskClient, scene: Scene
) -> None:
    administration = scene.administration("1001")
    connection = scene.connection("Noord")
    scene.deps.connectors.connector(AccountingPackage.EXACT_ONLINE_NL).add_package_administration(
        connection.id, PackageAdministration("noord-8001", "8001", "Bakkerij De Korenschoof BV")
    )
    url = f"/administraties/{administration.id}/interne-migratie"
    assert "8001 Bakkerij De Korenschoof BV" in noord.get(url).text

    response = noord.post(
        url, data={"koppeling": connection.id, "administratie": "noord-8001", "submit": "Ok"}
    )

    assert response.location == "/administraties"
    assert "8001" in noord.get("/administraties").text


def test_interne_migratie_to_another_package_is_refused_and_kept(
    noord: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    administration = scene.administration("1001")
    xero = scene.connection("Noord", AccountingPackage.XERO)
    scene.deps.connectors.connector(AccountingPackage.XERO).add_package_administration(
        xero.id, PackageAdministration("x-1", "9001", "Bakkerij Xero")
    )
    before = database_dump()

    response = noord.post(
        f"/administraties/{administration.id}/interne-migratie",
        data={"koppeling": xero.id, "administratie": "x-1", "submit": "Ok"},
    )

    assert response.status_code == 200
    assert codes(response.text) == {"package_mismatch": "koppeling-error"}
    assert f'<option selected value="{xero.id}">' in response.text
    assert database_dump() == before


def test_the_tab_gebruikers_shows_toegang_per_user(noord: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("1001")

    page = noord.get(f"/instellingen/administraties/{administration.id}/bewerken/gebruikers").text

    assert "Supergebruiker Noord" in page
    assert "Medewerker Noord" in page
    assert "Toegang voor Medewerker Noord" in page
    assert page.count('value="ja"') == 2


def test_toegang_nee_takes_access_away(noord: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("1001")
    plain = scene.user("medewerker@example.nl")
    url = f"/instellingen/administraties/{administration.id}/bewerken/gebruikers"

    response = noord.post(f"{url}/{plain}", data={f"gebruiker-{plain}-toegang": "nee"})

    assert response.location == url
    assert "Toegang opgeslagen: Nee." in noord.get(url).text
    assert not services.has_access(scene.deps, user_id=plain, administration_id=administration.id)


def test_toegang_without_a_choice_is_refused(noord: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("1001")
    plain = scene.user("medewerker@example.nl")
    url = f"/instellingen/administraties/{administration.id}/bewerken/gebruikers"

    response = noord.post(f"{url}/{plain}", data={}, follow_redirects=True)

    assert "Kies Ja of Nee." in response.text
