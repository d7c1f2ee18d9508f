"""Boekhoudgemak & Multivers (Unit4 API) on its published shapes: the AdministrationInfoList,
and document links rewritten on published routes only (DmDocumentList, DmDocument/{reference})
where Multivers lets them change."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from listings import LISTINGS, UNIT4
from package_api import ACCESS_TOKEN, connection
from published import answer, document

from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage

MULTIVERS = connection(AccountingPackage.BOEKHOUDGEMAK_MULTIVERS)
DATABASE = f"{UNIT4}/api/MVL48759"
OLD = "https://archief-noord.example.nl/d/"
NEW = "https://archief-zuid.example.nl/d/"


def refused(call) -> PackageError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        call()
    return caught.value


def dm_document(reference: str, link: str, *, can_change: bool = True) -> dict[str, Any]:
    """Unit4's published DmDocument with this reference, link and canChange."""
    return {
        **document("multivers", "dm_document"),
        "reference": reference,
        "documentLink": link,
        "canChange": can_change,
        "cannotChangeReason": "" if can_change else "Periode is afgesloten",
    }


def test_lists_the_administrations(make, api: responses.RequestsMock) -> None:
    LISTINGS[AccountingPackage.BOEKHOUDGEMAK_MULTIVERS].register(api)

    found = make(MultiversConnector).list_administrations(MULTIVERS)

    assert found == LISTINGS[AccountingPackage.BOEKHOUDGEMAK_MULTIVERS].expected
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_finds_one_in_the_list(make, api: responses.RequestsMock) -> None:
    LISTINGS[AccountingPackage.BOEKHOUDGEMAK_MULTIVERS].register(api)
    LISTINGS[AccountingPackage.BOEKHOUDGEMAK_MULTIVERS].register(api)
    multivers = make(MultiversConnector)

    found = multivers.find_administration(MULTIVERS, "MVL48760")

    assert found == LISTINGS[AccountingPackage.BOEKHOUDGEMAK_MULTIVERS].expected[1]
    assert multivers.find_administration(MULTIVERS, "MVL00000") is None


def test_another_api_version_is_a_base_url(make, api: responses.RequestsMock) -> None:
    sandbox = "https://sandbox.api.online.unit4.nl/V20"
    api.get(
        f"{sandbox}/api/AdministrationInfoList", **answer("multivers", "administration_info_list")
    )
    credentials = PackageCredentials(client_id="id", client_secret="geheim-1234", base_url=sandbox)

    assert len(make(MultiversConnector, credentials).list_administrations(MULTIVERS)) == 2


def test_rewrites_the_links_that_may_change_on_published_routes(
    make, api: responses.RequestsMock
) -> None:
    # Listed: 2026-0001 and 2025-0417 with old addresses, 2026-0002 with another.
    api.get(f"{DATABASE}/DmDocumentList", **answer("multivers", "dm_document_list"))
    one = dm_document("2026-0001", f"{OLD}1")
    closed = dm_document("2025-0417", f"{OLD}3", can_change=False)
    api.get(f"{DATABASE}/DmDocument/2026-0001", **answer("multivers", "dm_document", json_body=one))
    api.put(
        f"{DATABASE}/DmDocument/2026-0001",
        **answer("multivers", "dm_document", json_body={**one, "documentLink": f"{NEW}1"}),
    )
    api.get(
        f"{DATABASE}/DmDocument/2025-0417", **answer("multivers", "dm_document", json_body=closed)
    )

    rewritten = make(MultiversConnector).rewrite_links(
        MULTIVERS, "MVL48759", {f"{OLD}1": f"{NEW}1", f"{OLD}3": f"{NEW}3"}
    )

    assert rewritten == 1, "the closed period's document keeps its link"
    assert [(call.request.method, call.request.url) for call in api.calls] == [
        ("GET", f"{DATABASE}/DmDocumentList"),
        ("GET", f"{DATABASE}/DmDocument/2026-0001"),
        ("PUT", f"{DATABASE}/DmDocument/2026-0001"),
        ("GET", f"{DATABASE}/DmDocument/2025-0417"),
    ]
    put = api.calls[2]
    assert json.loads(put.request.body) == {**one, "documentLink": f"{NEW}1"}
    assert put.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_a_document_whose_link_changed_meanwhile_is_left_alone(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{DATABASE}/DmDocumentList", **answer("multivers", "dm_document_list"))
    meanwhile = dm_document("2026-0001", "https://elders.example.com/1")
    api.get(
        f"{DATABASE}/DmDocument/2026-0001",
        **answer("multivers", "dm_document", json_body=meanwhile),
    )

    assert make(MultiversConnector).rewrite_links(MULTIVERS, "MVL48759", {f"{OLD}1": "x"}) == 0
    assert len(api.calls) == 2


def test_a_refusal_carries_unit4s_messages(make, api: responses.RequestsMock) -> None:
    api.get(f"{UNIT4}/api/AdministrationInfoList", **answer("multivers", "messages"))

    error = refused(lambda: make(MultiversConnector).list_administrations(MULTIVERS))

    assert error.code == "package_rejected"
    assert error.params["detail"] == "Administratie is geblokkeerd."


def test_document_links_without_their_fields_change_nothing(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{DATABASE}/DmDocumentList", json=[{"reference": "2026-0001"}])

    error = refused(
        lambda: make(MultiversConnector).rewrite_links(
            MULTIVERS, "MVL48759", {f"{OLD}1": f"{NEW}1"}
        )
    )

    assert error.code == "package_malformed"
    assert len(api.calls) == 1


def test_declares_it_can_rewrite_links(make) -> None:
    assert make(MultiversConnector).can_rewrite_links is True
