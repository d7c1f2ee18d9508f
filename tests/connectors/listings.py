"""Each package's whole listing of administrations as its real API answers it, and its token
endpoint: the failure tests run every package through the same cases with these."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import responses
from package_api import CONNECTION_ID, NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, tokens

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.adapters.connectors.twinfield import TwinfieldConnector
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.model import AccountingPackage, PackageAdministration

EXACT_API = "https://start.exactonline.nl/api/v1"
TWINFIELD_LOGIN = "https://login.twinfield.com/auth/authentication"
TWINFIELD_CLUSTER = "https://accounting2.twinfield.com"
UNIT4 = "https://api.online.unit4.nl/V22"
XERO = "https://api.xero.com"
ACCOUNTVIEW = "https://www.accountview.net/api/v3"
TWINFIELD_ACCOUNT = (("cluster_url", TWINFIELD_CLUSTER), ("company_code", "001"))

TENANT_NOORD = "8f3e1c2a-6b4d-4e9f-a1c2-3d4e5f6a7b8c"
TENANT_ZUID = "2b7d9e1f-3a5c-4d6e-8f9a-0b1c2d3e4f5a"


def soap(result: str) -> str:
    """Twinfield's SOAP answer carrying ``result`` (escaped) in ProcessXmlStringResult."""
    escaped = result.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        '<ProcessXmlStringResponse xmlns="http://www.twinfield.com/">'
        f"<ProcessXmlStringResult>{escaped}</ProcessXmlStringResult>"
        "</ProcessXmlStringResponse></soap:Body></soap:Envelope>"
    )


OFFICES = (
    '<offices result="1">'
    '<office name="MORE&amp;Zo Services BV" shortname="Services BV">001</office>'
    '<office name="Bakkerij De Korenbloem" shortname="Korenbloem">NL002</office>'
    "</offices>"
)


@attrs.frozen
class Listing:
    """One package: its connector, its first call, the answers of a whole listing and what
    the connector makes of them, and its token endpoint."""

    cls: type[PackageConnector]
    method: str
    first_url: str
    token_url: str
    register: Callable[[responses.RequestsMock], None]
    expected: list[PackageAdministration]
    account: tuple[tuple[str, str], ...] = ()
    #: Calls a new token brings along (Twinfield asks which cluster it belongs to).
    after_token: Callable[[responses.RequestsMock], None] = lambda api: None

    @property
    def package(self) -> AccountingPackage:
        return self.cls.package

    def prepare(self, store: InMemoryTokenStore) -> None:
        store.save(CONNECTION_ID, tokens(account=self.account))

    def register_refresh(self, api: responses.RequestsMock) -> None:
        api.post(
            self.token_url,
            json={
                "access_token": NEW_ACCESS_TOKEN,
                "token_type": "bearer",
                "expires_in": "600",
                "refresh_token": NEW_REFRESH_TOKEN,
            },
        )
        self.after_token(api)


def _exact(api: responses.RequestsMock) -> None:
    api.get(f"{EXACT_API}/current/Me", json={"d": {"results": [{"CurrentDivision": 4471}]}})
    api.get(
        f"{EXACT_API}/4471/system/Divisions",
        json={
            "d": {"results": [{"Code": 4471, "Description": "Bakkerij De Korenbloem", "Status": 1}]}
        },
    )


def _twinfield(api: responses.RequestsMock) -> None:
    api.post(f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx", body=soap(OFFICES))


def _twinfield_validation(api: responses.RequestsMock) -> None:
    api.get(
        f"{TWINFIELD_LOGIN}/connect/accesstokenvalidation",
        json={
            "auth_time": 1733000000,
            "exp": 1733003600,
            "twf.organisationId": "5f1b1a4e-1c2d-4e3f-9a8b-7c6d5e4f3a2b",
            "twf.organisationCode": "NOORD",
            "twf.clusterUrl": TWINFIELD_CLUSTER,
        },
    )


def _multivers(api: responses.RequestsMock) -> None:
    api.get(
        f"{UNIT4}/api/AdministrationInfoList",
        json=[
            {
                "administrationId": "MVL48759",
                "code": "3001",
                "description": "Hoveniersbedrijf Groen",
                "shortName": "Groen",
                "groupId": "",
                "onlineState": 1,
            }
        ],
    )


def _xero(api: responses.RequestsMock) -> None:
    api.get(
        f"{XERO}/connections",
        json=[
            {
                "id": "e1eede29-f875-4a5d-8470-17f6a29a88b1",
                "authEventId": "d99ecdfe-391d-43d2-b834-17636ba90e8d",
                "tenantId": TENANT_NOORD,
                "tenantType": "ORGANISATION",
                "tenantName": "Fietsen Jansen BV",
                "createdDateUtc": "2026-10-01T09:02:41.1234567",
                "updatedDateUtc": "2026-10-01T09:02:41.1234567",
            }
        ],
    )
    api.get(
        f"{XERO}/api.xro/2.0/Organisation",
        json={
            "Id": "b7f9c0a2-1d3e-4f5a-8b6c-7d8e9f0a1b2c",
            "Status": "OK",
            "ProviderName": "migrationkit",
            "DateTimeUTC": "/Date(1764061500000)/",
            "Organisations": [
                {
                    "OrganisationID": TENANT_NOORD,
                    "Name": "Fietsen Jansen BV",
                    "ShortCode": "!fJ4nS",
                    "CountryCode": "NL",
                    "BaseCurrency": "EUR",
                }
            ],
        },
    )


def _accountview(api: responses.RequestsMock) -> None:
    api.get(
        f"{ACCOUNTVIEW}/companies",
        json=[{"Id": "c0ffee01", "Description": "Kantoor Noord", "Code": "NOORD"}],
    )
    api.get(
        f"{ACCOUNTVIEW}/accountviewsystemdata",
        json={"ADM_LIST": [{"ADM_CODE": "5001", "ADM_DESC": "Drukkerij Van Dam", "ADM_TYPE": 1}]},
    )


LISTINGS = {
    listing.package: listing
    for listing in (
        Listing(
            ExactOnlineConnector,
            "GET",
            f"{EXACT_API}/current/Me",
            "https://start.exactonline.nl/api/oauth2/token",
            _exact,
            [PackageAdministration("4471", "4471", "Bakkerij De Korenbloem")],
        ),
        Listing(
            TwinfieldConnector,
            "POST",
            f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx",
            f"{TWINFIELD_LOGIN}/connect/token",
            _twinfield,
            [
                PackageAdministration("001", "001", "MORE&Zo Services BV"),
                PackageAdministration("NL002", "NL002", "Bakkerij De Korenbloem"),
            ],
            account=TWINFIELD_ACCOUNT,
            after_token=_twinfield_validation,
        ),
        Listing(
            MultiversConnector,
            "GET",
            f"{UNIT4}/api/AdministrationInfoList",
            f"{UNIT4}/OAuth/Token",
            _multivers,
            [PackageAdministration("MVL48759", "3001", "Hoveniersbedrijf Groen")],
        ),
        Listing(
            XeroConnector,
            "GET",
            f"{XERO}/connections",
            "https://identity.xero.com/connect/token",
            _xero,
            [PackageAdministration(TENANT_NOORD, "!fJ4nS", "Fietsen Jansen BV")],
        ),
        Listing(
            AccountViewConnector,
            "GET",
            f"{ACCOUNTVIEW}/companies",
            f"{ACCOUNTVIEW}/token",
            _accountview,
            [PackageAdministration("c0ffee01:5001", "5001", "Drukkerij Van Dam")],
        ),
    )
}
