"""Boekhoudgemak & Multivers (Unit4 API): the AdministrationInfoList, and document links
rewritten where Multivers lets them change."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from listings import UNIT4
from package_api import ACCESS_TOKEN, connection

from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.config import PackageCredentials
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

MULTIVERS = connection(AccountingPackage.BOEKHOUDGEMAK_MULTIVERS)
ADMINISTRATIONS = [
    {
        "administrationId": "MVL48759",
        "code": "3001",
        "description": "Hoveniersbedrijf Groen",
        "shortName": "Groen",
        "groupId": "",
        "onlineState": 1,
    },
    {
        "administrationId": "MVL48760",
        "code": "",
        "description": "Schildersbedrijf Wit",
        "shortName": "Wit",
        "groupId": "",
        "onlineState": 1,
    },
]
OLD = "https://archief-noord.example.nl/d/"
NEW = "https://archief-zuid.example.nl/d/"


def test_lists_the_administrations(make, api: responses.RequestsMock) -> None:
    api.get(f"{UNIT4}/api/AdministrationInfoList", json=ADMINISTRATIONS)

    found = make(MultiversConnector).list_administrations(MULTIVERS)

    assert found == [
        PackageAdministration("MVL48759", "3001", "Hoveniersbedrijf Groen"),
        PackageAdministration("MVL48760", "Wit", "Schildersbedrijf Wit"),
    ]
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_finds_one_in_the_list(make, api: responses.RequestsMock) -> None:
    api.get(f"{UNIT4}/api/AdministrationInfoList", json=ADMINISTRATIONS)
    api.get(f"{UNIT4}/api/AdministrationInfoList", json=ADMINISTRATIONS)
    multivers = make(MultiversConnector)

    assert multivers.find_administration(MULTIVERS, "MVL48760") == PackageAdministration(
        "MVL48760", "Wit", "Schildersbedrijf Wit"
    )
    assert multivers.find_administration(MULTIVERS, "MVL00000") is None


def test_another_api_version_is_a_base_url(make, api: responses.RequestsMock) -> None:
    sandbox = "https://sandbox.api.online.unit4.nl/V20"
    api.get(f"{sandbox}/api/AdministrationInfoList", json=ADMINISTRATIONS[:1])
    credentials = PackageCredentials(client_id="id", client_secret="geheim-1234", base_url=sandbox)

    assert len(make(MultiversConnector, credentials).list_administrations(MULTIVERS)) == 1


def link(reference: str, address: str, *, can_change: bool = True) -> dict[str, Any]:
    return {
        "reference": reference,
        "documentLink": address,
        "linkId": f"L-{reference}",
        "linkType": "U",
        "description": "Inkoopfactuur",
        "canChange": can_change,
        "cannotChangeReason": "" if can_change else "Periode is afgesloten",
    }


def test_rewrites_the_document_links_that_may_change(make, api: responses.RequestsMock) -> None:
    documents = f"{UNIT4}/api/MVL48759/DbDocument"
    api.get(
        documents,
        json=[
            link("2026-0001", f"{OLD}1"),
            link("2026-0002", "https://elders.example.com/2"),
            link("2025-0417", f"{OLD}3", can_change=False),
        ],
    )
    api.put(f"{UNIT4}/api/MVL48759/DmDocument/2026-0001", json=link("2026-0001", f"{NEW}1"))

    rewritten = make(MultiversConnector).rewrite_links(
        MULTIVERS, "MVL48759", {f"{OLD}1": f"{NEW}1", f"{OLD}3": f"{NEW}3"}
    )

    assert rewritten == 1
    put = api.calls[1]
    assert put.request.method == "PUT"
    assert json.loads(put.request.body) == link("2026-0001", f"{NEW}1")
    assert put.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_a_refusal_carries_unit4s_messages(make, api: responses.RequestsMock) -> None:
    api.get(
        f"{UNIT4}/api/AdministrationInfoList",
        status=400,
        json={
            "messages": [
                {
                    "exceptionId": "",
                    "Message": "Administratie is geblokkeerd.",
                    "messageType": 2,
                    "path": "",
                }
            ]
        },
    )

    with pytest.raises(PackageError) as caught:
        make(MultiversConnector).list_administrations(MULTIVERS)

    assert caught.value.code == "package_rejected"
    assert caught.value.params["detail"] == "Administratie is geblokkeerd."


def test_document_links_without_their_fields_change_nothing(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{UNIT4}/api/MVL48759/DbDocument", json=[{"reference": "2026-0001"}])

    with pytest.raises(PackageError) as caught:
        make(MultiversConnector).rewrite_links(MULTIVERS, "MVL48759", {f"{OLD}1": f"{NEW}1"})

    assert caught.value.code == "package_malformed"
    assert len(api.calls) == 1
