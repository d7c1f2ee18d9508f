"""Twinfield on its published answers: offices through ProcessXmlString with the SOAP header,
the cluster learnt from the token, and its error forms. A SOAP fault is Twinfield's answer,
not an outage: it is read whatever its HTTP status and never tried again."""

from __future__ import annotations

import base64

import pytest
import responses
from listings import LISTINGS, TWINFIELD_ACCOUNT, TWINFIELD_CLUSTER, TWINFIELD_LOGIN, token_answer
from package_api import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTION_ID,
    NEW_ACCESS_TOKEN,
    connection,
    query,
    tokens,
)
from published import answer, fixture

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors.twinfield import SOAP_ACTION, TwinfieldConnector, parse_xml
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

TWINFIELD = connection(AccountingPackage.TWINFIELD)
PROCESS = f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx"
TOKEN_URL = f"{TWINFIELD_LOGIN}/connect/token"
VALIDATION = f"{TWINFIELD_LOGIN}/connect/accesstokenvalidation"
SOAP_NS = "{http://schemas.xmlsoap.org/soap/envelope/}"
TWF_NS = "{http://www.twinfield.com/}"
OFFICES = LISTINGS[AccountingPackage.TWINFIELD].expected


@pytest.fixture(autouse=True)
def with_cluster(store: InMemoryTokenStore) -> None:
    store.save(CONNECTION_ID, tokens(account=TWINFIELD_ACCOUNT))


def refused(make) -> PackageError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        make(TwinfieldConnector).list_administrations(TWINFIELD)
    return caught.value


def refreshing(api: responses.RequestsMock) -> None:
    """The token endpoint's new token, and the cluster Twinfield tells for it."""
    api.post(TOKEN_URL, **token_answer("twinfield"))
    api.get(VALIDATION, **answer("twinfield", "token_validation"))


def test_lists_the_offices_sending_the_soap_header(make, api: responses.RequestsMock) -> None:
    api.post(PROCESS, **answer("twinfield", "offices"))

    found = make(TwinfieldConnector).list_administrations(TWINFIELD)

    assert found == [
        PackageAdministration("001", "001", "MORE&Zo Services BV"),
        PackageAdministration("010", "010", "More&Zo Holding"),
    ]
    (call,) = api.calls
    assert call.request.headers["SOAPAction"] == SOAP_ACTION
    assert call.request.headers["Content-Type"] == "text/xml; charset=utf-8"
    envelope = parse_xml(call.request.body.decode())
    header = envelope.find(f"{SOAP_NS}Header/{TWF_NS}Header")
    assert header is not None
    assert header.findtext(f"{TWF_NS}AccessToken") == ACCESS_TOKEN
    assert header.findtext(f"{TWF_NS}CompanyCode") == "001"
    request = envelope.findtext(f"{SOAP_NS}Body/{TWF_NS}ProcessXmlString/{TWF_NS}xmlRequest")
    assert request == "<list><type>offices</type></list>"


def test_finds_an_office_in_the_list(make, api: responses.RequestsMock) -> None:
    api.post(PROCESS, **answer("twinfield", "offices"))
    api.post(PROCESS, **answer("twinfield", "offices"))
    twinfield = make(TwinfieldConnector)

    assert twinfield.find_administration(TWINFIELD, "010") == OFFICES[1]
    assert twinfield.find_administration(TWINFIELD, "NL999") is None


def test_tokens_without_a_cluster_ask_the_login_server_with_the_app_for_it(
    make, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    store.save(CONNECTION_ID, tokens())
    api.get(VALIDATION, **answer("twinfield", "token_validation"))
    api.post(PROCESS, **answer("twinfield", "offices"))

    assert make(TwinfieldConnector).list_administrations(TWINFIELD) == OFFICES
    validation = api.calls[0]
    assert query(validation) == {"token": [ACCESS_TOKEN]}
    app = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert validation.request.headers["Authorization"] == f"Basic {app}"
    envelope = parse_xml(api.calls[1].request.body.decode())
    assert envelope.find(f"{SOAP_NS}Header/{TWF_NS}Header/{TWF_NS}CompanyCode") is None


def test_a_result_0_is_rejected_with_twinfields_messages(make, api: responses.RequestsMock) -> None:
    api.post(PROCESS, **answer("twinfield", "result_0"))

    error = refused(make)

    assert error.code == "package_rejected"
    assert error.params["detail"] == fixture("twinfield", "result_0")["message"]


def test_a_fault_refusing_access_is_answered_at_once_with_twinfields_own_words(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    # HTTP 500, in Dutch: the missing company is not an outage, and no wait mends it.
    api.post(PROCESS, **answer("twinfield", "fault_company_missing"))
    refreshing(api)
    api.post(PROCESS, **answer("twinfield", "fault_company_missing"))

    error = refused(make)

    assert error.code == "package_auth_refused"
    assert error.params["detail"] == "Toegang geweigerd. Company ontbreekt in request header."
    assert waits == []
    sent = [call.request.url for call in api.calls].count(PROCESS)
    assert sent == 2, "once, and once after a refresh"


@pytest.mark.parametrize("published", ["fault_token_invalid", "fault_logon_credentials"])
def test_a_fault_refusing_the_token_is_mended_by_one_refresh(
    make, api: responses.RequestsMock, waits: list[float], published: str
) -> None:
    api.post(PROCESS, **answer("twinfield", published))
    refreshing(api)
    api.post(PROCESS, **answer("twinfield", "offices"))

    assert make(TwinfieldConnector).list_administrations(TWINFIELD) == OFFICES
    envelope = parse_xml(api.calls[-1].request.body.decode())
    assert envelope.findtext(f"{SOAP_NS}Header/{TWF_NS}Header/{TWF_NS}AccessToken") == (
        NEW_ACCESS_TOKEN
    )
    assert waits == []


def test_another_fault_is_refused_with_its_text_and_not_tried_again(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(PROCESS, **answer("twinfield", "fault_unexpected"))

    error = refused(make)

    assert error.code == "package_rejected"
    assert error.params["detail"] == "Unexpected exception."
    assert len(api.calls) == 1
    assert waits == []


def test_a_5xx_that_is_no_fault_is_an_outage_tried_again(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(PROCESS, status=503, body="Service Unavailable", content_type="text/html")
    api.post(PROCESS, **answer("twinfield", "offices"))

    assert make(TwinfieldConnector).list_administrations(TWINFIELD) == OFFICES
    assert waits == [1.0]


def test_waits_out_twinfields_429_by_its_retry_after(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(PROCESS, **answer("twinfield", "rate_limited"))
    api.post(PROCESS, **answer("twinfield", "offices"))

    assert make(TwinfieldConnector).list_administrations(TWINFIELD) == OFFICES
    assert waits == [3.0]


def test_an_answer_with_a_document_type_is_refused_unparsed(
    make, api: responses.RequestsMock
) -> None:
    api.post(PROCESS, body='<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')

    assert refused(make).code == "package_malformed"


def test_declares_it_cannot_rewrite_links(make) -> None:
    assert make(TwinfieldConnector).can_rewrite_links is False
