"""Xero on its published answers: tenants from /Connections, organisations per tenant, links
rewritten on invoices and bank transactions page by page, objects Xero refuses counted as not
rewritten, its limits and its refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from listings import LISTINGS, XERO, XERO_DEMO, XERO_TENANTS
from package_api import ACCESS_TOKEN, connection, query
from published import answer, document

from migrationkit.adapters.connectors.xero import SCOPE, XeroConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration
from migrationkit.testing import FakeClock

XERO_CONNECTION = connection(AccountingPackage.XERO)
INVOICES = f"{XERO}/api.xro/2.0/Invoices"
BANK = f"{XERO}/api.xro/2.0/BankTransactions"
TOKEN_URL = "https://identity.xero.com/connect/token"
TENANT = XERO_TENANTS[0]
OLD = "https://archief-noord.example.nl/d/"
NEW = "https://archief-zuid.example.nl/d/"
LINKS = {f"{OLD}1": f"{NEW}1", f"{OLD}3": f"{NEW}3", f"{OLD}4": f"{NEW}4"}


def refused(call) -> PackageError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        call()
    return caught.value


def list_xero(make) -> list[PackageAdministration]:  # type: ignore[no-untyped-def]
    return list(make(XeroConnector).list_administrations(XERO_CONNECTION))


def updated(invoice_id: str) -> dict[str, Any]:
    """Xero's published answer to an update, for the invoice ``invoice_id``."""
    body = document("xero", "invoices_updated")
    body["Invoices"][0]["InvoiceID"] = invoice_id
    return answer("xero", "invoices_updated", json_body=body)


def test_lists_the_organisations_asking_each_with_its_tenant_header(
    make, api: responses.RequestsMock
) -> None:
    LISTINGS[AccountingPackage.XERO].register(api)

    found = list_xero(make)

    assert found == LISTINGS[AccountingPackage.XERO].expected
    assert found[0] == PackageAdministration(TENANT, "!1lqVQ", "Demo Company (NZ)")
    connections, *organisations = api.calls
    assert connections.request.url == f"{XERO}/Connections", "as Xero's OpenAPI spells it"
    assert "xero-tenant-id" not in connections.request.headers
    assert [call.request.headers["xero-tenant-id"] for call in organisations] == XERO_TENANTS[:2]
    assert all(
        call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for call in api.calls
    )


def test_finds_a_connected_organisation(make, api: responses.RequestsMock) -> None:
    api.get(f"{XERO}/Connections", **answer("xero", "connections"))
    api.get(f"{XERO}/api.xro/2.0/Organisation", **answer("xero", "organisation_demo"))

    found = make(XeroConnector).find_administration(XERO_CONNECTION, TENANT)

    assert found == PackageAdministration(TENANT, XERO_DEMO["ShortCode"], XERO_DEMO["Name"])


def test_an_unconnected_or_practice_tenant_is_none_without_asking_it(
    make, api: responses.RequestsMock
) -> None:
    practice = document("xero", "connections")[2]["tenantId"]
    api.get(f"{XERO}/Connections", **answer("xero", "connections"))
    api.get(f"{XERO}/Connections", **answer("xero", "connections"))
    xero = make(XeroConnector)

    assert xero.find_administration(XERO_CONNECTION, "ffffffff-unknown") is None
    assert xero.find_administration(XERO_CONNECTION, practice) is None
    assert len(api.calls) == 2


def test_rewrites_links_on_every_page_naming_only_the_id_and_the_url(
    make, api: responses.RequestsMock
) -> None:
    first, third = document("xero", "invoices_page1"), document("xero", "invoices_page2")
    api.get(INVOICES, **answer("xero", "invoices_page1"))
    api.post(INVOICES, **updated(first["Invoices"][0]["InvoiceID"]))
    api.get(INVOICES, **answer("xero", "invoices_page2"))
    api.post(INVOICES, **updated(third["Invoices"][0]["InvoiceID"]))
    api.get(BANK, **answer("xero", "bank_transactions"))
    api.post(BANK, **answer("xero", "bank_transaction_refused", json_body=_bank_updated()))

    rewritten = make(XeroConnector).rewrite_links(XERO_CONNECTION, TENANT, LINKS)

    assert rewritten == 3
    gets = [call for call in api.calls if call.request.method == "GET"]
    posts = [call for call in api.calls if call.request.method == "POST"]
    assert [(call.request.url.split("?")[0], query(call)["page"]) for call in gets] == [
        (INVOICES, ["1"]),
        (INVOICES, ["2"]),
        (BANK, ["1"]),
    ]
    bank_id = document("xero", "bank_transactions")["BankTransactions"][0]["BankTransactionID"]
    assert [json.loads(call.request.body) for call in posts] == [
        {"Invoices": [{"InvoiceID": first["Invoices"][0]["InvoiceID"], "Url": f"{NEW}1"}]},
        {"Invoices": [{"InvoiceID": third["Invoices"][0]["InvoiceID"], "Url": f"{NEW}3"}]},
        {"BankTransactions": [{"BankTransactionID": bank_id, "Url": f"{NEW}4"}]},
    ]
    for call in api.calls:
        assert call.request.headers["xero-tenant-id"] == TENANT
    for call in posts:
        assert query(call) == {"summarizeErrors": ["false"]}
        assert len(call.request.headers["Idempotency-Key"]) == 64
    assert len({call.request.headers["Idempotency-Key"] for call in posts}) == 3


