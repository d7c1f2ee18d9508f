"""Every package connector asks the user's consent through ``ports.ConnectsByOAuth``: its
consent page, and whether the connection holds tokens, known without asking the package."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from package_api import CREDENTIALS, connection

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector, Wiring
from migrationkit.adapters.connectors.accountview import AccountViewConnector
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.multivers import MultiversConnector
from migrationkit.adapters.connectors.twinfield import TwinfieldConnector
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.ports import ConnectsByOAuth

CONNECTORS = [
    ExactOnlineConnector,
    TwinfieldConnector,
    MultiversConnector,
    XeroConnector,
    AccountViewConnector,
]


@pytest.mark.parametrize("cls", CONNECTORS, ids=lambda c: c.__name__)
def test_each_package_asks_consent_and_is_connected_while_it_holds_tokens(
    wiring: Wiring, cls: type[PackageConnector]
) -> None:
    """The ``wiring`` fixture's store holds the test connection's tokens."""
    holding = cls(CREDENTIALS, wiring)
    empty = cls(CREDENTIALS, attrs.evolve(wiring, tokens=InMemoryTokenStore()))
    tested = connection(holding.package)

    assert isinstance(holding, ConnectsByOAuth)
    assert holding.needs_authorization is True
    assert holding.is_authorized(tested) is True
    assert empty.is_authorized(tested) is False
    consent = urlsplit(holding.authorization_url(tested, "st-1"))
    assert parse_qs(consent.query)["state"] == ["st-1"]
    assert parse_qs(consent.query)["redirect_uri"] == [CREDENTIALS.redirect_url]


def test_twinfield_asks_its_consent_with_a_fresh_nonce(wiring: Wiring) -> None:
    twinfield = TwinfieldConnector(CREDENTIALS, wiring)
    tested = connection(twinfield.package)

    nonces = [
        parse_qs(urlsplit(twinfield.authorization_url(tested, "st-1")).query)["nonce"][0]
        for _ in range(2)
    ]

    assert nonces[0] != nonces[1]
    assert all(len(nonce) >= 16 for nonce in nonces)
