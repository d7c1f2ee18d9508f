"""Exact Online on its published answers: divisions through OData, ``__next`` followed, the
number the office knows (``Hid``) shown as the code, its limits, its token errors read per
code and description, its error messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from listings import EXACT_API, EXACT_DIVISIONS, LISTINGS, exact_reset
from package_api import ACCESS_TOKEN, connection, query
from published import answer, document

from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration
from migrationkit.testing import FakeClock

EXACT = connection(AccountingPackage.EXACT_ONLINE_NL)
ME = f"{EXACT_API}/current/Me"
TOKEN_URL = "https://start.exactonline.nl/api/oauth2/token"


def list_exact(make) -> list[PackageAdministration]:  # type: ignore[no-untyped-def]
    return list(make(ExactOnlineConnector).list_administrations(EXACT))


def refused(call) -> PackageError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        call()
    return caught.value


def test_lists_every_page_showing_the_offices_number_and_keeping_exacts_key(
    make, api: responses.RequestsMock
) -> None:
    LISTINGS[AccountingPackage.EXACT_ONLINE_NL].register(api)

    found = list_exact(make)

    assert found == [
        PackageAdministration("4471", "12", "Bakkerij De Korenbloem"),
        PackageAdministration("4472", "13", "Fietsen Jansen BV"),
        PackageAdministration("5001", "5001", "Hoveniersbedrijf Groen"),
    ], "Hid is the code shown, Code the id; a division without a Hid shows its Code"
    me, first, second = api.calls
    assert query(me) == {"$select": ["CurrentDivision"]}
    assert query(first) == {"$select": ["Code,Hid,Description,Status"]}
    assert second.request.url == document("exact_online", "divisions_page1")["d"]["__next"]
    for call in api.calls:
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert call.request.headers["Accept"] == "application/json"


def test_finds_one_division_by_its_key(make, api: responses.RequestsMock) -> None:
    api.get(ME, **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "division_found"))

    found = make(ExactOnlineConnector).find_administration(EXACT, "4472")

    assert found == PackageAdministration("4472", "13", "Fietsen Jansen BV")
    assert query(api.calls[1]) == {
        "$select": ["Code,Hid,Description,Status"],
        "$filter": ["Code eq 4472"],
    }


def test_an_unknown_division_is_none(make, api: responses.RequestsMock) -> None:
    api.get(ME, **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "division_none"))

    assert make(ExactOnlineConnector).find_administration(EXACT, "9999") is None


def test_a_key_that_is_no_number_is_none_without_a_call(make, api: responses.RequestsMock) -> None:
    # A 400 would count towards Exact's block of the app's key.
    assert make(ExactOnlineConnector).find_administration(EXACT, "4472 or 1 eq 1") is None
    assert len(api.calls) == 0


def test_a_next_link_to_another_host_is_refused(make, api: responses.RequestsMock) -> None:
    page = document("exact_online", "divisions_page1")
    page["d"]["__next"] = "https://evil.example.com/steal"
    api.get(ME, **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "divisions_page1", json_body=page))

    assert refused(lambda: list_exact(make)).code == "package_malformed"
    assert len(api.calls) == 2


def test_a_refusal_carries_exacts_own_message_and_is_not_sent_again(
    make, api: responses.RequestsMock
) -> None:
    api.get(ME, **answer("exact_online", "me"))
    api.get(EXACT_DIVISIONS, **answer("exact_online", "query_syntax_error"))

    error = refused(lambda: list_exact(make))

    assert error.code == "package_rejected"
    assert error.params["detail"] == "Bad Request - Error in query syntax."
    assert len(api.calls) == 2, "a client error is never sent again"


@pytest.mark.usefixtures("worker")
def test_waits_for_the_minutely_reset_of_a_429(
    make, api: responses.RequestsMock, clock: FakeClock, waits: list[float]
) -> None:
    headers = {"X-RateLimit-Minutely-Reset": exact_reset(clock, 12.5)}
    api.get(ME, **answer("exact_online", "rate_limited_minutely", headers=headers))
    LISTINGS[AccountingPackage.EXACT_ONLINE_NL].register(api)

    assert len(list_exact(make)) == 3
    assert waits == [12.5]


def test_a_spent_daily_limit_ends_at_once_saying_when_it_resets(
    make, api: responses.RequestsMock, clock: FakeClock, waits: list[float]
) -> None:
    # The daily limit's 429 carries the daily headers only, not the minutely ones.
    headers = {"X-RateLimit-Reset": exact_reset(clock, 30)}
    api.get(ME, **answer("exact_online", "rate_limited_daily", headers=headers))

    error = refused(lambda: list_exact(make))

    assert error.code == "package_rate_limited_until"
    reset = datetime.fromtimestamp(clock.now().timestamp() + 30, UTC)
    assert error.params["until_iso"] == reset.isoformat()
    assert error.params["until"] == show_moment(reset)
    assert waits == [], "a daily limit is not waited for, however near its reset"
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "published",
    ["old_refresh_token", "refresh_token_expired", "invalid_chain"],
)
def test_a_refresh_token_exact_refuses_means_connecting_again(
    make, api: responses.RequestsMock, clock: FakeClock, published: str
) -> None:
    clock.advance(timedelta(hours=1))  # the token is expired: a refresh comes first
    api.post(TOKEN_URL, **answer("exact_online", published))

    error = refused(lambda: list_exact(make))

    assert error.code == "package_auth_expired"
    assert len(api.calls) == 1, "spending a refresh token is never tried again"


def test_an_app_exact_does_not_know_is_not_set_up(
    make, api: responses.RequestsMock, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=1))
    api.post(TOKEN_URL, **answer("exact_online", "invalid_client"))

    assert refused(lambda: list_exact(make)).code == "package_not_configured"


def test_declares_and_refuses_link_rewriting(make) -> None:
    exact = make(ExactOnlineConnector)

    assert exact.can_rewrite_links is False
    error = refused(lambda: exact.rewrite_links(EXACT, "4471", {"https://old/a": "https://new/a"}))
    assert error.code == "package_links_unsupported"
