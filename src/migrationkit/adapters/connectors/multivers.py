"""Boekhoudgemak & Multivers, on the Unit4 API: administrations are Multivers databases.

Calls: ``GET {base}/api/AdministrationInfoList`` (every administration; existence is read
from the same list, since what ``AdministrationInfo/{id}`` answers for an unknown id is not
documented). Links: a DmDocument's ``documentLink`` holds a document's address. A rewrite uses
published routes only: ``GET {base}/api/{database}/DmDocumentList`` for the documents,
``GET {base}/api/{database}/DmDocument/{reference}`` for each whose link is an old address,
and ``PUT`` of that DmDocument, with the new address, to the same route; a document with
``canChange: false`` is skipped. What DmDocumentList answers is not published (its entries are
taken to carry ``reference`` and ``documentLink``); the DmDocument shape is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from migrationkit.adapters.connectors._base import PackageConnector, bearer
from migrationkit.adapters.connectors._http import Dialect, patiently
from migrationkit.adapters.connectors._oauth import OAuthApp
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens

logger = logging.getLogger("migrationkit.connectors")

#: The API's newest version seen; MIGRATIONKIT_BOEKHOUDGEMAK_MULTIVERS_BASE_URL picks another.
BASE_URL = "https://api.online.unit4.nl/V22"
SCOPE = "http://UNIT4.Multivers.API/Web/WebApi/*"


class Unit4Dialect(Dialect):
    """``{"messages": [{"exceptionId", "Message", "messageType", "path"}]}``."""

    def message(self, response: requests.Response) -> str | None:
        body = response.json()
        if not isinstance(body, dict):
            return None
        messages = [
            str(entry.get("Message") or entry.get("message"))
            for entry in body.get("messages") or []
            if isinstance(entry, dict) and (entry.get("Message") or entry.get("message"))
        ]
        return "; ".join(messages) or None


class MultiversConnector(PackageConnector):
    """Multivers' administrations as package administrations: id is the administration id
    (its database), code its code, name its description."""

    package: AccountingPackage = AccountingPackage.BOEKHOUDGEMAK_MULTIVERS
    can_rewrite_links: bool = True
    dialect: ClassVar[type[Dialect]] = Unit4Dialect

    def default_base_url(self) -> str:
        return BASE_URL

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        return OAuthApp(
            authorize_url=f"{self.base_url}/OAuth/Authorize",
            token_url=f"{self.base_url}/OAuth/Token",
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_url=credentials.redirect_url,
            scope=SCOPE,
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        body = self.get_json(connection, f"{self.base_url}/api/AdministrationInfoList")
        return self.parse(_administrations, body)

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        return next(
            (
                found
                for found in self.list_administrations(connection)
                if found.package_admin_id == package_admin_id
            ),
            None,
        )

    @patiently()  # a worker's call: nobody waits for it
    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        database = quote(package_admin_id, safe="")
        body = self.get_json(connection, f"{self.base_url}/api/{database}/DmDocumentList")
        rewritten = 0
        for listed in self.parse(_documents, body, "DmDocumentList"):
            if listed["documentLink"] not in links:
                continue
            url = f"{self.base_url}/api/{database}/DmDocument/{quote(listed['reference'], safe='')}"
            (document,) = self.parse(_documents, [self.get_json(connection, url)], "DmDocument")
            old = document["documentLink"]
            if old not in links:
                continue
            if document.get("canChange") is False:
                logger.warning(
                    "Multivers does not let document %s's link change: %s",
                    document["reference"],
                    document.get("cannotChangeReason") or "no reason given",
                )
                continue
            self._put(connection, url, {**document, "documentLink": links[old]})
            rewritten += 1
        return rewritten

    def _put(self, connection: Connection, url: str, document: dict[str, Any]) -> None:
        def send(tokens: OAuthTokens) -> None:
            # Putting the same link twice leaves it the same: safe to retry.
            self.http.send("PUT", url, idempotent=True, headers=bearer(tokens), json=document)

        self.oauth.call(connection, send)


def _administrations(body: Any) -> list[PackageAdministration]:
    if not isinstance(body, list):
        raise TypeError("AdministrationInfoList is not a list")
    return [
        PackageAdministration(
            package_admin_id=str(row["administrationId"]),
            code=str(row.get("code") or row.get("shortName") or row["administrationId"]),
            name=str(row["description"]),
        )
        for row in body
    ]


def _documents(body: Any, what: str) -> list[dict[str, Any]]:
    """The DmDocuments of an answer, each with at least a string ``reference`` and
    ``documentLink``."""
    if not isinstance(body, list):
        raise TypeError(f"{what} is not a list")
    for document in body:
        if not isinstance(document["reference"], str) or not isinstance(
            document["documentLink"], str
        ):
            raise TypeError(f"a {what} without reference or documentLink")
    return body
