"""Twinfield: offices through ProcessXmlString, with the SOAP header, the cluster learnt from
the token, and Twinfield's error forms."""

from __future__ import annotations

import pytest
import responses
from listings import OFFICES, TWINFIELD_ACCOUNT, TWINFIELD_CLUSTER, TWINFIELD_LOGIN, soap
from package_api import ACCESS_TOKEN, CONNECTION_ID, connection, query, tokens

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors.twinfield import SOAP_ACTION, TwinfieldConnector, parse_xml
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, PackageAdministration

TWINFIELD = connection(AccountingPackage.TWINFIELD)
PROCESS = f"{TWINFIELD_CLUSTER}/webservices/processxml.asmx"
SOAP_NS = "{http://schemas.xmlsoap.org/soap/envelope/}"
TWF_NS = "{http://www.twinfield.com/}"


@pytest.fixture(autouse=True)
def with_cluster(store: InMemoryTokenStore) -> None:
    store.save(CONNECTION_ID, tokens(account=TWINFIELD_ACCOUNT))


def test_lists_the_offices_sending_the_soap_header(make, api: responses.RequestsMock) -> None:
    api.post(PROCESS, body=soap(OFFICES), content_type="text/xml; charset=utf-8")

    found = make(TwinfieldConnector).list_administrations(TWINFIELD)

    assert found == [
        PackageAdministration("001", "001", "MORE&Zo Services BV"),
        PackageAdministration("NL002", "NL002", "Bakkerij De Korenbloem"),
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
    api.post(PROCESS, body=soap(OFFICES))
    api.post(PROCESS, body=soap(OFFICES))
    twinfield = make(TwinfieldConnector)

    assert twinfield.find_administration(TWINFIELD, "NL002") == PackageAdministration(
        "NL002", "NL002", "Bakkerij De Korenbloem"
    )
    assert twinfield.find_administration(TWINFIELD, "NL999") is None


def test_tokens_without_a_cluster_ask_the_login_server_for_it(
    make, api: responses.RequestsMock, store: InMemoryTokenStore
) -> None:
    store.save(CONNECTION_ID, tokens())
    api.get(
        f"{TWINFIELD_LOGIN}/connect/accesstokenvalidation",
        json={"twf.clusterUrl": TWINFIELD_CLUSTER, "twf.organisationCode": "NOORD"},
    )
    api.post(PROCESS, body=soap(OFFICES))

    assert len(make(TwinfieldConnector).list_administrations(TWINFIELD)) == 2
    assert query(api.calls[0]) == {"token": [ACCESS_TOKEN]}
    envelope = parse_xml(api.calls[1].request.body.decode())
    assert envelope.find(f"{SOAP_NS}Header/{TWF_NS}Header/{TWF_NS}CompanyCode") is None


def test_a_result_0_is_rejected_with_twinfields_messages(make, api: responses.RequestsMock) -> None:
    api.post(
        PROCESS,
        body=soap(
            '<list result="0"><type msgtype="error" msg="Lijsttype niet toegestaan." '
            'result="0">offices</type></list>'
        ),
    )

    with pytest.raises(PackageError) as caught:
        make(TwinfieldConnector).list_administrations(TWINFIELD)

    assert caught.value.code == "package_rejected"
    assert caught.value.params["detail"] == "Lijsttype niet toegestaan."


def fault(text: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>{text}</faultstring>"
        "<detail /></soap:Fault></soap:Body></soap:Envelope>"
    )


def test_a_fault_about_the_token_is_an_expired_connection(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(PROCESS, status=500, body=fault("Access token is invalid or has expired."))
    api.post(f"{TWINFIELD_LOGIN}/connect/token", status=400, json={"error": "invalid_grant"})

    with pytest.raises(PackageError) as caught:
        make(TwinfieldConnector).list_administrations(TWINFIELD)

    assert caught.value.code == "package_auth_expired"
    assert waits == [], "a refused token is refreshed, not waited for"


def test_another_fault_is_a_server_error_tried_again(
    make, api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(PROCESS, status=500, body=fault("Object reference not set to an instance."))
    api.post(PROCESS, body=soap(OFFICES))

    assert len(make(TwinfieldConnector).list_administrations(TWINFIELD)) == 2
    assert waits == [1.0]


def test_an_answer_with_a_document_type_is_refused_unparsed(
    make, api: responses.RequestsMock
) -> None:
    api.post(
        PROCESS,
        body='<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    )

    with pytest.raises(PackageError) as caught:
        make(TwinfieldConnector).list_administrations(TWINFIELD)

    assert caught.value.code == "package_malformed"


def test_declares_it_cannot_rewrite_links(make) -> None:
    assert make(TwinfieldConnector).can_rewrite_links is False
