"""The registry picks each package's connector from the settings; the settings come from
MIGRATIONKIT_<PACKAGE>_* variables and never show a secret."""

from __future__ import annotations

import pytest
import requests
import responses
from package_api import CLIENT_SECRET, CONNECTION_ID, connection, tokens

from migrationkit.adapters.connectors import InMemoryConnector, InMemoryTokenStore
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.registry import make_registry
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.config import ConfigError, connector_settings
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage
from migrationkit.testing import FakeClock

ENVIRON = {
    "MIGRATIONKIT_EXACT_ONLINE_NL_CLIENT_ID": "exact-app",
    "MIGRATIONKIT_EXACT_ONLINE_NL_CLIENT_SECRET": CLIENT_SECRET,
    "MIGRATIONKIT_EXACT_ONLINE_NL_REDIRECT_URL": "https://portal.example.nl/exact/terug",
    "MIGRATIONKIT_EXACT_ONLINE_NL_BASE_URL": "https://start.exactonline.be",
    "MIGRATIONKIT_XERO_CLIENT_ID": "xero-app",
    "MIGRATIONKIT_XERO_CLIENT_SECRET": "xero-secret-0123456789",
    "MIGRATIONKIT_CONNECTOR_TIMEOUT_SECONDS": "12",
}


def test_reads_each_packages_credentials() -> None:
    settings = connector_settings(ENVIRON)

    assert settings.credentials(AccountingPackage.EXACT_ONLINE_NL) == PackageCredentials(
        client_id="exact-app",
        client_secret=CLIENT_SECRET,
        redirect_url="https://portal.example.nl/exact/terug",
        base_url="https://start.exactonline.be",
    )
    assert settings.credentials(AccountingPackage.XERO) is not None
    assert settings.credentials(AccountingPackage.TWINFIELD) is None
    assert settings.timeout_seconds == 12
    assert CLIENT_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MIGRATIONKIT_TWINFIELD_CLIENT_ID": "twf-app"}, "MIGRATIONKIT_TWINFIELD_CLIENT_SECRET"),
        ({"MIGRATIONKIT_XERO_CLIENT_SECRET": "s3cr3t-value"}, "MIGRATIONKIT_XERO_CLIENT_ID"),
        (
            {**ENVIRON, "MIGRATIONKIT_XERO_BASE_URL": "ftp://xero.example"},
            "MIGRATIONKIT_XERO_BASE_URL",
        ),
        (
            {**ENVIRON, "MIGRATIONKIT_CONNECTOR_TIMEOUT_SECONDS": "0"},
            "MIGRATIONKIT_CONNECTOR_TIMEOUT_SECONDS",
        ),
    ],
)
def test_refuses_half_set_credentials_naming_the_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        connector_settings(environ)
    assert "s3cr3t-value" not in str(caught.value)


def test_the_registry_gives_the_connector_of_each_configured_package() -> None:
    registry = make_registry(connector_settings(ENVIRON), InMemoryTokenStore())

    exact = registry.connector_for(connection(AccountingPackage.EXACT_ONLINE_NL))
    xero = registry.connector_for(connection(AccountingPackage.XERO))

    assert isinstance(exact, ExactOnlineConnector)
    assert exact.base_url == "https://start.exactonline.be"
    assert exact.http.timeout_seconds == 12
    assert isinstance(xero, XeroConnector)
    assert xero.http.session is exact.http.session, "one shared session"


def test_a_package_without_credentials_is_not_configured() -> None:
    registry = make_registry(connector_settings(ENVIRON), InMemoryTokenStore())

    with pytest.raises(PackageError) as caught:
        registry.connector_for(connection(AccountingPackage.ACCOUNTVIEW))

    assert caught.value.code == "package_not_configured"
    assert caught.value.params == {"package": "AccountView"}


def test_the_registry_uses_the_given_session() -> None:
    session = requests.Session()
    session.headers["User-Agent"] = "Platform/1.0 migrationkit"
    store = InMemoryTokenStore()
    store.save(CONNECTION_ID, tokens())
    registry = make_registry(connector_settings(ENVIRON), store, session=session, clock=FakeClock())

    with responses.RequestsMock() as api:
        api.get("https://api.xero.com/Connections", json=[])
        assert (
            registry.connector_for(connection(AccountingPackage.XERO)).list_administrations(
                connection(AccountingPackage.XERO)
            )
            == []
        )
        assert api.calls[0].request.headers["User-Agent"] == "Platform/1.0 migrationkit"


def test_a_backends_own_connector_takes_the_place_of_the_librarys() -> None:
    own = InMemoryConnector(AccountingPackage.EXACT_ONLINE_NL)
    registry = make_registry(connector_settings(ENVIRON), InMemoryTokenStore(), connectors=[own])

    assert registry.connector_for(connection(AccountingPackage.EXACT_ONLINE_NL)) is own
    assert isinstance(registry.connector_for(connection(AccountingPackage.XERO)), XeroConnector)
