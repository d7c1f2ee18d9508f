"""Xero: administrations are the organisations (tenants) the user connected to the app.

Calls: ``GET https://api.xero.com/Connections`` (the tenants; spelt as Xero's OpenAPI document
and xero-python spell it), then per tenant ``GET /api.xro/2.0/Organisation`` with header
``xero-tenant-id`` (its short code and name). Links: ``Invoice.Url`` and
``BankTransaction.Url`` hold a source document's address; a rewrite reads
``/api.xro/2.0/Invoices`` and ``/BankTransactions`` page by page (``?page=N``) and POSTs the
changed ones back in one call per page (``summarizeErrors=false``, so Xero answers each object
for itself), with an ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import requests

from migrationkit.adapters.connectors._base import PackageConnector, bearer
from migrationkit.adapters.connectors._http import (
    MAX_PAGES,
    Dialect,
    RateLimit,
    patiently,
    retry_after,
)
from migrationkit.adapters.connectors._oauth import OAuthApp
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens

logger = logging.getLogger("migrationkit.connectors")

BASE_URL = "https://api.xero.com"
AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
IDENTITY_URL = "https://identity.xero.com/connect/token"
#: Every scope is one Xero publishes: the granular ``accounting.invoices`` and
#: ``accounting.banktransactions`` (all apps since April 2026, the only ones for apps made
#: since 2 March 2026), ``accounting.settings.read`` for the organisation, ``offline_access``
#: for a refresh token.
SCOPE = "offline_access accounting.invoices accounting.banktransactions accounting.settings.read"
#: A full page of invoices or bank transactions.
PAGE_SIZE: Final = 100
#: (endpoint and the answer's list, the object's id field) of every object with a ``Url``.
LINKED_OBJECTS: Final = (
    ("Invoices", "InvoiceID"),
    ("BankTransactions", "BankTransactionID"),
)


class XeroDialect(Dialect):
    """``{"Message": ..., "Elements": [{"ValidationErrors": [{"Message": ...}]}]}``, or a
    problem document (``Title``, ``Detail``) for authorization failures. A 429 names the limit
    in ``X-Rate-Limit-Problem``; a daily one is not waited for."""

    def rate_limit(self, response: requests.Response, now: float) -> RateLimit:
        problem = response.headers.get("X-Rate-Limit-Problem", "").strip().lower()
        return RateLimit(retry_after(response.headers.get("Retry-After"), now), problem == "day")

    def is_auth_failure(self, response: requests.Response) -> bool:
        # A 403 "AuthenticationUnsuccessful": the token does not reach this organisation.
        if response.status_code == 403:
            return _problem_detail(response) == "AuthenticationUnsuccessful"
        return response.status_code == 401

    def message(self, response: requests.Response) -> str | None:
        body = response.json()
        if not isinstance(body, dict):
            return None
        details = [
            str(error.get("Message"))
            for element in body.get("Elements") or []
            if isinstance(element, dict)
            for error in element.get("ValidationErrors") or []
            if isinstance(error, dict) and error.get("Message")
        ]
        first = body.get("Message") or body.get("Detail") or body.get("Title")
        return "; ".join(([str(first)] if first else []) + details) or None


class XeroConnector(PackageConnector):
    """Xero's organisations as package administrations: id is the tenant id, code the
    organisation's short code, name its name."""

    package: AccountingPackage = AccountingPackage.XERO
    can_rewrite_links: bool = True
    dialect: ClassVar[type[Dialect]] = XeroDialect

    def default_base_url(self) -> str:
        return BASE_URL

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        return OAuthApp(
            authorize_url=AUTHORIZE_URL,
            token_url=IDENTITY_URL,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_url=credentials.redirect_url,
            scope=SCOPE,
            basic_auth=True,
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        return [
            self._organisation(connection, tenant_id) for tenant_id in self._tenants(connection)
        ]

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        # Asking an organisation the user did not connect is a 403; the list says it first.
        if package_admin_id not in self._tenants(connection):
            return None
        return self._organisation(connection, package_admin_id)

    @patiently()  # a worker's call: nobody waits for it
    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        rewritten = 0
        for endpoint, id_field in LINKED_OBJECTS:
            for page in range(1, MAX_PAGES + 1):
                body = self.get_json(
                    connection,
                    f"{self.base_url}/api.xro/2.0/{endpoint}",
                    params={"page": str(page)},
                    headers={"xero-tenant-id": package_admin_id},
                )
                items, last = self.parse(_page, body, endpoint, page)
                changes = self.parse(_changes, items, id_field, links)
                if changes:
                    rewritten += self._update(
                        connection, package_admin_id, endpoint, id_field, changes
                    )
                if last:
                    break
            else:
                raise self.http.malformed()
        return rewritten

    def _tenants(self, connection: Connection) -> list[str]:
        body = self.get_json(connection, f"{self.base_url}/Connections")
        return self.parse(_organisation_tenants, body)

    def _organisation(self, connection: Connection, tenant_id: str) -> PackageAdministration:
        body = self.get_json(
            connection,
            f"{self.base_url}/api.xro/2.0/Organisation",
            headers={"xero-tenant-id": tenant_id},
        )
        return self.parse(_administration, body, tenant_id)

    def _update(
        self,
        connection: Connection,
        tenant_id: str,
        endpoint: str,
        id_field: str,
        changes: list[dict[str, str]],
    ) -> int:
        payload = {endpoint: changes}
        # The same changes give the same key, so a retried POST is applied once by Xero.
        key = hashlib.sha256(json.dumps([tenant_id, payload], sort_keys=True).encode()).hexdigest()

        def send(tokens: OAuthTokens) -> Any:
            response = self.http.send(
                "POST",
                f"{self.base_url}/api.xro/2.0/{endpoint}",
                idempotent=True,
                params={"summarizeErrors": "false"},
                headers={**bearer(tokens), "xero-tenant-id": tenant_id, "Idempotency-Key": key},
                json=payload,
            )
            return self.http.read_json(response)

        body = self.oauth.call(connection, send)
        done, failed = self.parse(_outcome, body, endpoint, id_field)
        if failed:
            logger.warning(
                "Xero kept the old link on %d of %s: %s",
                len(failed),
                endpoint,
                ", ".join(failed),
            )
        return done


def _problem_detail(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("Detail")) if isinstance(body, dict) else None


def _organisation_tenants(body: Any) -> list[str]:
    if not isinstance(body, list):
        raise TypeError("connections is not a list")
    return [str(row["tenantId"]) for row in body if row["tenantType"] == "ORGANISATION"]


def _administration(body: Any, tenant_id: str) -> PackageAdministration:
    organisation = body["Organisations"][0]
    name = str(organisation["Name"])
    return PackageAdministration(
        package_admin_id=tenant_id, code=str(organisation.get("ShortCode") or name), name=name
    )


def _page(body: Any, endpoint: str, page: int) -> tuple[list[Any], bool]:
    """The page's objects, and whether it is the last: by the pagination block when Xero
    sends one, else by a page that is not full."""
    items = body[endpoint]
    if not isinstance(items, list):
        raise TypeError(f"{endpoint} is not a list")
    pagination = body.get("pagination")
    if isinstance(pagination, dict) and "pageCount" in pagination:
        return items, page >= int(pagination["pageCount"])
    return items, len(items) < PAGE_SIZE


def _changes(items: list[Any], id_field: str, links: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {id_field: str(item[id_field]), "Url": links[item["Url"]]}
        for item in items
        if item.get("Url") in links
    ]


def _outcome(body: Any, endpoint: str, id_field: str) -> tuple[int, list[str]]:
    """How many objects Xero updated, and the ids of those it refused."""
    done, failed = 0, []
    for item in body[endpoint]:
        if item.get("StatusAttributeString") == "ERROR" or item.get("ValidationErrors"):
            failed.append(str(item.get(id_field)))
        else:
            done += 1
    return done, failed
