"""Picks the connector for a connection's package, among the packages set up here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Final

import requests

from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.connectors._base import Wiring
from migrationkit.adapters.connectors._http import RetryPolicy
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.adapters.connectors.settings import ConnectorSettings, PackageCredentials
from migrationkit.adapters.connectors.twinfield import TwinfieldConnector
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, Connection
from migrationkit.ports import AccountingConnector, Clock, TokenStore

#: The library's connector for each package, made from its credentials and the wiring.
CONNECTOR_CLASSES: Final[
    dict[AccountingPackage, Callable[[PackageCredentials, Wiring], AccountingConnector]]
] = {
    AccountingPackage.EXACT_ONLINE_NL: ExactOnlineConnector,
    AccountingPackage.TWINFIELD: TwinfieldConnector,
    AccountingPackage.BOEKHOUDGEMAK_MULTIVERS: MultiversConnector,
    AccountingPackage.XERO: XeroConnector,
    AccountingPackage.ACCOUNTVIEW: AccountViewConnector,
}


class PackageConnectorRegistry:
    """A ``ConnectorRegistry`` over the given connectors, one per package (a later one
    replaces an earlier one of its package). A connection of a package without one gets
    ``PackageError("package_not_configured")``."""

    def __init__(self, connectors: Iterable[AccountingConnector]) -> None:
        self._connectors = {connector.package: connector for connector in connectors}

    def connector_for(self, connection: Connection) -> AccountingConnector:
        connector = self._connectors.get(connection.package)
        if connector is None:
            raise PackageError("package_not_configured", package=connection.package.label)
        return connector


def make_registry(
    settings: ConnectorSettings,
    tokens: TokenStore,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    connectors: Iterable[AccountingConnector] = (),
) -> PackageConnectorRegistry:
    """The library's connectors for every package ``settings`` has credentials for, sharing
    one HTTP session and the token store; ``connectors`` of the embedding backend take the
    place of the library's for their packages."""
    wiring = Wiring(
        tokens=tokens,
        session=session or requests.Session(),
        timeout_seconds=settings.timeout_seconds,
        clock=clock or SystemClock(),
        retry=retry or RetryPolicy(),
        sleep=sleep,
    )
    library = [
        CONNECTOR_CLASSES[package](credentials, wiring)
        for package, credentials in settings.packages.items()
    ]
    return PackageConnectorRegistry([*library, *connectors])
