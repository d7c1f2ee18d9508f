"""AccountView, through the AccountView Net web API: administrations are the ADM_LIST
entries of each company the app may reach.

Calls: ``GET {base}/companies`` (``Id``, ``Code``, ``Description``), then per company
``GET {base}/accountviewsystemdata?businessobject=ADL&pagesize=..&Fields=ADM_CODE,ADM_DESC``
(the parameter names as omniboost/go-accountview.net sends them) with header
``X-Company: {Id}``. A connection whose account names a ``company`` lists only that one.
AccountView may answer an error with a 200 (``ErrorType``, ``ErrorMessage``): the user reads
its message. No endpoint to read or write a document link is known, so the connector declares
it cannot rewrite links.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import requests

from migrationkit.adapters.connectors._base import WithoutLinkRewriting
from migrationkit.adapters.connectors._http import Dialect
from migrationkit.adapters.connectors._oauth import OAuthApp
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration

logger = logging.getLogger("migrationkit.connectors")

BASE_URL = "https://www.accountview.net/api/v3"
#: How many administrations one ADM_LIST call asks for. How to ask for the next page is not
#: documented; a full page is logged as possibly cut short.
PAGE_SIZE: Final = 1000
#: Separates the company id from the administration code in a package administration id.
SEPARATOR: Final = ":"


class AccountViewDialect(Dialect):
    """``{"ErrorType": "AccountViewError", "ErrorNumbers": null, "ErrorMessage": ".."}``, in a
    failed answer or in one that reports success."""

    def message(self, response: requests.Response) -> str | None:
        body = response.json()
        if not isinstance(body, dict):
            return None
        return str(body.get("ErrorMessage") or body.get("ErrorType") or "") or None

    def error_in_answer(self, response: requests.Response) -> str | None:
        return self.message(response)


class AccountViewConnector(WithoutLinkRewriting):
    """AccountView's administrations: id is ``{company id}:{ADM_CODE}``, code the
    ADM_CODE, name the ADM_DESC."""

    package: AccountingPackage = AccountingPackage.ACCOUNTVIEW
    dialect: ClassVar[type[Dialect]] = AccountViewDialect

    def default_base_url(self) -> str:
        return BASE_URL

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        return OAuthApp(
            authorize_url=f"{self.base_url}/authorize",
            token_url=f"{self.base_url}/token",
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_url=credentials.redirect_url,
            scope="",
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        return [
            administration
            for company in self._companies(connection)
            for administration in self._administrations(connection, company)
        ]

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        company, separator, code = package_admin_id.partition(SEPARATOR)
        if not separator or company not in self._companies(connection):
            return None
        return next(
            (found for found in self._administrations(connection, company) if found.code == code),
            None,
        )

    def _companies(self, connection: Connection) -> list[str]:
        """The ids of the companies this connection covers."""
        companies = self.parse(
            _company_ids, self.get_json(connection, f"{self.base_url}/companies")
        )
        chosen = self.oauth.account_value(connection, "company")
        return [company for company in companies if chosen in (None, company)]

    def _administrations(self, connection: Connection, company: str) -> list[PackageAdministration]:
        body = self.get_json(
            connection,
            f"{self.base_url}/accountviewsystemdata",
            params={
                "businessobject": "ADL",
                "pagesize": str(PAGE_SIZE),
                "Fields": "ADM_CODE,ADM_DESC",
            },
            headers={"X-Company": company},
        )
        found = self.parse(_adm_list, body, company)
        if len(found) >= PAGE_SIZE:
            logger.warning(
                "AccountView company %s answered a full page of %d administrations; more may exist",
                company,
                PAGE_SIZE,
            )
        return found


def _company_ids(body: Any) -> list[str]:
    if not isinstance(body, list):
        raise TypeError("companies is not a list")
    return [str(company["Id"]) for company in body]


def _adm_list(body: Any, company: str) -> list[PackageAdministration]:
    rows = body["ADM_LIST"]
    if not isinstance(rows, list):
        raise TypeError("ADM_LIST is not a list")
    return [
        PackageAdministration(
            package_admin_id=f"{company}{SEPARATOR}{row['ADM_CODE']}",
            code=str(row["ADM_CODE"]),
            name=str(row["ADM_DESC"]),
        )
        for row in rows
    ]
