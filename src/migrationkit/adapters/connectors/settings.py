"""The accounting packages' settings that the connectors take: each package's registered
app and how long a call may take. ``migrationkit.config.connector_settings`` reads them from
the environment; a backend may build them itself."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from migrationkit.domain.model import AccountingPackage


@attrs.frozen
class PackageCredentials:
    """One package's registered app: what the package's OAuth2 endpoints know us by."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    #: Where the package sends the user back after the consent (the OAuth2 redirect URI).
    redirect_url: str = ""
    #: Another API address than the package's own (a sandbox, a test server, another version).
    base_url: str | None = None


@attrs.frozen
class ConnectorSettings:
    """The credentials of each package set up on this server, and how long a call may take."""

    packages: Mapping[AccountingPackage, PackageCredentials] = attrs.field(factory=dict)
    timeout_seconds: int = 30

    def credentials(self, package: AccountingPackage) -> PackageCredentials | None:
        """The package's credentials, or ``None`` when it is not set up here."""
        return self.packages.get(package)
