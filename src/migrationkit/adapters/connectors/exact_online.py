"""Exact Online (NL): administrations are divisions, read through the REST API's OData.

Calls: ``GET /api/v1/current/Me?$select=CurrentDivision``, then
``GET /api/v1/{division}/system/Divisions`` following ``d.__next`` to the end (existence:
``$filter=Code eq N``). Exact holds no link to an outside document that a move could
rewrite, so the connector declares it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import requests

from migrationkit.adapters.connectors._base import WithoutLinkRewriting
from migrationkit.adapters.connectors._http import MAX_PAGES, Dialect
from migrationkit.adapters.connectors._oauth import OAuthApp
from migrationkit.config import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration

#: The Dutch host; other countries have their own (start.exactonline.be, ...).
BASE_URL = "https://start.exactonline.nl"
_DIVISION_FIELDS = "Code,Description,Status"
#: The reset headers, minutely first: epoch milliseconds, read when nothing remains.
_RESETS = ("X-RateLimit-Minutely-", "X-RateLimit-")


class ExactDialect(Dialect):
    """``{"error":{"code":"","message":{"lang":"","value":"..."}}}``; the limits' resets in
    epoch milliseconds."""

    def message(self, response: requests.Response) -> str | None:
        try:
            return str(response.json()["error"]["message"]["value"]) or None
        except (KeyError, TypeError):
            return None

    def rate_limit_wait(self, response: requests.Response, now: float) -> float | None:
        for prefix in _RESETS:
            reset = response.headers.get(f"{prefix}Reset", "")
            if response.headers.get(f"{prefix}Remaining") == "0" and reset.isdigit():
                return int(reset) / 1000 - now
        return None


class ExactOnlineConnector(WithoutLinkRewriting):
    """Exact Online's divisions as package administrations: id and code are the division
    code, the name its description."""

    package: AccountingPackage = AccountingPackage.EXACT_ONLINE_NL
    dialect: ClassVar[type[Dialect]] = ExactDialect

    def default_base_url(self) -> str:
        return BASE_URL

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        return OAuthApp(
            authorize_url=f"{self.base_url}/api/oauth2/auth",
            token_url=f"{self.base_url}/api/oauth2/token",
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_url=credentials.redirect_url,
            scope="",
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        return self._divisions(connection, {"$select": _DIVISION_FIELDS})

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        # Anything but a number would be a 400, and Exact blocks keys after repeated 4xx.
        if not package_admin_id.isdigit():
            return None
        found = self._divisions(
            connection, {"$select": _DIVISION_FIELDS, "$filter": f"Code eq {int(package_admin_id)}"}
        )
        return found[0] if found else None

    def _divisions(
        self, connection: Connection, params: dict[str, str]
    ) -> list[PackageAdministration]:
        me = self.get_json(
            connection, f"{self.base_url}/api/v1/current/Me", params={"$select": "CurrentDivision"}
        )
        current = self.parse(_current_division, me)
        url = f"{self.base_url}/api/v1/{current}/system/Divisions"
        query: dict[str, str] | None = params
        divisions: list[PackageAdministration] = []
        for _ in range(MAX_PAGES):
            body = self.get_json(connection, url, params=query)
            divisions.extend(self.parse(_divisions, body))
            following = self.parse(_next_page, body)
            if following is None:
                return divisions
            url, query = following, None
        raise self.http.malformed()


def _results(body: Any) -> list[Any]:
    results = body["d"]["results"]
    if not isinstance(results, list):
        raise TypeError("d.results is not a list")
    return results


def _current_division(body: Any) -> int:
    return int(_results(body)[0]["CurrentDivision"])


def _divisions(body: Any) -> list[PackageAdministration]:
    return [
        PackageAdministration(package_admin_id=code, code=code, name=str(row["Description"]))
        for row in _results(body)
        for code in (str(int(row["Code"])),)
    ]


def _next_page(body: Any) -> str | None:
    following = body["d"].get("__next")
    return str(following) if following else None
