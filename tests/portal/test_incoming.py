"""Taking administrations in: the checklist, the code with the terms and the costs, the
offered administrations (select or reject), the targets per administration, Start
migratie, and each migration's status with retry."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from portal_support import Scene, codes, start_form
from werkzeug.datastructures import MultiDict

from migrationkit import services
from migrationkit.domain.model import AccountingPackage, ItemStatus

Dump = Callable[[], object]


def redeem(client: FlaskClient, code: str, **fields: Any) -> Any:
    data = {"code": code, "voorwaarden": "y", "kosten": "y", **fields}
    return client.post("/migraties/inkomend/code", data=data)


def test_the_checklist_warns_not_to_add_the_administration_from_the_package(
    zuid: FlaskClient,
) -> None:
    page = zuid.get("/migraties/inkomend/checklist").text

    assert "Voeg de administratie niet rechtstreeks toe vanuit het boekhoudpakket" in page
    assert 'href="/migraties/inkomend/code"' in page


def test_the_code_page_asks_for_the_code_the_terms_and_the_costs(zuid: FlaskClient) -> None:
    page = zuid.get("/migraties/inkomend/code").text

    assert '<label class="form-label" for="code">Overdrachtscode</label>' in page
    assert (
        '<label class="form-check-label" for="voorwaarden">Ik ga akkoord met de voorwaarden</label>'
        in page
    )
    assert "Ik ga akkoord met de kosten van de migratie" in page


def test_a_right_code_opens_the_offered_administrations(zuid: FlaskClient, scene: Scene) -> None:
    receipt = scene.offer("1001", "1002")

    response = redeem(zuid, receipt.code.lower())

    assert response.location == f"/migraties/inkomend/{receipt.offer.id}"
    page = zuid.get(response.location).text
    assert "Bakkerij De Korenschoof" in page
    assert "Fietsenmakerij Van Dijk" in page
    assert "Van Kantoor Noord (noord@example.nl)" in page


def test_a_wrong_code_is_refused_at_the_field_and_kept(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    scene.offer("1001")

    response = redeem(zuid, "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01")

    assert response.status_code == 200
    assert codes(response.text) == {"code_unknown": "code-error"}
    assert 'value="ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"' in response.text
    assert 'aria-describedby="code-hint code-error"' in response.text


def test_a_mistyped_code_with_both_boxes_unticked_names_all_three_at_their_fields(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    scene.offer("1001")
    before = database_dump()

    response = zuid.post("/migraties/inkomend/code", data={"code": "ABCD-EFGH-JKMN"})

    assert response.status_code == 200
    assert codes(response.text) == {
        "code_malformed": "code-error",
        "terms_not_accepted": "voorwaarden-error",
        "costs_not_accepted": "kosten-error",
    }
    assert 'value="ABCD-EFGH-JKMN"' in response.text
    assert database_dump() == before  # not even a wrong attempt: the code was not tried


def test_a_code_of_24_characters_with_a_u_is_told_the_u_is_not_allowed(
    zuid: FlaskClient, scene: Scene
) -> None:
    scene.offer("1001")

    response = redeem(zuid, "ABCD-EFGH-JKMN-PQRS-TVWX-YZ0U")

    assert codes(response.text) == {"code_invalid_character": "code-error"}


def test_redeeming_without_accepting_the_costs_is_refused_at_that_box(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001")
    before = database_dump()

    response = redeem(zuid, receipt.code, kosten="")

    assert codes(response.text) == {"costs_not_accepted": "kosten-error"}
    assert f'value="{receipt.code}"' in response.text
    assert database_dump() == before


def test_an_environment_without_subscription_is_refused(
    signed_in: Callable[[str], FlaskClient], scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001", to="west@example.nl")
    before = database_dump()

    response = redeem(signed_in("west@example.nl"), receipt.code)

    assert codes(response.text) == {"no_subscription": "form"}
    assert database_dump() == before


def test_an_expired_code_says_when_it_expired(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001")
    with scene.deps.uow() as uow:
        uow.offers.replace_code(
            receipt.offer.id,
            code_digest=receipt.offer.code_digest,
            code_hint=receipt.offer.code_hint,
            expires_at=receipt.offer.created_at,
        )
        uow.commit()
    before = database_dump()

    response = redeem(zuid, receipt.code)

    assert codes(response.text) == {"code_expired": "code-error"}
    assert database_dump() == before


def test_afwijzen_rejects_the_selected_administrations_with_a_reason(
    zuid: FlaskClient, scene: Scene
) -> None:
    receipt = scene.offer("1001", "1002")
    redeemed = scene.redeem(receipt)
    first = redeemed.items[0]

    response = zuid.post(
        f"/migraties/inkomend/{receipt.offer.id}",
        data={"administratie": [first.id], "reden": "Verkeerde klant", "afwijzen": "Afwijzen"},
    )

    assert response.location == f"/migraties/inkomend/{receipt.offer.id}"
    page = zuid.get(response.location).text
    assert "Afgewezen: 1001 Bakkerij De Korenschoof. De aanbieder krijgt een e-mail." in page
    rows = services.outgoing_overview(scene.deps, actor_id=scene.user("noord@example.nl")).rows
    assert {(r.administration_code, r.status, r.rejection_reason) for r in rows} == {
        ("1001", ItemStatus.REJECTED, "Verkeerde klant"),
        ("1002", ItemStatus.OFFERED, None),
    }


def test_afwijzen_with_a_reason_that_is_too_long_keeps_it_and_changes_nothing(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001")
    item = scene.redeem(receipt).items[0]
    before = database_dump()

    response = zuid.post(
        f"/migraties/inkomend/{receipt.offer.id}",
        data={"administratie": [item.id], "reden": "x" * 1001, "afwijzen": "Afwijzen"},
    )

    assert response.status_code == 200
    assert codes(response.text) == {"reason_too_long": "reden-error"}
    assert database_dump() == before


def test_volgende_without_a_selection_stays_on_the_page(zuid: FlaskClient, scene: Scene) -> None:
    receipt = scene.offer("1001")
    scene.redeem(receipt)

    response = zuid.post(f"/migraties/inkomend/{receipt.offer.id}", data={"volgende": "Volgende"})

    assert response.status_code == 200
    assert codes(response.text) == {"no_administrations": "administratie-error"}


def test_volgende_leads_to_the_choice_of_targets(zuid: FlaskClient, scene: Scene) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items

    response = zuid.post(
        f"/migraties/inkomend/{receipt.offer.id}",
        data={"administratie": [i.id for i in items], "volgende": "Volgende"},
    )

    assert response.location == (
        f"/migraties/inkomend/{receipt.offer.id}/koppelen?item={items[0].id}&item={items[1].id}"
    )
    page = zuid.get(response.location).text
    assert "1001 Bakkerij De Korenschoof" in page
    assert "Andere administratiecode voor 1002 Fietsenmakerij Van Dijk" in page


def test_each_administration_is_proposed_the_same_code_else_the_same_name(
    zuid: FlaskClient, scene: Scene
) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items
    query = "&".join(f"item={item.id}" for item in items)

    page = zuid.get(f"/migraties/inkomend/{receipt.offer.id}/koppelen?{query}").text

    rows = re.findall(r'<tr class="match-(\w+)">\s*<th scope="row"[^>]*>([^<]+)<', page)
    assert rows == [
        ("name", "1002 Fietsenmakerij Van Dijk"),
        ("code", "1001 Bakkerij De Korenschoof"),
    ]
    assert "7002 Fietsenmakerij Van Dijk" in page
    assert (
        "2 administraties:</strong>\n    1 met dezelfde code, 1 met dezelfde naam, 0 zonder" in page
    )


def start(client: FlaskClient, offer_id: int, fields: MultiDict[str, str]) -> Any:
    return client.post(
        f"/migraties/inkomend/{offer_id}/koppelen", data=fields | {"start": "Start migratie"}
    )


def test_start_migratie_queues_the_migrations_on_the_proposals(
    zuid: FlaskClient, scene: Scene
) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items
    fields = start_form(zuid, receipt.offer.id, [item.id for item in items])

    response = start(zuid, receipt.offer.id, fields)

    assert response.location == f"/migraties/inkomend/{receipt.offer.id}"
    rows = services.incoming_overview(scene.deps, actor_id=scene.user("zuid@example.nl")).rows
    assert all(row.migration is not None for row in rows)
    assert {row.migration.target.code for row in rows if row.migration} == {"1001", "7002"}
    page = zuid.get(response.location).text
    assert "De migratie is gestart" in page
    assert re.search(r'class="count-queued">.*?<strong class="count">2</strong>', page, re.S)


def test_a_typed_code_changes_the_proposal(zuid: FlaskClient, scene: Scene) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items
    fields = start_form(zuid, receipt.offer.id, [items[0].id], {items[0].id: "1003"})

    response = start(zuid, receipt.offer.id, fields)

    assert response.status_code == 302
    (row,) = [
        r
        for r in services.incoming_overview(scene.deps, actor_id=scene.user("zuid@example.nl")).rows
        if r.migration
    ]
    assert row.migration is not None
    assert (row.administration_code, row.migration.target.code) == ("1001", "1003")


def test_an_unknown_code_and_an_administration_without_proposal_are_refused_at_their_rows(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items
    zuid_exact = scene.connection("Zuid")
    services.add_administrations(
        scene.deps,
        actor_id=scene.user("zuid@example.nl"),
        connection_id=zuid_exact.id,
        package_admin_ids=["zuid-1001"],
        inbox_domain="inbox.example.nl",
    )
    fields = start_form(zuid, receipt.offer.id, [i.id for i in items], {items[1].id: "9999"})
    before = database_dump()

    response = start(zuid, receipt.offer.id, fields)

    assert response.status_code == 200
    assert "2 administraties hebben nog geen doel" in response.text
    assert "Kies voor 1001 Bakkerij De Korenschoof een boekhoudsysteemkoppeling" in response.text
    assert "De koppeling heeft geen beschikbare administratie met code 9999." in response.text
    assert 'value="9999"' in response.text  # kept in its field
    assert database_dump() == before


def test_a_start_against_proposals_that_changed_shows_them_again(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001", "1002")
    items = scene.redeem(receipt).items
    fields = start_form(zuid, receipt.offer.id, [i.id for i in items])
    services.add_administrations(
        scene.deps,
        actor_id=scene.user("zuid@example.nl"),
        connection_id=scene.connection("Zuid").id,
        package_admin_ids=["zuid-1002"],
        inbox_domain="inbox.example.nl",
    )
    before = database_dump()

    response = start(zuid, receipt.offer.id, fields)

    assert response.status_code == 200
    assert "bekijk de voorstellen opnieuw" in response.text
    assert database_dump() == before


def test_a_connection_of_another_package_is_refused_and_nothing_starts(
    zuid: FlaskClient, scene: Scene, database_dump: Dump
) -> None:
    receipt = scene.offer("1001")
    items = scene.redeem(receipt).items
    twinfield = scene.connection("Zuid", AccountingPackage.TWINFIELD)
    fields = start_form(zuid, receipt.offer.id, [items[0].id])
    fields["koppeling"] = str(twinfield.id)
    before = database_dump()

    response = start(zuid, receipt.offer.id, fields)

    assert response.location == f"/migraties/inkomend/{receipt.offer.id}"
    assert codes(zuid.get(response.location).text) == {"package_mismatch": "flash"}
    assert database_dump() == before


def test_the_targets_page_offers_only_connections_of_the_offers_package(
    zuid: FlaskClient, scene: Scene
) -> None:
    receipt = scene.offer("1001")
    items = scene.redeem(receipt).items
    exact = scene.connection("Zuid")
    twinfield = scene.connection("Zuid", AccountingPackage.TWINFIELD)

    page = zuid.get(f"/migraties/inkomend/{receipt.offer.id}/koppelen?item={items[0].id}").text

    assert f'<option selected value="{exact.id}">' in page  # the one there is, chosen
    assert f'value="{twinfield.id}"' not in page
    assert '<option value="1001">1001 Bakkerij De Korenschoof</option>' in page  # to type


def test_the_targets_page_without_a_selection_goes_back(zuid: FlaskClient, scene: Scene) -> None:
    receipt = scene.offer("1001")
    scene.redeem(receipt)

    response = zuid.get(f"/migraties/inkomend/{receipt.offer.id}/koppelen")

    assert response.location == f"/migraties/inkomend/{receipt.offer.id}"


def test_the_incoming_overview_lists_the_migrations_with_a_search(
    zuid: FlaskClient, scene: Scene
) -> None:
    scene.start(scene.offer("1001", "1002"))

    page = zuid.get("/migraties").text
    found = zuid.get("/migraties?ontvangen=fietsen").text

    assert "Exact Online (NL)" in page
    assert "In de wachtrij" in page
    assert "Fietsenmakerij Van Dijk" in found
    assert "Bakkerij De Korenschoof" not in found
