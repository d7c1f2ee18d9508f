"""OAuth2 through the token store: the consent, a refresh before expiry and in the middle of
a listing, the rotated refresh token kept, and a refresh token spent once by racing workers."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
import responses
from listings import (
    EXACT_API,
    EXACT_DIVISIONS,
    TWINFIELD_CLUSTER,
    TWINFIELD_LOGIN,
    XERO,
    token_answer,
)
from package_api import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTION_ID,
    CREDENTIALS,
    NEW_ACCESS_TOKEN,
    NEW_REFRESH_TOKEN,
    REFRESH_TOKEN,
    connection,
    form,
    tokens,
)
from published import answer, document

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import Wiring
from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.adapters.connectors.twinfield import TwinfieldConnector
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage
from migrationkit.ports import OAuthTokens
from migrationkit.testing import FakeClock

EXACT = connection(AccountingPackage.EXACT_ONLINE_NL)
EXACT_TOKEN = "https://start.exactonline.nl/api/oauth2/token"
SECOND_PAGE = document("exact_online", "divisions_page1")["d"]["__next"]


def test_a_token_about_to_expire_is_refreshed_before_the_call(
    make, api: responses.RequestsMock, store: InMemoryTokenStore, clock: FakeClock
) -> None:
    clock.advance(timedelta(minutes=9, seconds=30))
    api.post(EXACT_TOKEN, **token_answer("exact_online"))
    api.get(f"{EXACT_API}/current/Me", **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "divisions_page2"))

    make(ExactOnlineConnector).list_administrations(EXACT)

    assert form(api.calls[0]) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert api.calls[1].request.headers["Authorization"] == f"Bearer {NEW_ACCESS_TOKEN}"
    kept = store.load(CONNECTION_ID)
    assert kept == OAuthTokens(
        NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, clock.now() + timedelta(seconds=600)
    )


def test_a_token_refused_mid_listing_is_refreshed_and_the_listing_goes_on(
    make, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    api.get(f"{EXACT_API}/current/Me", **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "divisions_page1"))
    # A bare 401: Exact's refusal of a token has no published body (assumed).
    api.get(SECOND_PAGE, status=401, body="")
    api.post(EXACT_TOKEN, **token_answer("exact_online"))
    api.get(SECOND_PAGE, **answer("exact_online", "divisions_page2"))

    found = make(ExactOnlineConnector).list_administrations(EXACT)

    assert [pa.package_admin_id for pa in found] == ["4471", "4472", "5001"]
    sent = [
        (call.request.url, call.request.headers.get("Authorization"))
        for call in api.calls
        if call.request.method == "GET"
    ]
    assert sent[2:] == [
        (SECOND_PAGE, f"Bearer {ACCESS_TOKEN}"),
        (SECOND_PAGE, f"Bearer {NEW_ACCESS_TOKEN}"),
    ]
    assert {authorization for _, authorization in sent[:2]} == {f"Bearer {ACCESS_TOKEN}"}
    assert store.versions[CONNECTION_ID] == 2


def test_a_dead_refresh_token_means_connecting_again(
    make, api: responses.RequestsMock, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=1))
    api.post(EXACT_TOKEN, **answer("exact_online", "refresh_token_expired"))

    with pytest.raises(PackageError) as caught:
        make(ExactOnlineConnector).list_administrations(EXACT)

    assert caught.value.code == "package_auth_expired"
    assert len(api.calls) == 1, "spending a refresh token is never retried"


def test_xero_sends_the_app_as_basic_auth(
    make, api: responses.RequestsMock, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=1))
    api.post("https://identity.xero.com/connect/token", **token_answer("xero"))
    api.get(f"{XERO}/Connections", json=[])

    assert make(XeroConnector).list_administrations(connection(AccountingPackage.XERO)) == []

    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert api.calls[0].request.headers["Authorization"] == f"Basic {expected}"
    assert form(api.calls[0]) == {"grant_type": ["refresh_token"], "refresh_token": [REFRESH_TOKEN]}


def test_the_consent_url_names_the_app_and_the_way_back(make) -> None:
    url = make(TwinfieldConnector).oauth.authorization_url("st-123", nonce="n-456")

    assert url.startswith(f"{TWINFIELD_LOGIN}/connect/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": ["https://portal.example.nl/koppelingen/terug"],
        "state": ["st-123"],
        "scope": ["openid twf.organisationUser twf.organisation offline_access"],
        "nonce": ["n-456"],
    }


def test_connecting_stores_the_tokens_with_the_cluster_and_the_chosen_company(
    wiring: Wiring, api: responses.RequestsMock, clock: FakeClock
) -> None:
    empty = InMemoryTokenStore()
    api.post(f"{TWINFIELD_LOGIN}/connect/token", **token_answer("twinfield"))
    api.get(
        f"{TWINFIELD_LOGIN}/connect/accesstokenvalidation",
        **answer("twinfield", "token_validation"),
    )
    twinfield = TwinfieldConnector(CREDENTIALS, attrs.evolve(wiring, tokens=empty))

    stored = twinfield.oauth.connect(
        connection(AccountingPackage.TWINFIELD),
        "code-from-the-consent",
        account=(("company_code", "001"),),
    )

    assert form(api.calls[0])["grant_type"] == ["authorization_code"]
    assert form(api.calls[0])["code"] == ["code-from-the-consent"]
    assert form(api.calls[0])["redirect_uri"] == ["https://portal.example.nl/koppelingen/terug"]
    assert empty.load(CONNECTION_ID) == stored
    assert stored.account == (("company_code", "001"), ("cluster_url", TWINFIELD_CLUSTER))
    assert stored.expires_at == clock.now() + timedelta(hours=1)


def test_two_workers_with_one_expired_token_spend_its_refresh_token_once() -> None:
    store = InMemoryTokenStore()
    spent = tokens()
    store.save(CONNECTION_ID, spent)
    calls: list[str] = []
    both_in = threading.Barrier(2)

    def refresh(current: OAuthTokens) -> OAuthTokens:
        calls.append(current.refresh_token)
        return tokens(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN)

    results: list[OAuthTokens] = []

    def worker() -> None:
        both_in.wait()
        results.append(store.rotate(CONNECTION_ID, spent, refresh))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == [REFRESH_TOKEN]
    assert [r.refresh_token for r in results] == [NEW_REFRESH_TOKEN, NEW_REFRESH_TOKEN]
    assert store.versions[CONNECTION_ID] == 2
