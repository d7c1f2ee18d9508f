"""Each package's whole listing of administrations as its published answers show it, its
token endpoint, and its own answers to a refused token and to too many calls: the failure
tests run every package through the same cases with these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import responses
from package_api import CONNECTION_ID, NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, tokens
from published import answer, document
from responses import matchers

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.adapters.connectors.twinfield import TwinfieldConnector
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.model import AccountingPackage, PackageAdministration
from migrationkit.testing import FakeClock

EXACT_API = "https://start.exactonline.nl/api/v1"
EXACT_DIVISIONS = f"{EXACT_API}/4471/system/Divisions"
TWINFIELD_LOGIN = "https://login.twinfield.com/auth/authentication"
#: The cluster of the published token validation answer.
TWINFIELD_CLUSTER = document("twinfield", "token_validation")["twf.clusterUrl"]
UNIT4 = "https://api.online.unit4.nl/V22"
XERO = "https://api.xero.com"
ACCOUNTVIEW = "https://www.accountview.net/api/v3"
TWINFIELD_ACCOUNT = (("cluster_url", TWINFIELD_CLUSTER), ("company_code", "001"))

#: The organisations of Xero's published connections answer, and of the two published
#: Organisation answers.
XERO_TENANTS = [row["tenantId"] for row in document("xero", "connections")]
XERO_DEMO = document("xero", "organisation_demo")["Organisations"][0]
XERO_EXAMPLE = document("xero", "organisation_example")["Organisations"][0]

#: A 429 of a package that publishes none: the standard Retry-After (RFC 9110 10.2.3).
GENERIC_RETRY_AFTER = 7.0


def token_answer(package: str) -> dict[str, Any]:
    """The package's token answer, carrying the tests' new tokens."""
    body = {
        **document(package, "token"),
        "access_token": NEW_ACCESS_TOKEN,
        "refresh_token": NEW_REFRESH_TOKEN,
    }
    return answer(package, "token", json_body=body)


def exact_reset(clock: FakeClock, seconds: float) -> str:
    """An Exact reset header ``seconds`` after the clock's now (epoch milliseconds)."""
    return str(int((clock.now().timestamp() + seconds) * 1000))


@attrs.frozen
class Listing:
    """One package: its connector, its first call, the answers of a whole listing and what
    the connector makes of them, its token endpoint, and its own refusals."""

    cls: type[PackageConnector]
    fixtures: str
    method: str
    first_url: str
    token_url: str
    register: Callable[[responses.RequestsMock], None]
    expected: list[PackageAdministration]
    account: tuple[tuple[str, str], ...] = ()
    #: Calls a new token brings along (Twinfield asks which cluster it belongs to).
    after_token: Callable[[responses.RequestsMock], None] = lambda api: None
    #: The package's own answer to a refused token (a bare 401 where none is published).
    refused_token: Callable[[], dict[str, Any]] = lambda: {"status": 401, "body": ""}
    #: The package's own 429 and the wait it asks for (a bare Retry-After where none is
    #: published).
    rate_limited: Callable[[FakeClock], tuple[dict[str, Any], float]] = lambda clock: (
        {"status": 429, "headers": {"Retry-After": "7"}, "body": ""},
        GENERIC_RETRY_AFTER,
    )

    @property
    def package(self) -> AccountingPackage:
        return self.cls.package

    def prepare(self, store: InMemoryTokenStore) -> None:
        store.save(CONNECTION_ID, tokens(account=self.account))

    def register_refresh(self, api: responses.RequestsMock) -> None:
        api.post(self.token_url, **token_answer(self.fixtures))
        self.after_token(api)


def _exact(api: responses.RequestsMock) -> None:
    api.get(f"{EXACT_API}/current/Me", **answer("exact_online", "me"))
    api.get(
        EXACT_DIVISIONS,
        match=[matchers.query_param_matcher({"$select": "Code,Hid,Description,Status"})],
        **answer("exact_online", "divisions_page1"),
    )
    api.get(
        document("exact_online", "divisions_page1")["d"]["__next"],
        **answer("exact_online", "divisions_page2"),
    )


