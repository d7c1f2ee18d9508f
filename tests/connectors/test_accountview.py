"""AccountView Net on its client's published shapes: companies, and the ADM_LIST of each
asked with its X-Company header and the query as the client sends it; an error in a 200
answer reaches the user as AccountView's own message."""

from __future__ import annotations

import pytest
import responses
from listings import ACCOUNTVIEW, LISTINGS
from package_api import ACCESS_TOKEN, CONNECTION_ID, connection, query, tokens
from published import answer, document

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

AV = connection(AccountingPackage.ACCOUNTVIEW)
SYSTEM_DATA = f"{ACCOUNTVIEW}/accountviewsystemdata"
COMPANIES = document("accountview", "companies")


def refused(call) -> PackageError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        call()
    return caught.value


def test_lists_each_companys_administrations_asking_as_avs_client_does(
    make, api: responses.RequestsMock
) -> None:
    LISTINGS[AccountingPackage.ACCOUNTVIEW].register(api)

    found = make(AccountViewConnector).list_administrations(AV)

    assert found == LISTINGS[AccountingPackage.ACCOUNTVIEW].expected
    assert "X-Company" not in api.calls[0].request.headers
    assert [call.request.headers["X-Company"] for call in api.calls[1:]] == [
        company["Id"] for company in COMPANIES
    ]
    assert query(api.calls[1]) == {
        "businessobject": ["ADL"],
        "pagesize": ["1000"],
        "Fields": ["ADM_CODE,ADM_DESC"],
    }
    assert all(
        call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for call in api.calls
    )


def test_a_connection_naming_a_company_lists_only_that_one(
    make, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    store.save(CONNECTION_ID, tokens(account=(("company", "c0ffee02"),)))
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))
    api.get(SYSTEM_DATA, **answer("accountview", "adm_list_archive"))

    found = make(AccountViewConnector).list_administrations(AV)

    assert [pa.package_admin_id for pa in found] == ["c0ffee02:4100"]
    assert api.calls[1].request.headers["X-Company"] == "c0ffee02"


def test_finds_one_administration_of_one_company(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))
    api.get(SYSTEM_DATA, **answer("accountview", "adm_list"))

    found = make(AccountViewConnector).find_administration(AV, "c0ffee01:5002")

    assert found == PackageAdministration("c0ffee01:5002", "5002", "Garage Smit")
    assert api.calls[1].request.headers["X-Company"] == "c0ffee01"


def test_an_unknown_company_is_none_without_asking_it(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))

    assert make(AccountViewConnector).find_administration(AV, "deadbeef:5001") is None
    assert make(AccountViewConnector).find_administration(AV, "no-separator") is None
    assert len(api.calls) == 1


def test_an_error_in_a_200_answer_reaches_the_user_as_accountviews_message(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))
    api.get(SYSTEM_DATA, **answer("accountview", "error_in_200"))

    error = refused(lambda: make(AccountViewConnector).list_administrations(AV))

    assert error.code == "package_rejected", "not 'an answer that cannot be read'"
    assert error.params["detail"] == "Bedrijf is niet gekoppeld."
    assert len(api.calls) == 2


def test_a_refusal_carries_accountviews_message(make, api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))
    api.get(SYSTEM_DATA, **answer("accountview", "error_400"))

    error = refused(lambda: make(AccountViewConnector).list_administrations(AV))

    assert error.code == "package_rejected"
    assert error.params["detail"] == "Ongeldige waarde voor pagesize."


def test_declares_and_refuses_link_rewriting(make) -> None:
    accountview = make(AccountViewConnector)

    assert accountview.can_rewrite_links is False
    error = refused(
        lambda: accountview.rewrite_links(AV, "c0ffee01:5001", {"https://old/a": "https://new/a"})
    )
    assert error.code == "package_links_unsupported"
