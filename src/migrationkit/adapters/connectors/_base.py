"""What the package connectors share: how one is built, the user's consent (OAuth2), calls
with the connection's token, and the declared 'no' of a package that cannot hold links to
outside documents."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import attrs
import requests

from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.connectors._http import Dialect, PackageHttp, RetryPolicy
from migrationkit.adapters.connectors._oauth import Describe, OAuthApp, OAuthClient
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, Connection
from migrationkit.ports import Clock, OAuthTokens, TokenStore

logger = logging.getLogger("migrationkit.connectors")

T = TypeVar("T")


@attrs.frozen
class Wiring:
    """What every connector is built with: the token store, one shared HTTP session, the
    clock, and how long calls and waits may take (``sleep`` is swapped in tests)."""

    tokens: TokenStore
    session: requests.Session = attrs.field(factory=requests.Session)
    clock: Clock = attrs.field(factory=SystemClock)
    timeout_seconds: float = 30.0
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep


def bearer(tokens: OAuthTokens) -> dict[str, str]:
    """The headers of a JSON call made with the connection's access token."""
    return {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}


class PackageConnector:
    """A connector on one package's web API, with its OAuth2 client and HTTP sender.

    A subclass names its package and its OAuth2 endpoints (``app``) and may bring a
    ``Dialect`` for the package's error format, a ``describe`` for what a new token tells
    about the account and a ``consent_extra`` for its consent page."""

    package: AccountingPackage
    can_rewrite_links: bool
    #: Every package here asks the user's consent (OAuth2) before it answers.
    needs_authorization: bool = True
    dialect: ClassVar[type[Dialect]] = Dialect

    def __init__(self, credentials: PackageCredentials, wiring: Wiring) -> None:
        self.base_url = (credentials.base_url or self.default_base_url()).rstrip("/")
        self.http = PackageHttp(
            self.package,
            dialect=self.dialect(),
            session=wiring.session,
            timeout_seconds=wiring.timeout_seconds,
            retry=wiring.retry,
            sleep=wiring.sleep,
            now=lambda: wiring.clock.now().timestamp(),
        )
        self.oauth = OAuthClient(
            self.app(credentials), self.http, wiring.tokens, wiring.clock, describe=self.describe()
        )

    def default_base_url(self) -> str:
        """The package's own API address."""
        raise NotImplementedError

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        """The package's OAuth2 endpoints with this server's app."""
        raise NotImplementedError

    def describe(self) -> Describe | None:
        """Reads the account's details from a new access token, if the package needs that."""
        return None

    # --- the consent (ports.ConnectsByOAuth) ---------------------------------------------

    def authorization_url(self, connection: Connection, state: str) -> str:
        """The package's consent page for this server's app; refused while the app has no
        registered address to come back to (``MIGRATIONKIT_<PACKAGE>_REDIRECT_URL``)."""
        if not self.oauth.app.redirect_url:
            logger.warning(
                "%s has no redirect URL: set MIGRATIONKIT_%s_REDIRECT_URL",
                self.package.label,
                self.package.value,
            )
            raise self.http.error("package_not_configured")
        return self.oauth.authorization_url(state, **self.consent_extra())

    def consent_extra(self) -> dict[str, str]:
        """What the package's consent page needs besides the standard query."""
        return {}

    def authorize(self, connection: Connection, code: str) -> None:
        self.oauth.connect(connection, code)

    def is_authorized(self, connection: Connection) -> bool:
        return self.oauth.is_connected(connection)

    # --- calls ------------------------------------------------------------------------------

    def get_json(
        self,
        connection: Connection,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GETs ``url`` with the connection's token (refreshed as needed) and reads its JSON."""
        self.require_own_address(url)

        def send(tokens: OAuthTokens) -> Any:
            response = self.http.send(
                "GET",
                url,
                idempotent=True,
                params=params,
                headers={**bearer(tokens), **(headers or {})},
            )
            return self.http.read_json(response)

        return self.oauth.call(connection, send)

    def parse(self, read: Callable[..., T], *answer: Any) -> T:
        """``read(*answer)``, where ``answer`` is what the package sent; an answer without
        the documented shape (a missing key, a wrong type) is ``package_malformed``."""
        try:
            return read(*answer)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self.http.malformed() from None

    def require_own_address(self, url: str) -> None:
        """Refuses to send the token anywhere but the package's own API (a next-page link
        from the package is followed only on the same host)."""
        own, asked = urlsplit(self.base_url), urlsplit(url)
        if (asked.scheme, asked.netloc) != (own.scheme, own.netloc):
            raise self.http.malformed()


class WithoutLinkRewriting(PackageConnector):
    """A package with no confirmed place for a link to an outside document: it declares so,
    and refuses a rewrite instead of doing nothing silently."""

    can_rewrite_links: bool = False

    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        raise PackageError("package_links_unsupported", package=self.package.label)