def _exact_rate_limited(clock: FakeClock) -> tuple[dict[str, Any], float]:
    reset = exact_reset(clock, 12.5)
    headers = {"X-RateLimit-Minutely-Reset": reset}
    return answer("exact_online", "rate_limited_minutely", headers=headers), 12.5


def _twinfield(api: responses.RequestsMock) -> None:
    api.post(f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx", **answer("twinfield", "offices"))


def _twinfield_validation(api: responses.RequestsMock) -> None:
    api.get(
        f"{TWINFIELD_LOGIN}/connect/accesstokenvalidation",
        **answer("twinfield", "token_validation"),
    )


def _multivers(api: responses.RequestsMock) -> None:
    api.get(
        f"{UNIT4}/api/AdministrationInfoList", **answer("multivers", "administration_info_list")
    )


def _xero(api: responses.RequestsMock) -> None:
    api.get(f"{XERO}/Connections", **answer("xero", "connections"))
    api.get(f"{XERO}/api.xro/2.0/Organisation", **answer("xero", "organisation_demo"))
    api.get(f"{XERO}/api.xro/2.0/Organisation", **answer("xero", "organisation_example"))


def _accountview(api: responses.RequestsMock) -> None:
    api.get(f"{ACCOUNTVIEW}/companies", **answer("accountview", "companies"))
    api.get(f"{ACCOUNTVIEW}/accountviewsystemdata", **answer("accountview", "adm_list"))
    api.get(f"{ACCOUNTVIEW}/accountviewsystemdata", **answer("accountview", "adm_list_archive"))


LISTINGS = {
    listing.package: listing
    for listing in (
        Listing(
            ExactOnlineConnector,
            "exact_online",
            "GET",
            f"{EXACT_API}/current/Me",
            "https://start.exactonline.nl/api/oauth2/token",
            _exact,
            [
                PackageAdministration("4471", "12", "Bakkerij De Korenbloem"),
                PackageAdministration("4472", "13", "Fietsen Jansen BV"),
                PackageAdministration("5001", "5001", "Hoveniersbedrijf Groen"),
            ],
            rate_limited=_exact_rate_limited,
        ),
        Listing(
            TwinfieldConnector,
            "twinfield",
            "POST",
            f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx",
            f"{TWINFIELD_LOGIN}/connect/token",
            _twinfield,
            [
                PackageAdministration("001", "001", "MORE&Zo Services BV"),
                PackageAdministration("010", "010", "More&Zo Holding"),
            ],
            account=TWINFIELD_ACCOUNT,
            after_token=_twinfield_validation,
            refused_token=lambda: answer("twinfield", "fault_token_invalid"),
            rate_limited=lambda clock: (answer("twinfield", "rate_limited"), 3.0),
        ),
        Listing(
            MultiversConnector,
            "multivers",
            "GET",
            f"{UNIT4}/api/AdministrationInfoList",
            f"{UNIT4}/OAuth/Token",
            _multivers,
            [
                PackageAdministration("MVL48759", "3001", "Hoveniersbedrijf Groen"),
                PackageAdministration("MVL48760", "Wit", "Schildersbedrijf Wit"),
            ],
        ),
        Listing(
            XeroConnector,
            "xero",
            "GET",
            f"{XERO}/Connections",
            "https://identity.xero.com/connect/token",
            _xero,
            [
                PackageAdministration(XERO_TENANTS[0], XERO_DEMO["ShortCode"], XERO_DEMO["Name"]),
                PackageAdministration(
                    XERO_TENANTS[1], XERO_EXAMPLE["ShortCode"], XERO_EXAMPLE["Name"]
                ),
            ],
            refused_token=lambda: answer("xero", "token_expired"),
            rate_limited=lambda clock: (answer("xero", "rate_limited_minute"), 7.0),
        ),
        Listing(
            AccountViewConnector,
            "accountview",
            "GET",
            f"{ACCOUNTVIEW}/companies",
            f"{ACCOUNTVIEW}/token",
            _accountview,
            [
                PackageAdministration("c0ffee01:5001", "5001", "Drukkerij Van Dam"),
                PackageAdministration("c0ffee01:5002", "5002", "Garage Smit"),
                PackageAdministration("c0ffee02:4100", "4100", "Archief 2019"),
            ],
        ),
    )
}
