"""Xero: tenants from /connections, organisations per tenant, and links rewritten on
invoices and bank transactions page by page."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from listings import TENANT_NOORD, TENANT_ZUID, XERO
from package_api import ACCESS_TOKEN, connection, query

from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

XERO_CONNECTION = connection(AccountingPackage.XERO)
INVOICES = f"{XERO}/api.xro/2.0/Invoices"
BANK = f"{XERO}/api.xro/2.0/BankTransactions"
OLD = "https://archief-noord.example.nl/d/"
NEW = "https://archief-zuid.example.nl/d/"


def tenant(tenant_id: str, name: str, kind: str = "ORGANISATION") -> dict[str, str]:
    return {
        "id": f"c-{tenant_id}",
        "tenantId": tenant_id,
        "tenantType": kind,
        "tenantName": name,
        "createdDateUtc": "2026-10-01T09:02:41.1234567",
        "updatedDateUtc": "2026-10-01T09:02:41.1234567",
    }


def organisation(tenant_id: str, name: str, short_code: str) -> dict[str, Any]:
    return {
        "Status": "OK",
        "Organisations": [{"OrganisationID": tenant_id, "Name": name, "ShortCode": short_code}],
    }


CONNECTIONS = [
    tenant(TENANT_NOORD, "Fietsen Jansen BV"),
    tenant("0a1b2c3d-practice", "Kantoor Noord Practice", "PRACTICE"),
    tenant(TENANT_ZUID, "Drukkerij Van Dam"),
]


def test_lists_the_organisations_asking_each_with_its_tenant_header(
    make, api: responses.RequestsMock
) -> None:
    api.get(f"{XERO}/connections", json=CONNECTIONS)
    api.get(
        f"{XERO}/api.xro/2.0/Organisation",
        json=organisation(TENANT_NOORD, "Fietsen Jansen BV", "!fJ4nS"),
    )
    api.get(
        f"{XERO}/api.xro/2.0/Organisation",
        json=organisation(TENANT_ZUID, "Drukkerij Van Dam", "!dVd01"),
    )

    found = make(XeroConnector).list_administrations(XERO_CONNECTION)

    assert found == [
        PackageAdministration(TENANT_NOORD, "!fJ4nS", "Fietsen Jansen BV"),
        PackageAdministration(TENANT_ZUID, "!dVd01", "Drukkerij Van Dam"),
    ]
    assert "xero-tenant-id" not in api.calls[0].request.headers
    assert [call.request.headers.get("xero-tenant-id") for call in api.calls[1:]] == [
        TENANT_NOORD,
        TENANT_ZUID,
    ]
    assert all(
        call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for call in api.calls
    )


def test_an_unconnected_tenant_is_none_without_asking_it(make, api: responses.RequestsMock) -> None:
    api.get(f"{XERO}/connections", json=CONNECTIONS)

    assert make(XeroConnector).find_administration(XERO_CONNECTION, "ffffffff-unknown") is None
    assert len(api.calls) == 1


def invoice(number: int, url: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Type": "ACCPAY",
        "InvoiceID": f"inv-{number:04d}",
        "InvoiceNumber": f"INK-{number}",
        "Status": "AUTHORISED",
        "Total": 121.0,
    }
    if url is not None:
        found["Url"] = url
    return found


def test_rewrites_invoice_and_bank_transaction_links_on_every_page(
    make, api: responses.RequestsMock
) -> None:
    links = {f"{OLD}1": f"{NEW}1", f"{OLD}2": f"{NEW}2", f"{OLD}3": f"{NEW}3"}
    first_page = [invoice(n, f"{OLD}1" if n == 5 else None) for n in range(100)]
    api.get(
        INVOICES,
        json={
            "pagination": {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 101},
            "Invoices": first_page,
        },
    )
    api.post(
        INVOICES, json={"Invoices": [{"InvoiceID": "inv-0005", "StatusAttributeString": "OK"}]}
    )
    api.get(
        INVOICES,
        json={
            "pagination": {"page": 2, "pageSize": 100, "pageCount": 2, "itemCount": 101},
            "Invoices": [invoice(100, f"{OLD}2")],
        },
    )
    api.post(
        INVOICES, json={"Invoices": [{"InvoiceID": "inv-0100", "StatusAttributeString": "OK"}]}
    )
    api.get(
        BANK,
        json={
            "BankTransactions": [
                {"BankTransactionID": "bt-1", "Type": "SPEND", "Url": f"{OLD}3"},
                {
                    "BankTransactionID": "bt-2",
                    "Type": "SPEND",
                    "Url": "https://elders.example.com/x",
                },
            ]
        },
    )
    api.post(
        BANK,
        json={
            "BankTransactions": [
                {
                    "BankTransactionID": "bt-1",
                    "StatusAttributeString": "ERROR",
                    "ValidationErrors": [
                        {"Message": "A reconciled Bank Transaction cannot be edited."}
                    ],
                }
            ]
        },
    )

    rewritten = make(XeroConnector).rewrite_links(XERO_CONNECTION, TENANT_NOORD, links)

    assert rewritten == 2, "the reconciled bank transaction kept its link"
    gets = [call for call in api.calls if call.request.method == "GET"]
    posts = [call for call in api.calls if call.request.method == "POST"]
    assert [(call.request.url.split("?")[0], query(call)["page"]) for call in gets] == [
        (INVOICES, ["1"]),
        (INVOICES, ["2"]),
        (BANK, ["1"]),
    ]
    assert [json.loads(call.request.body) for call in posts] == [
        {"Invoices": [{"InvoiceID": "inv-0005", "Url": f"{NEW}1"}]},
        {"Invoices": [{"InvoiceID": "inv-0100", "Url": f"{NEW}2"}]},
        {"BankTransactions": [{"BankTransactionID": "bt-1", "Url": f"{NEW}3"}]},
    ]
    for call in api.calls:
        assert call.request.headers["xero-tenant-id"] == TENANT_NOORD
    for call in posts:
        assert query(call) == {"summarizeErrors": ["false"]}
        assert len(call.request.headers["Idempotency-Key"]) == 64
    assert len({call.request.headers["Idempotency-Key"] for call in posts}) == 3


def test_a_validation_error_carries_xeros_messages(make, api: responses.RequestsMock) -> None:
    api.get(INVOICES, json={"Invoices": [invoice(1, f"{OLD}1")]})
    api.post(
        INVOICES,
        status=400,
        json={
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [
                {"ValidationErrors": [{"Message": "Invoice not of valid status for modification"}]}
            ],
        },
    )

    with pytest.raises(PackageError) as caught:
        make(XeroConnector).rewrite_links(XERO_CONNECTION, TENANT_NOORD, {f"{OLD}1": f"{NEW}1"})

    assert caught.value.code == "package_rejected"
    assert caught.value.params["detail"] == (
        "A validation exception occurred; Invoice not of valid status for modification"
    )
    assert len(api.calls) == 2


def test_a_daily_limit_is_not_waited_for(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.get(
        f"{XERO}/connections",
        status=429,
        headers={
            "Retry-After": "41000",
            "X-Rate-Limit-Problem": "day",
            "X-DayLimit-Remaining": "0",
        },
    )

    with pytest.raises(PackageError) as caught:
        make(XeroConnector).list_administrations(XERO_CONNECTION)

    assert caught.value.code == "package_rate_limited"
    assert waits == []


def test_declares_it_can_rewrite_links(make) -> None:
    assert make(XeroConnector).can_rewrite_links is True
