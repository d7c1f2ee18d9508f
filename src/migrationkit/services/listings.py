"""What a connection's accounting package lists, asked once per connection.

Listing a package's administrations is its dearest call (Exact Online: at least two HTTP
requests, more for every 60 administrations), and a page of an offer of 300 administrations
needs the same listing for each: so a request asks the package once per connection, and
looks up every administration it needs in that one listing.
"""

from __future__ import annotations

from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import Connection, PackageAdministration
from migrationkit.ports import ConnectorRegistry


class PackageListings:
    """The listings made while this object lives, by connection. An entrypoint gives each
    request its own (``attrs.evolve(deps, listings=PackageListings())``): a page and the use
    cases it calls then list each connection once, and the next request asks the package
    again, so an administration just added in the package shows at once. A listing that
    failed fails alike while this object lives (a busy package is not asked again within
    the request)."""

    def __init__(self) -> None:
        self._listed: dict[int, tuple[PackageAdministration, ...] | MigrationError] = {}

    def administrations(
        self, connectors: ConnectorRegistry, connection: Connection
    ) -> tuple[PackageAdministration, ...]:
        """Every administration of the connection's account, as its package lists them."""
        if connection.id not in self._listed:
            try:
                connector = connectors.connector_for(connection)
                self._listed[connection.id] = tuple(connector.list_administrations(connection))
            except MigrationError as error:
                self._listed[connection.id] = error
        listed = self._listed[connection.id]
        if isinstance(listed, MigrationError):
            raise listed
        return listed

    def forget(self, connection_id: int) -> None:
        """The connection now reaches another account or was linked anew (a relink, a
        consent): its next listing asks the package."""
        self._listed.pop(connection_id, None)
