"""AccountView Net: companies, and the ADM_LIST of each asked with its X-Company header."""

from __future__ import annotations

import pytest
import responses
from listings import ACCOUNTVIEW
from package_api import ACCESS_TOKEN, CONNECTION_ID, connection, query, tokens

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

AV = connection(AccountingPackage.ACCOUNTVIEW)
COMPANIES = [
    {"Id": "c0ffee01", "Description": "Kantoor Noord", "Code": "NOORD"},
    {"Id": "c0ffee02", "Description": "Kantoor Noord (oud)", "Code": "NOORD-OUD"},
]
SYSTEM_DATA = f"{ACCOUNTVIEW}/accountviewsystemdata"


def adm_list(*rows: tuple[str, str]) -> dict[str, object]:
    return {"ADM_LIST": [{"ADM_CODE": code, "ADM_DESC": name} for code, name in rows]}


def test_lists_each_companys_administrations(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", json=COMPANIES)
    api.get(SYSTEM_DATA, json=adm_list(("5001", "Drukkerij Van Dam"), ("5002", "Garage Smit")))
    api.get(SYSTEM_DATA, json=adm_list(("4100", "Archief 2019")))

    found = make(AccountViewConnector).list_administrations(AV)

    assert found == [
        PackageAdministration("c0ffee01:5001", "5001", "Drukkerij Van Dam"),
        PackageAdministration("c0ffee01:5002", "5002", "Garage Smit"),
        PackageAdministration("c0ffee02:4100", "4100", "Archief 2019"),
    ]
    assert "X-Company" not in api.calls[0].request.headers
    assert [call.request.headers["X-Company"] for call in api.calls[1:]] == ["c0ffee01", "c0ffee02"]
    assert query(api.calls[1]) == {
        "BusinessObject": ["ADL"],
        "PageSize": ["1000"],
        "Fields": ["ADM_CODE,ADM_DESC"],
    }
    assert all(
        call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for call in api.calls
    )


def test_a_connection_naming_a_company_lists_only_that_one(
    make, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    store.save(CONNECTION_ID, tokens(account=(("company", "c0ffee02"),)))
    api.get(f"{ACCOUNTVIEW}/companies", json=COMPANIES)
    api.get(SYSTEM_DATA, json=adm_list(("4100", "Archief 2019")))

    found = make(AccountViewConnector).list_administrations(AV)

    assert [pa.package_admin_id for pa in found] == ["c0ffee02:4100"]
    assert api.calls[1].request.headers["X-Company"] == "c0ffee02"


def test_finds_one_administration_of_one_company(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", json=COMPANIES)
    api.get(SYSTEM_DATA, json=adm_list(("5001", "Drukkerij Van Dam"), ("5002", "Garage Smit")))

    found = make(AccountViewConnector).find_administration(AV, "c0ffee01:5002")

    assert found == PackageAdministration("c0ffee01:5002", "5002", "Garage Smit")
    assert api.calls[1].request.headers["X-Company"] == "c0ffee01"


def test_an_unknown_company_is_none_without_asking_it(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", json=COMPANIES)

    assert make(AccountViewConnector).find_administration(AV, "deadbeef:5001") is None
    assert make(AccountViewConnector).find_administration(AV, "no-separator") is None
    assert len(api.calls) == 1


def test_a_refusal_carries_accountviews_message(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", json=COMPANIES[:1])
    api.get(
        SYSTEM_DATA,
        status=400,
        json={
            "ErrorType": "AccountViewError",
            "ErrorNumbers": None,
            "ErrorMessage": "Bedrijf is niet gekoppeld.",
        },
    )

    with pytest.raises(PackageError) as caught:
        make(AccountViewConnector).list_administrations(AV)

    assert caught.value.code == "package_rejected"
    assert caught.value.params["detail"] == "Bedrijf is niet gekoppeld."


def test_declares_and_refuses_link_rewriting(make) -> None:
    accountview = make(AccountViewConnector)

    assert accountview.can_rewrite_links is False
    with pytest.raises(PackageError) as caught:
        accountview.rewrite_links(AV, "c0ffee01:5001", {"https://old/a": "https://new/a"})
    assert caught.value.code == "package_links_unsupported"
