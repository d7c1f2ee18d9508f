"""Exact Online (NL): administrations are divisions, read through the REST API's OData.

Calls: ``GET /api/v1/current/Me?$select=CurrentDivision``, then
``GET /api/v1/{division}/system/Divisions`` following ``d.__next`` to the end (existence:
``$filter=Code eq N``). A division's ``Code`` is Exact's key (the package id); its ``Hid`` is
the number the office gave it and sees in Exact (the code shown). Exact holds no link to an
outside document that a move could rewrite, so the connector declares it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import requests

from migrationkit.adapters.connectors._base import WithoutLinkRewriting
from migrationkit.adapters.connectors._http import MAX_PAGES, Dialect, RateLimit, retry_after
from migrationkit.adapters.connectors._oauth import OAuthApp
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration

#: The Dutch host; other countries have their own (start.exactonline.be, ...).
BASE_URL = "https://start.exactonline.nl"
_DIVISION_FIELDS = "Code,Hid,Description,Status"


class ExactDialect(Dialect):
    """``{"error":{"code":"","message":{"lang":"","value":"..."}}}``. A 429 carries the limit
    it hit: the minutely headers (``X-RateLimit-Minutely-Remaining`` and ``-Reset``) or, when
    those are absent, the daily ones (``X-RateLimit-Remaining`` and ``-Reset``); resets are
    epoch milliseconds."""

    def message(self, response: requests.Response) -> str | None:
        try:
            return str(response.json()["error"]["message"]["value"]) or None
        except (KeyError, TypeError):
            return None

    def rate_limit(self, response: requests.Response, now: float) -> RateLimit:
        headers = response.headers
        asked = retry_after(headers.get("Retry-After"), now)
        if asked is not None:
            return RateLimit(asked)
        if "X-RateLimit-Minutely-Remaining" in headers:
            return RateLimit(_until(headers.get("X-RateLimit-Minutely-Reset"), now))
        if headers.get("X-RateLimit-Remaining") == "0":
            return RateLimit(_until(headers.get("X-RateLimit-Reset"), now), daily=True)
        return RateLimit()


def _until(reset: str | None, now: float) -> float | None:
    """Seconds until an Exact reset header (epoch milliseconds)."""
    return int(reset) / 1000 - now if reset and reset.isdigit() else None


class ExactOnlineConnector(WithoutLinkRewriting):
    """Exact Online's divisions as package administrations: id is the division's ``Code``,
    code its ``Hid`` (the ``Code`` when it has none or 0), the name its description."""

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
    return [_division(row) for row in _results(body)]


def _division(row: Any) -> PackageAdministration:
    key = str(int(row["Code"]))
    hid = row.get("Hid")
    return PackageAdministration(
        package_admin_id=key,
        code=str(int(hid)) if hid else key,
        name=str(row["Description"]),
    )


def _next_page(body: Any) -> str | None:
    following = body["d"].get("__next")
    return str(following) if following else None
