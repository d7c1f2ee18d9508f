"""An accounting package held in memory: for the demo, and for tests of embedders."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode

from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens


class InMemoryConnector:
    """One package's administrations per connection, as the package would list them.

    It asks no consent unless made with ``needs_authorization=True``; then a connection is
    connected once a code from ``give_consent`` was traded in, as at a real package."""

    def __init__(
        self,
        package: AccountingPackage,
        *,
        can_rewrite_links: bool = False,
        needs_authorization: bool = False,
    ) -> None:
        self.package = package
        self.can_rewrite_links = can_rewrite_links
        self.needs_authorization = needs_authorization
        self._administrations: dict[int, dict[str, PackageAdministration]] = {}
        #: (connection id, package administration id, links) for every rewrite asked.
        self.rewrites: list[tuple[int, str, dict[str, str]]] = []
        #: Consent codes not traded in yet, each with its connection id.
        self._codes: dict[str, int] = {}
        self._authorized: set[int] = set()
        #: How often each of the package's calls was made (``list_administrations``...), as
        #: a test counts a real package's requests.
        self.calls: Counter[str] = Counter()

    def add_package_administration(
        self, connection_id: int, administration: PackageAdministration
    ) -> None:
        """Makes the package know an administration under a connection's account."""
        self._administrations.setdefault(connection_id, {})[administration.package_admin_id] = (
            administration
        )

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        self.calls["list_administrations"] += 1
        found = self._administrations.get(connection.id, {})
        return sorted(found.values(), key=lambda pa: (pa.code, pa.name))

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        self.calls["find_administration"] += 1
        return self._administrations.get(connection.id, {}).get(package_admin_id)

    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        self.calls["rewrite_links"] += 1
        self.rewrites.append((connection.id, package_admin_id, dict(links)))
        return len(links)

    def authorization_url(self, connection: Connection, state: str) -> str:
        query = urlencode({"connection": connection.id, "state": state})
        return f"https://{self.package.value.lower()}.invalid/consent?{query}"

    def give_consent(self, connection_id: int) -> str:
        """What the user's yes on the package's consent page sends back: a one-use code."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = connection_id
        return code

    def authorize(self, connection: Connection, code: str) -> None:
        if self._codes.get(code) != connection.id:
            raise PackageError("package_auth_expired", package=self.package.label)
        del self._codes[code]
        self._authorized.add(connection.id)

    def is_authorized(self, connection: Connection) -> bool:
        return not self.needs_authorization or connection.id in self._authorized


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
