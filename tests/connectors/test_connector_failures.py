"""Every connector through the same troubles: a rate limit, a refused token, a missing
resource, a server error, garbage, a timeout. Each ends in a clear PackageError naming the
package, or in the right answer after a bounded, recorded wait.

The package's own 429 and refused-token answers come from its published sources (listings.py).
The other troubles are assumed, not any package's own answer: what any HTTP server or network
can give (a bare 404, 502 or 503, an HTML maintenance page, a timeout), listed in
docs/connectors.md.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
import requests
import responses
from listings import LISTINGS, Listing
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
)

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector, Wiring
from migrationkit.adapters.connectors._http import RetryPolicy
from migrationkit.domain.errors import CONNECT_AGAIN, PackageError
from migrationkit.domain.model import AccountingPackage
from migrationkit.testing import FakeClock

Make = Callable[[type[PackageConnector]], PackageConnector]


@pytest.fixture(params=list(AccountingPackage), ids=lambda package: package.value.lower())
def listing(request: pytest.FixtureRequest, store: InMemoryTokenStore) -> Listing:
    listing = LISTINGS[request.param]
    listing.prepare(store)
    return listing


def list_them(make: Make, listing: Listing):  # type: ignore[no-untyped-def]
    return make(listing.cls).list_administrations(connection(listing.package))  # type: ignore[attr-defined]


def refused(make: Make, listing: Listing) -> PackageError:
    with pytest.raises(PackageError) as caught:
        list_them(make, listing)
    assert caught.value.params["package"] == listing.package.label
    return caught.value


@pytest.mark.usefixtures("worker")
def test_waits_out_the_packages_own_429_then_lists(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float], clock: FakeClock
) -> None:
    limited, wait = listing.rate_limited(clock)
    api.add(listing.method, listing.first_url, **limited)
    listing.register(api)

    assert list_them(make, listing) == listing.expected
    assert waits == [wait]
    assert api.calls[0].request.url.startswith(listing.first_url)
    assert api.calls[1].request.url.startswith(listing.first_url)


@pytest.mark.usefixtures("worker")
def test_a_429_that_lasts_gives_up_after_the_bounded_tries(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=429, headers={"Retry-After": "2"})

    assert refused(make, listing).code == "package_rate_limited"
    assert len(api.calls) == 4
    assert waits == [2.0, 2.0, 2.0]


def test_while_a_person_waits_a_429_of_30_seconds_ends_the_call_at_once_as_busy(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=429, headers={"Retry-After": "30"})

    error = refused(make, listing)

    assert (error.code, error.params["seconds"]) == ("package_busy", 30)
    assert len(api.calls) == 1
    assert waits == []


def test_while_a_person_waits_a_429_of_a_second_or_two_is_waited_out(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=429, headers={"Retry-After": "2"})
    listing.register(api)

    assert list_them(make, listing) == listing.expected
    assert waits == [2.0]


def test_while_a_person_waits_the_waits_stop_within_a_few_seconds(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=503, body="Service Unavailable")

    assert refused(make, listing).code == "package_unavailable"
    assert waits == [1.0, 2.0]
    assert sum(waits) <= RetryPolicy().interactive_wait_seconds


def test_while_a_person_waits_a_timeout_is_not_waited_for_again(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(
        listing.method, listing.first_url, body=requests.exceptions.ReadTimeout("read timed out")
    )

    assert refused(make, listing).code == "package_unavailable"
    assert len(api.calls) == 1
    assert waits == []


def test_a_refused_token_is_refreshed_once_and_the_call_tried_again(
    make: Make, listing: Listing, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    api.add(listing.method, listing.first_url, **listing.refused_token())
    listing.register_refresh(api)
    listing.register(api)

    assert list_them(make, listing) == listing.expected

    refused_call, token_call, *after = api.calls
    assert ACCESS_TOKEN in str(refused_call.request.headers.get("Authorization")) + str(
        refused_call.request.body
    )
    assert token_call.request.url == listing.token_url
    assert form(token_call)["grant_type"] == ["refresh_token"]
    assert form(token_call)["refresh_token"] == [REFRESH_TOKEN]
    assert any(
        NEW_ACCESS_TOKEN in str(call.request.headers.get("Authorization")) + str(call.request.body)
        for call in after
    )
    kept = store.load(CONNECTION_ID)
    assert kept is not None
    assert (kept.access_token, kept.refresh_token) == (NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN)
    assert dict(kept.account).items() >= dict(listing.account).items()


def test_a_token_refused_again_after_the_refresh_sends_the_user_to_connect_again(
    make: Make, listing: Listing, api: responses.RequestsMock
) -> None:
    refusal = listing.refused_token()
    api.add(listing.method, listing.first_url, **refusal)
    listing.register_refresh(api)

    error = refused(make, listing)

    assert error.code in CONNECT_AGAIN
    assert [call.request.url for call in api.calls].count(listing.token_url) == 1
    if error.code == "package_auth_refused":
        assert str(error.params["detail"]) in refusal["body"]


def test_a_404_is_not_found_and_not_sent_again(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=404, body="")

    assert refused(make, listing).code == "package_not_found"
    assert len(api.calls) == 1
    assert waits == []


@pytest.mark.usefixtures("worker")
def test_a_5xx_is_tried_again_with_growing_waits_then_unavailable(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=503, body="Service Unavailable")

    assert refused(make, listing).code == "package_unavailable"
    assert len(api.calls) == 4
    assert waits == [1.0, 2.0, 4.0]


def test_a_5xx_then_success_lists(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(listing.method, listing.first_url, status=502)
    listing.register(api)

    assert list_them(make, listing) == listing.expected
    assert waits == [1.0]


@pytest.mark.usefixtures("worker")
def test_a_timeout_is_tried_again_then_unavailable(
    make: Make, listing: Listing, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.add(
        listing.method, listing.first_url, body=requests.exceptions.ReadTimeout("read timed out")
    )

    assert refused(make, listing).code == "package_unavailable"
    assert len(api.calls) == 4
    assert waits == [1.0, 2.0, 4.0]


def test_a_body_that_is_not_the_packages_shape_is_malformed(
    make: Make, listing: Listing, api: responses.RequestsMock
) -> None:
    api.add(
        listing.method,
        listing.first_url,
        body="<html><body><h1>Onderhoud</h1>We zijn zo terug.</body></html>",
        content_type="text/html",
    )

    assert refused(make, listing).code == "package_malformed"
    assert len(api.calls) == 1


def test_a_connection_without_tokens_must_be_connected_again(
    wiring: Wiring, listing: Listing, api: responses.RequestsMock
) -> None:
    connector = listing.cls(CREDENTIALS, attrs.evolve(wiring, tokens=InMemoryTokenStore()))

    with pytest.raises(PackageError) as caught:
        connector.list_administrations(connection(listing.package))  # type: ignore[attr-defined]

    assert caught.value.code == "package_auth_expired"
    assert len(api.calls) == 0


def test_the_token_endpoint_refusing_the_app_means_not_configured(
    make: Make, listing: Listing, api: responses.RequestsMock
) -> None:
    api.add(listing.method, listing.first_url, status=401)
    api.post(listing.token_url, status=401, json={"error": "invalid_client"})

    assert refused(make, listing).code == "package_not_configured"
    token_form = form(api.calls[1])
    sent_client = token_form.get("client_id") == [CLIENT_ID] or "Basic " in str(
        api.calls[1].request.headers.get("Authorization")
    )
    assert sent_client
    assert CLIENT_SECRET not in str(api.calls[1].request.url)
