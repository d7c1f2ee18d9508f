"""A request lists each connection's package once (``PackageListings``)."""

from __future__ import annotations

import pytest

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.services import PackageListings

EXACT = AccountingPackage.EXACT_ONLINE_NL
NOORD = Connection(id=1, environment_id=1, package=EXACT, name="Exact Noord")
ZUID = Connection(id=2, environment_id=2, package=EXACT, name="Exact Zuid")
BAKKERIJ = PackageAdministration("div-1", "1001", "Bakkerij")


@pytest.fixture
def packages() -> InMemoryConnectorRegistry:
    packages = InMemoryConnectorRegistry()
    packages.connector(EXACT).add_package_administration(NOORD.id, BAKKERIJ)
    return packages


def test_each_connection_is_listed_once_while_the_listings_live(
    packages: InMemoryConnectorRegistry,
) -> None:
    listings = PackageListings()

    for _ in range(3):
        assert listings.administrations(packages, NOORD) == (BAKKERIJ,)
        assert listings.administrations(packages, ZUID) == ()

    assert packages.connector(EXACT).calls["list_administrations"] == 2
    assert PackageListings().administrations(packages, NOORD) == (BAKKERIJ,)
    assert packages.connector(EXACT).calls["list_administrations"] == 3


def test_a_forgotten_connection_is_listed_again(packages: InMemoryConnectorRegistry) -> None:
    listings = PackageListings()
    listings.administrations(packages, NOORD)
    later = PackageAdministration("div-2", "1002", "Slagerij")
    packages.connector(EXACT).add_package_administration(NOORD.id, later)

    listings.forget(NOORD.id)

    assert listings.administrations(packages, NOORD) == (BAKKERIJ, later)


def test_a_listing_that_failed_fails_alike_without_asking_again(
    packages: InMemoryConnectorRegistry,
) -> None:
    connector = packages.connector(EXACT)
    asked = []

    def busy(connection: Connection) -> None:
        asked.append(connection.id)
        raise PackageError("package_busy", package=EXACT.label, seconds=30)

    connector.list_administrations = busy  # type: ignore[method-assign]
    listings = PackageListings()

    for _ in range(2):
        with pytest.raises(PackageError) as refused:
            listings.administrations(packages, NOORD)
        assert refused.value.code == "package_busy"
    assert asked == [NOORD.id]