def _bank_updated() -> dict[str, Any]:
    """Xero's published answer to an update, the bank transaction accepted."""
    body = document("xero", "bank_transaction_refused")
    (transaction,) = body["BankTransactions"]
    transaction["BankTransactionID"] = document("xero", "bank_transactions")["BankTransactions"][0][
        "BankTransactionID"
    ]
    transaction["StatusAttributeString"] = "OK"
    del transaction["ValidationErrors"]
    return body


def test_an_object_answered_with_error_keeps_its_link_and_is_not_counted(
    make, api: responses.RequestsMock
) -> None:
    bank = document("xero", "bank_transactions")
    refused_id = document("xero", "bank_transaction_refused")["BankTransactions"][0][
        "BankTransactionID"
    ]
    bank["BankTransactions"][1]["Url"] = f"{OLD}5"
    api.get(INVOICES, **answer("xero", "invoices_page2", json_body=_last_page_without_links()))
    api.get(BANK, **answer("xero", "bank_transactions", json_body=bank))
    api.post(BANK, **answer("xero", "bank_transaction_refused"))

    rewritten = make(XeroConnector).rewrite_links(XERO_CONNECTION, TENANT, {f"{OLD}5": f"{NEW}5"})

    assert rewritten == 0
    (post,) = [call for call in api.calls if call.request.method == "POST"]
    assert json.loads(post.request.body) == {
        "BankTransactions": [{"BankTransactionID": refused_id, "Url": f"{NEW}5"}]
    }


def _last_page_without_links() -> dict[str, Any]:
    page = document("xero", "invoices_page2")
    page["pagination"] = {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 1}
    del page["Invoices"][0]["Url"]
    return page


def test_a_validation_exception_carries_xeros_messages(make, api: responses.RequestsMock) -> None:
    api.get(INVOICES, **answer("xero", "invoices_page2", json_body=_last_page_with_a_link()))
    api.post(INVOICES, **answer("xero", "validation_exception"))

    error = refused(
        lambda: make(XeroConnector).rewrite_links(XERO_CONNECTION, TENANT, {f"{OLD}3": "x"})
    )

    assert error.code == "package_rejected"
    assert error.params["detail"] == (
        "A validation exception occurred; The Contact must contain at least 1 of the following "
        "elements to identify the contact: Name, ContactID, ContactNumber"
    )
    assert len(api.calls) == 2


def _last_page_with_a_link() -> dict[str, Any]:
    page = document("xero", "invoices_page2")
    page["pagination"] = {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 1}
    return page


def test_a_daily_limit_ends_at_once_saying_when_to_try_again(
    make, api: responses.RequestsMock, waits: list[float], clock: FakeClock
) -> None:
    api.get(f"{XERO}/Connections", **answer("xero", "rate_limited_day"))

    error = refused(lambda: list_xero(make))

    assert error.code == "package_rate_limited_until"
    when = datetime.fromtimestamp(clock.now().timestamp() + 66975, UTC)
    assert error.params["until_iso"] == when.isoformat()
    assert waits == []
    assert len(api.calls) == 1


def test_a_daily_limit_is_not_waited_for_even_when_it_ends_soon(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.get(
        f"{XERO}/Connections", **answer("xero", "rate_limited_day", headers={"Retry-After": "20"})
    )

    assert refused(lambda: list_xero(make)).code == "package_rate_limited_until"
    assert waits == []
    assert len(api.calls) == 1


@pytest.mark.usefixtures("worker")
def test_a_minute_limit_is_waited_out(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.get(f"{XERO}/Connections", **answer("xero", "rate_limited_minute"))
    LISTINGS[AccountingPackage.XERO].register(api)

    assert len(list_xero(make)) == 2
    assert waits == [7.0]


def test_an_organisation_the_token_does_not_reach_sends_the_user_to_connect_again(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{XERO}/Connections", **answer("xero", "connections"))
    api.get(f"{XERO}/api.xro/2.0/Organisation", **answer("xero", "authentication_unsuccessful"))
    LISTINGS[AccountingPackage.XERO].register_refresh(api)
    api.get(f"{XERO}/api.xro/2.0/Organisation", **answer("xero", "authentication_unsuccessful"))

    error = refused(lambda: list_xero(make))

    assert error.code == "package_auth_refused"
    assert error.params["detail"] == "AuthenticationUnsuccessful"


def test_a_dead_refresh_token_means_connecting_again(
    make, api: responses.RequestsMock, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=1))
    api.post(TOKEN_URL, **answer("xero", "invalid_grant"))

    assert refused(lambda: list_xero(make)).code == "package_auth_expired"


def test_scopes_the_app_may_not_ask_mean_the_app_is_not_set_up(
    make, api: responses.RequestsMock, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=1))
    api.post(TOKEN_URL, **answer("xero", "invalid_scope_for_client"))

    assert refused(lambda: list_xero(make)).code == "package_not_configured"


def test_asks_only_scopes_xero_publishes_and_none_it_deprecated() -> None:
    scopes = document("xero", "scopes")
    asked = SCOPE.split()

    assert set(asked) <= set(scopes["published"])
    assert not set(asked) & set(scopes["deprecated"])
    assert {"offline_access", "accounting.invoices", "accounting.banktransactions"} <= set(asked)


def test_declares_it_can_rewrite_links(make) -> None:
    assert make(XeroConnector).can_rewrite_links is True
