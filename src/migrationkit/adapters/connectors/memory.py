"""An accounting package held in memory: for the demo, and for tests of embedders."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens


class InMemoryConnector:
    """One package's administrations per connection, as the package would list them."""

    def __init__(self, package: AccountingPackage, *, can_rewrite_links: bool = False) -> None:
        self.package = package
        self.can_rewrite_links = can_rewrite_links
        self._administrations: dict[int, dict[str, PackageAdministration]] = {}
        #: (connection id, package administration id, links) for every rewrite asked.
        self.rewrites: list[tuple[int, str, dict[str, str]]] = []

    def add_package_administration(
        self, connection_id: int, administration: PackageAdministration
    ) -> None:
        """Makes the package know an administration under a connection's account."""
        self._administrations.setdefault(connection_id, {})[administration.package_admin_id] = (
            administration
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        found = self._administrations.get(connection.id, {})
        return sorted(found.values(), key=lambda pa: (pa.code, pa.name))

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        return self._administrations.get(connection.id, {}).get(package_admin_id)

    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        self.rewrites.append((connection.id, package_admin_id, dict(links)))
        return len(links)


class InMemoryConnectorRegistry:
    """Hands out one in-memory connector per package, made on first use."""

    def __init__(self) -> None:
        self._connectors: dict[AccountingPackage, InMemoryConnector] = {}

    def connector(self, package: AccountingPackage) -> InMemoryConnector:
        if package not in self._connectors:
            self._connectors[package] = InMemoryConnector(package)
        return self._connectors[package]

    def connector_for(self, connection: Connection) -> InMemoryConnector:
        return self.connector(connection.package)


class InMemoryTokenStore:
    """A ``TokenStore`` in memory, for one process: ``rotate`` holds one lock over the
    refresh, as the SQL store holds the row."""

    def __init__(self) -> None:
        self._tokens: dict[int, OAuthTokens] = {}
        self._lock = threading.Lock()
        #: How many times each connection's tokens were stored (the SQL store's version).
        self.versions: dict[int, int] = {}

    def load(self, connection_id: int) -> OAuthTokens | None:
        with self._lock:
            return self._tokens.get(connection_id)

    def save(self, connection_id: int, tokens: OAuthTokens) -> None:
        with self._lock:
            self._store(connection_id, tokens)

    def rotate(
        self,
        connection_id: int,
        spent: OAuthTokens,
        refresh: Callable[[OAuthTokens], OAuthTokens],
    ) -> OAuthTokens:
        with self._lock:
            stored = self._tokens.get(connection_id)
            if stored is not None and stored.refresh_token != spent.refresh_token:
                return stored
            fresh = refresh(stored or spent)
            self._store(connection_id, fresh)
            return fresh

    def _store(self, connection_id: int, tokens: OAuthTokens) -> None:
        self._tokens[connection_id] = tokens
        self.versions[connection_id] = self.versions.get(connection_id, 0) + 1
