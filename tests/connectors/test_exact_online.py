"""Exact Online: divisions through OData, ``__next`` followed, errors and limits read."""

from __future__ import annotations

import pytest
import responses
from package_api import ACCESS_TOKEN, connection, query
from responses import matchers

from migrationkit.adapters.connectors.exact_online import ExactOnlineConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration
from migrationkit.testing import FakeClock

EXACT = connection(AccountingPackage.EXACT_ONLINE_NL)
BASE = "https://start.exactonline.nl/api/v1"
ME = f"{BASE}/current/Me"
DIVISIONS = f"{BASE}/4471/system/Divisions"
ME_BODY = {
    "d": {"results": [{"__metadata": {"type": "Exact.Web.Api.System.Me"}, "CurrentDivision": 4471}]}
}


def division(code: int, description: str, status: int = 1) -> dict[str, object]:
    return {
        "__metadata": {
            "uri": f"{BASE}/4471/system/Divisions({code})",
            "type": "Exact.Web.Api.System.Division",
        },
        "Code": code,
        "Description": description,
        "Status": status,
        "Current": code == 4471,
        "Customer": "3c1f0a7e-5b2d-4e8f-9a6c-1d2e3f4a5b6c",
        "CustomerName": description,
        "VATNumber": "NL001234567B01",
        "Created": "/Date(1641034800000)/",
    }


def test_lists_every_division_following_next_to_the_end(make, api: responses.RequestsMock) -> None:
    second = f"{DIVISIONS}?$select=Code,Description,Status&$skiptoken=guid'a1'"
    third = f"{DIVISIONS}?$select=Code,Description,Status&$skiptoken=guid'b2'"
    api.get(ME, json=ME_BODY)
    api.get(
        DIVISIONS,
        json={
            "d": {
                "results": [
                    division(4471, "Bakkerij De Korenbloem"),
                    division(4472, "Fietsen Jansen BV"),
                ],
                "__next": second,
            }
        },
        match=[matchers.query_param_matcher({"$select": "Code,Description,Status"})],
    )
    api.get(
        second,
        json={"d": {"results": [division(5001, "Hoveniersbedrijf Groen", 2)], "__next": third}},
    )
    api.get(third, json={"d": {"results": []}})

    found = make(ExactOnlineConnector).list_administrations(EXACT)

    assert found == [
        PackageAdministration("4471", "4471", "Bakkerij De Korenbloem"),
        PackageAdministration("4472", "4472", "Fietsen Jansen BV"),
        PackageAdministration("5001", "5001", "Hoveniersbedrijf Groen"),
    ]
    assert [call.request.url.split("?")[0] for call in api.calls] == [
        ME,
        DIVISIONS,
        DIVISIONS,
        DIVISIONS,
    ]
    assert query(api.calls[0]) == {"$select": ["CurrentDivision"]}
    assert query(api.calls[2])["$skiptoken"] == ["guid'a1'"]
    for call in api.calls:
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert call.request.headers["Accept"] == "application/json"


def test_finds_one_division_by_a_code_filter(make, api: responses.RequestsMock) -> None:
    api.get(ME, json=ME_BODY)
    api.get(DIVISIONS, json={"d": {"results": [division(4472, "Fietsen Jansen BV")]}})

    found = make(ExactOnlineConnector).find_administration(EXACT, "4472")

    assert found == PackageAdministration("4472", "4472", "Fietsen Jansen BV")
    assert query(api.calls[1]) == {
        "$select": ["Code,Description,Status"],
        "$filter": ["Code eq 4472"],
    }


def test_an_unknown_division_is_none(make, api: responses.RequestsMock) -> None:
    api.get(ME, json=ME_BODY)
    api.get(DIVISIONS, json={"d": {"results": []}})

    assert make(ExactOnlineConnector).find_administration(EXACT, "9999") is None


def test_a_code_that_is_no_number_is_none_without_a_call(make, api: responses.RequestsMock) -> None:
    # A 400 would count towards Exact's block of the app's key.
    assert make(ExactOnlineConnector).find_administration(EXACT, "4472 or 1 eq 1") is None
    assert len(api.calls) == 0


def test_a_next_link_to_another_host_is_refused(make, api: responses.RequestsMock) -> None:
    api.get(ME, json=ME_BODY)
    api.get(DIVISIONS, json={"d": {"results": [], "__next": "https://evil.example.com/steal"}})

    with pytest.raises(PackageError) as caught:
        make(ExactOnlineConnector).list_administrations(EXACT)

    assert caught.value.code == "package_malformed"
    assert len(api.calls) == 2


def test_a_refusal_carries_exacts_own_message(make, api: responses.RequestsMock) -> None:
    api.get(ME, json=ME_BODY)
    api.get(
        DIVISIONS,
        status=400,
        json={"error": {"code": "", "message": {"lang": "", "value": "Ongeldige filter: Code"}}},
    )

    with pytest.raises(PackageError) as caught:
        make(ExactOnlineConnector).list_administrations(EXACT)

    assert caught.value.code == "package_rejected"
    assert caught.value.params["detail"] == "Ongeldige filter: Code"
    assert str(caught.value) == "Exact Online (NL) weigert het verzoek: Ongeldige filter: Code"
    assert len(api.calls) == 2, "a client error is never sent again"


def test_waits_for_the_minutely_reset_after_a_429(
    make, api: responses.RequestsMock, clock: FakeClock, waits: list[float]
) -> None:
    reset_ms = int(clock.now().timestamp() * 1000) + 12_500
    api.get(
        ME,
        status=429,
        headers={
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": "0",
            "X-RateLimit-Minutely-Reset": str(reset_ms),
            "X-RateLimit-Remaining": "4100",
            "X-RateLimit-Reset": str(reset_ms + 36_000_000),
        },
    )
    api.get(ME, json=ME_BODY)
    api.get(DIVISIONS, json={"d": {"results": [division(4471, "Bakkerij De Korenbloem")]}})

    found = make(ExactOnlineConnector).list_administrations(EXACT)

    assert [pa.code for pa in found] == ["4471"]
    assert waits == [12.5]


def test_a_spent_daily_limit_is_not_waited_for(
    make, api: responses.RequestsMock, clock: FakeClock, waits: list[float]
) -> None:
    reset_ms = int(clock.now().timestamp() * 1000) + 5 * 3600 * 1000
    api.get(
        ME, status=429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_ms)}
    )

    with pytest.raises(PackageError) as caught:
        make(ExactOnlineConnector).list_administrations(EXACT)

    assert caught.value.code == "package_rate_limited"
    assert waits == []
    assert len(api.calls) == 1


def test_declares_and_refuses_link_rewriting(make) -> None:
    exact = make(ExactOnlineConnector)

    assert exact.can_rewrite_links is False
    with pytest.raises(PackageError) as caught:
        exact.rewrite_links(EXACT, "4471", {"https://old/a": "https://new/a"})
    assert caught.value.code == "package_links_unsupported"
