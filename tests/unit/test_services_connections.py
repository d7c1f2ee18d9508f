"""Instellingen > Boekhoudsysteemkoppelingen: the list, and (re)connecting a connection
through the package's consent page (R1: a super user of its own environment)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
import responses

from migrationkit import services
from migrationkit.adapters.connectors import InMemoryConnector, InMemoryTokenStore
from migrationkit.adapters.connectors._base import Wiring
from migrationkit.adapters.connectors.registry import PackageConnectorRegistry
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.errors import NotAllowed, NotFound, PackageError, RuleViolation
from migrationkit.domain.model import AccountingPackage, Connection
from migrationkit.services import Dependencies

if TYPE_CHECKING:
    from conftest import Scene

EXACT = AccountingPackage.EXACT_ONLINE_NL
XERO = AccountingPackage.XERO
XERO_TOKEN = "https://identity.xero.com/connect/token"
CREDENTIALS = PackageCredentials(
    client_id="portal-app",
    client_secret="cs-4f1e9a7b2c3d5e6f8a9b0c1d2e3f4a5b-secret",
    redirect_url="https://portal.example.nl/instellingen/koppelingen/terug",
)


def exact(scene: Scene) -> InMemoryConnector:
    """The fakes' Exact Online, asking the user's consent as the real one does."""
    connector = scene.world.connectors.connector(EXACT)
    connector.needs_authorization = True
    return connector


def begin(scene: Scene, connection: Connection, actor_id: int | None = None) -> str:
    return services.begin_authorization(
        scene.deps,
        actor_id=actor_id or scene.noord.super_user.id,
        connection_id=connection.id,
        state="st-1",
    )


def finish(scene: Scene, code: str, deps: Dependencies | None = None) -> services.ConnectionRow:
    return services.finish_authorization(
        deps or scene.deps,
        actor_id=scene.noord.super_user.id,
        connection_id=scene.noord.connection.id,
        code=code,
    )


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_environments_connections_with_consent_and_link_rewriting(
    scene: Scene,
) -> None:
    exact(scene)
    xero = scene.connection(scene.noord, XERO)
    scene.world.connectors.connector(XERO).can_rewrite_links = True

    rows = services.list_connections(scene.deps, actor_id=scene.noord.super_user.id)

    assert [
        (r.connection, r.package_label, r.needs_authorization, r.authorized, r.can_rewrite_links)
        for r in rows
    ] == [
        (scene.noord.connection, "Exact Online (NL)", True, False, False),
        (xero, "Xero", False, True, True),
    ]
    assert all(r.configured for r in rows)


def test_a_package_without_a_connector_here_is_listed_as_not_set_up(scene: Scene) -> None:
    deps = attrs.evolve(scene.deps, connectors=PackageConnectorRegistry([]))

    (row,) = services.list_connections(deps, actor_id=scene.noord.super_user.id)

    assert (row.configured, row.needs_authorization, row.authorized) == (False, False, False)


def test_a_plain_user_may_not_see_the_connections(scene: Scene) -> None:
    with scene.refused(NotAllowed, "not_super_user"):
        services.list_connections(scene.deps, actor_id=scene.noord.user.id)


# --- Koppelen / Koppel opnieuw -----------------------------------------------------------------


def test_the_consent_and_its_code_connect_the_connection(scene: Scene) -> None:
    connector = exact(scene)

    url = begin(scene, scene.noord.connection)
    row = finish(scene, connector.give_consent(scene.noord.connection.id))

    assert parse_qs(urlsplit(url).query) == {
        "connection": [str(scene.noord.connection.id)],
        "state": ["st-1"],
    }
    assert (row.connection, row.authorized) == (scene.noord.connection, True)
    assert connector.is_authorized(scene.noord.connection)


@pytest.mark.parametrize("code", ["", "not-a-code"], ids=["said-no", "unknown-code"])
def test_no_code_or_a_refused_code_is_a_clear_refusal_that_connects_nothing(
    scene: Scene, code: str
) -> None:
    connector = exact(scene)

    with scene.refused(PackageError, "package_consent_refused", package="Exact Online (NL)"):
        finish(scene, code)

    assert not connector.is_authorized(scene.noord.connection)


def test_a_code_is_traded_in_once(scene: Scene) -> None:
    code = exact(scene).give_consent(scene.noord.connection.id)
    finish(scene, code)

    with scene.refused(PackageError, "package_consent_refused", package="Exact Online (NL)"):
        finish(scene, code)


def test_only_a_super_user_of_the_connections_environment_may_connect_it(scene: Scene) -> None:
    connector = exact(scene)
    code = connector.give_consent(scene.noord.connection.id)

    with scene.refused(NotFound, "unknown_connection"):
        begin(scene, scene.noord.connection, actor_id=scene.oost.super_user.id)
    with scene.refused(NotAllowed, "not_super_user"):
        begin(scene, scene.noord.connection, actor_id=scene.noord.user.id)
    with scene.refused(NotFound, "unknown_connection"):
        services.finish_authorization(
            scene.deps,
            actor_id=scene.oost.super_user.id,
            connection_id=scene.noord.connection.id,
            code=code,
        )

    assert not connector.is_authorized(scene.noord.connection)


def test_a_package_that_asks_no_consent_is_not_connected_again(scene: Scene) -> None:
    with scene.refused(
        RuleViolation, "authorization_not_needed", connection="Exact Online (NL) Noord"
    ):
        begin(scene, scene.noord.connection)


def test_a_package_not_set_up_here_cannot_be_connected(scene: Scene) -> None:
    deps = attrs.evolve(scene.deps, connectors=PackageConnectorRegistry([]))

    with scene.refused(PackageError, "package_not_configured", package="Exact Online (NL)"):
        services.begin_authorization(
            deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            state="st-1",
        )


# --- a real package: Xero's consent page and token endpoint ------------------------------------


@pytest.fixture
def xero(scene: Scene) -> tuple[Dependencies, Connection, InMemoryTokenStore]:
    """Noord's Xero connection on the library's Xero connector, with no tokens yet."""
    tokens = InMemoryTokenStore()
    connector = XeroConnector(CREDENTIALS, Wiring(tokens=tokens, clock=scene.world.clock))
    deps = attrs.evolve(scene.deps, connectors=PackageConnectorRegistry([connector]))
    return deps, scene.connection(scene.noord, XERO), tokens


def test_xero_sends_the_user_to_its_consent_page_and_trades_the_code_for_tokens(
    scene: Scene, xero: tuple[Dependencies, Connection, InMemoryTokenStore]
) -> None:
    deps, connection, tokens = xero
    actor = scene.noord.super_user.id

    url = services.begin_authorization(
        deps, actor_id=actor, connection_id=connection.id, state="st-9"
    )
    with responses.RequestsMock() as api:
        api.post(
            XERO_TOKEN,
            json={"access_token": "at-new", "refresh_token": "rt-new", "expires_in": 1800},
        )
        row = services.finish_authorization(
            deps, actor_id=actor, connection_id=connection.id, code="consent-code"
        )
        sent = api.calls[0].request

    assert url.startswith("https://login.xero.com/identity/connect/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "response_type": ["code"],
        "client_id": ["portal-app"],
        "redirect_uri": [CREDENTIALS.redirect_url],
        "state": ["st-9"],
        "scope": [
            "offline_access accounting.invoices accounting.banktransactions "
            "accounting.settings.read"
        ],
    }
    app = base64.b64encode(f"portal-app:{CREDENTIALS.client_secret}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {app}"
    assert parse_qs(sent.body) == {
        "grant_type": ["authorization_code"],
        "code": ["consent-code"],
        "redirect_uri": [CREDENTIALS.redirect_url],
    }
    stored = tokens.load(connection.id)
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == ("at-new", "rt-new")
    assert (row.configured, row.needs_authorization, row.authorized) == (True, True, True)
    assert row.can_rewrite_links is True


def test_a_code_xero_refuses_is_a_clear_refusal_and_keeps_no_tokens(
    scene: Scene, xero: tuple[Dependencies, Connection, InMemoryTokenStore]
) -> None:
    deps, connection, tokens = xero

    with responses.RequestsMock() as api:
        api.post(XERO_TOKEN, status=400, json={"error": "invalid_grant"})
        with pytest.raises(PackageError) as refused:
            services.finish_authorization(
                deps, actor_id=scene.noord.super_user.id, connection_id=connection.id, code="old"
            )

    assert refused.value.code == "package_consent_refused"
    assert refused.value.params == {"package": "Xero"}
    assert tokens.load(connection.id) is None
    (row,) = [
        r
        for r in services.list_connections(deps, actor_id=scene.noord.super_user.id)
        if r.connection == connection
    ]
    assert row.authorized is False


def test_xero_without_a_redirect_address_is_not_set_up(scene: Scene) -> None:
    connector = XeroConnector(
        attrs.evolve(CREDENTIALS, redirect_url=""), Wiring(tokens=InMemoryTokenStore())
    )
    deps = attrs.evolve(scene.deps, connectors=PackageConnectorRegistry([connector]))
    connection = scene.connection(scene.noord, XERO)

    with pytest.raises(PackageError) as refused:
        services.begin_authorization(
            deps, actor_id=scene.noord.super_user.id, connection_id=connection.id, state="s"
        )

    assert refused.value.code == "package_not_configured"
