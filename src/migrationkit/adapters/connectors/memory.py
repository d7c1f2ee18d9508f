"""An accounting package held in memory: for the demo, and for tests of embedders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration


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
