"""What the connector tests share: the test connection, its tokens and the app's secrets,
and readers of what a faked package API was sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection
from migrationkit.ports import OAuthTokens
from migrationkit.testing import FakeClock

CONNECTION_ID = 7
#: Token-shaped values, long enough that a leak would be recognised anywhere.
ACCESS_TOKEN = "at-0f8e2c41d7b94a6e9c3b5a1d2e7f6c80-access"
REFRESH_TOKEN = "rt-5b7a9c1e3d2f4a6b8c0d1e2f3a4b5c6d-refresh"
NEW_ACCESS_TOKEN = "at-9a1b2c3d4e5f60718293a4b5c6d7e8f9-access"
NEW_REFRESH_TOKEN = "rt-1f2e3d4c5b6a79880716253443526170-refresh"
CLIENT_ID = "migrationkit-test-app"
CLIENT_SECRET = "cs-7d3f9a2b4c6e8d0f1a3b5c7d9e0f2a4b-secret"
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, CLIENT_SECRET)
CREDENTIALS = PackageCredentials(
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    redirect_url="https://portal.example.nl/koppelingen/terug",
)


def connection(package: AccountingPackage) -> Connection:
    return Connection(
        id=CONNECTION_ID, environment_id=1, package=package, name=f"{package.label} - Noord"
    )


def tokens(
    access: str = ACCESS_TOKEN,
    refresh: str = REFRESH_TOKEN,
    *,
    expires_in: timedelta = timedelta(minutes=10),
    account: tuple[tuple[str, str], ...] = (),
) -> OAuthTokens:
    return OAuthTokens(
        access_token=access,
        refresh_token=refresh,
        expires_at=FakeClock().now() + expires_in,
        account=account,
    )


def query(call: Any) -> dict[str, list[str]]:
    """The query of a recorded call, decoded."""
    return parse_qs(urlsplit(call.request.url).query)


def form(call: Any) -> dict[str, list[str]]:
    """The form body of a recorded call, decoded."""
    body = call.request.body
    return parse_qs(body if isinstance(body, str) else body.decode())
