"""No token and no client secret in any error message, repr or log line, whatever the
package answers; not even when the package's own message repeats them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
import requests
import responses
from listings import LISTINGS, Listing
from package_api import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    CREDENTIALS,
    REFRESH_TOKEN,
    SECRETS,
    connection,
    tokens,
)
from published import answer

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage

Make = Callable[[type[PackageConnector]], PackageConnector]
ECHO = (
    f"Code {ACCESS_TOKEN} of client {CLIENT_SECRET} refused; Authorization: Bearer {ACCESS_TOKEN}"
)

#: Each package's own published error answer (fixtures/<package>/), whose message is made to
#: repeat the call's secrets.
ERROR_ANSWERS: dict[AccountingPackage, tuple[str, str]] = {
    AccountingPackage.EXACT_ONLINE_NL: ("exact_online", "query_syntax_error"),
    AccountingPackage.TWINFIELD: ("twinfield", "fault_unexpected"),
    AccountingPackage.BOEKHOUDGEMAK_MULTIVERS: ("multivers", "messages"),
    AccountingPackage.XERO: ("xero", "validation_exception"),
    AccountingPackage.ACCOUNTVIEW: ("accountview", "error_400"),
}


def echoing(listing: Listing, api: responses.RequestsMock) -> None:
    package, name = ERROR_ANSWERS[listing.package]
    api.add(listing.method, listing.first_url, **answer(package, name, message=ECHO))


def refused_refresh(listing: Listing, api: responses.RequestsMock) -> None:
    api.add(listing.method, listing.first_url, status=401, body=f"bad token {ACCESS_TOKEN}")
    api.post(
        listing.token_url,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": f"refresh token {REFRESH_TOKEN} is dead",
        },
    )


def timing_out(listing: Listing, api: responses.RequestsMock) -> None:
    api.add(
        listing.method,
        listing.first_url,
        body=requests.exceptions.ConnectTimeout(
            f"timed out: {listing.first_url}?token={ACCESS_TOKEN}"
        ),
    )


def failing(listing: Listing, api: responses.RequestsMock) -> None:
    api.add(listing.method, listing.first_url, status=500, body=ECHO)


def garbage(listing: Listing, api: responses.RequestsMock) -> None:
    api.add(listing.method, listing.first_url, status=200, body=f"<<{ACCESS_TOKEN}")


CASES = [echoing, refused_refresh, timing_out, failing, garbage]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
@pytest.mark.parametrize("package", list(AccountingPackage), ids=lambda p: p.value.lower())
def test_no_secret_leaves_through_errors_reprs_or_logs(
    make: Make,
    store: InMemoryTokenStore,
    api: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    package: AccountingPackage,
    case: Callable[[Listing, responses.RequestsMock], None],
) -> None:
    caplog.set_level(logging.DEBUG)
    listing = LISTINGS[package]
    listing.prepare(store)
    case(listing, api)
    connector = make(listing.cls)

    with pytest.raises(PackageError) as caught:
        connector.list_administrations(connection(package))  # type: ignore[attr-defined]

    error = caught.value
    shown = [
        str(error),
        repr(error),
        error.message("en"),
        "".join(traceback.format_exception(error)),
        repr(connector.oauth.app),
        repr(store.load(7)),
        repr(CREDENTIALS),
        *(record.getMessage() for record in caplog.records),
        *(record.exc_text or "" for record in caplog.records),
    ]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text
    if case is echoing:
        assert error.code == "package_rejected"
        assert "refused" in str(error.params["detail"])


def test_the_tokens_repr_hides_both_tokens() -> None:
    assert ACCESS_TOKEN not in repr(tokens())
    assert REFRESH_TOKEN not in repr(tokens())
