"""Twinfield: administrations are offices, listed through the SOAP XML web service.

Calls: after each new token, ``GET {login}/connect/accesstokenvalidation?token=..`` (the app
as Basic authorization) tells the organisation's cluster (``twf.clusterUrl``), kept with the
tokens. Then
``POST {cluster}/webservices/processxml.asmx`` (SOAPAction ``ProcessXmlString``) with the
header ``<Header><AccessToken/><CompanyCode/></Header>`` and the request
``<list><type>offices</type></list>``; existence is read from the same list. Twinfield has
no confirmed operation to read or rewrite a document link, so the connector declares it
cannot.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import ClassVar, Final
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import attrs
import requests

from migrationkit.adapters.connectors._base import WithoutLinkRewriting
from migrationkit.adapters.connectors._http import Dialect, clean_detail
from migrationkit.adapters.connectors._oauth import Describe, OAuthApp
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.domain.model import AccountingPackage, Connection, PackageAdministration
from migrationkit.ports import OAuthTokens

#: The login server; each organisation's calls go to its own cluster.
BASE_URL = "https://login.twinfield.com/auth/authentication"
SCOPE = "openid twf.organisationUser twf.organisation offline_access"
SOAP_ACTION: Final = "http://www.twinfield.com/ProcessXmlString"
_SOAP: Final = "{http://schemas.xmlsoap.org/soap/envelope/}"
_TWF: Final = "{http://www.twinfield.com/}"
#: The error codes in a fault's ``<detail><code>`` that refuse the token or the access
#: (developers.twinfield.com, API guidelines, "Error codes"): connect again.
_ACCESS_CODES: Final = frozenset(
    {"101", "102", "103", "104", "105", "106", "108", "109"}
    | {"351", "352", "353", "354", "358", "359"}
)
#: Wording of the same faults when the code is absent; the message is in the user's
#: language ("Toegang geweigerd. Company ontbreekt in request header.", "Access denied.
#: Token invalid.", "Your logon credentials are not valid anymore. Try to log on again.").
_ACCESS_WORDS: Final = (
    "toegang geweigerd",
    "access denied",
    "access is denied",
    "token",
    "logon credentials",
    "log-on credentials",
)
_ENVELOPE: Final = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soap:Header>"
    '<Header xmlns="http://www.twinfield.com/">'
    "<AccessToken>{token}</AccessToken>{company}"
    "</Header>"
    "</soap:Header>"
    "<soap:Body>"
    '<ProcessXmlString xmlns="http://www.twinfield.com/">'
    "<xmlRequest>{request}</xmlRequest>"
    "</ProcessXmlString>"
    "</soap:Body>"
    "</soap:Envelope>"
)


class MalformedXml(ValueError):
    """An answer that is not XML, or XML with a document type (refused: entity tricks)."""


def parse_xml(text: str) -> ElementTree.Element:
    """Parses an answer from the package. A document type is refused before parsing, so no
    entity is ever expanded (what defusedxml would guard against)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise MalformedXml("a document type in the answer")
    try:
        return ElementTree.fromstring(text)  # noqa: S314 (no DTD can reach here)
    except ElementTree.ParseError:
        raise MalformedXml("not XML") from None


@attrs.frozen
class Fault:
    """A SOAP fault: its ``faultstring`` (Twinfield's message, in the user's language) and
    the error code of its ``<detail>``, when it has one."""

    text: str
    code: str | None

    @property
    def refuses_access(self) -> bool:
        if self.code is not None and self.code in _ACCESS_CODES:
            return True
        text = self.text.lower()
        return any(word in text for word in _ACCESS_WORDS)


def _fault(response: requests.Response) -> Fault | None:
    """The SOAP fault in the answer, whatever its HTTP status, if there is one."""
    if response.status_code < 400:
        return None
    try:
        root = parse_xml(response.text)
    except MalformedXml:
        return None
    fault = root.find(f"{_SOAP}Body/{_SOAP}Fault")
    if fault is None:
        return None
    text = (fault.findtext("faultstring") or fault.findtext("detail/message") or "").strip()
    code = (fault.findtext("detail/code") or "").strip() or None
    return Fault(text or "SOAP fault", code)


class TwinfieldDialect(Dialect):
    """A SOAP fault is Twinfield's answer, not an outage, whatever its status (Twinfield sends
    them as 401, 403 or 500): never tried again, its text is the message, and one that refuses
    the token or the access sends the user to connect again."""

    def message(self, response: requests.Response) -> str | None:
        fault = _fault(response)
        return fault.text if fault else None

    def is_auth_failure(self, response: requests.Response) -> bool:
        if response.status_code == 401:
            return True
        fault = _fault(response)
        return fault is not None and fault.refuses_access

    def is_refusal(self, response: requests.Response) -> bool:
        return _fault(response) is not None


class TwinfieldConnector(WithoutLinkRewriting):
    """Twinfield's offices as package administrations: id and code are the office code, the
    name its ``name``."""

    package: AccountingPackage = AccountingPackage.TWINFIELD
    dialect: ClassVar[type[Dialect]] = TwinfieldDialect

    def default_base_url(self) -> str:
        return BASE_URL

    def app(self, credentials: PackageCredentials) -> OAuthApp:
        return OAuthApp(
            authorize_url=f"{self.base_url}/connect/authorize",
            token_url=f"{self.base_url}/connect/token",
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_url=credentials.redirect_url,
            scope=SCOPE,
        )

    def describe(self) -> Describe:
        return self._cluster_of

    def consent_extra(self) -> dict[str, str]:
        # OpenID Connect: a fresh nonce for each consent.
        return {"nonce": secrets.token_urlsafe(16)}

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        answer = self.oauth.call(
            connection, lambda tokens: self._process(tokens, "<list><type>offices</type></list>")
        )
        return self.parse(_offices, answer)

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        return next(
            (
                office
                for office in self.list_administrations(connection)
                if office.package_admin_id == package_admin_id
            ),
            None,
        )

    def _cluster_of(self, access_token: str) -> tuple[tuple[str, str], ...]:
        # Twinfield's knowledge base asks for the app's id and secret as Basic authorization
        # ("Which cluster do I need for my request?").
        app = self.oauth.app
        pair = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        response = self.http.send(
            "GET",
            f"{self.base_url}/connect/accesstokenvalidation",
            idempotent=True,
            params={"token": access_token},
            headers={"Accept": "application/json", "Authorization": f"Basic {pair}"},
            secrets=(access_token, app.client_secret),
        )
        body = self.http.read_json(response)
        cluster = self.parse(lambda: str(body["twf.clusterUrl"]).rstrip("/"))
        return (("cluster_url", cluster),)

    def _process(self, tokens: OAuthTokens, request: str) -> ElementTree.Element:
        """Sends one XML request through ProcessXmlString; the answer's own XML root."""
        cluster = tokens.account_value("cluster_url")
        if cluster is None:
            ((_, cluster),) = self._cluster_of(tokens.access_token)
        if not cluster.startswith("https://"):
            raise self.http.malformed()
        company = tokens.account_value("company_code")
        envelope = _ENVELOPE.format(
            token=escape(tokens.access_token),
            company=f"<CompanyCode>{escape(company)}</CompanyCode>" if company else "",
            request=escape(request),
        )
        response = self.http.send(
            "POST",
            f"{cluster}/webservices/processxml.asmx",
            # A list request reads only, so it may be sent again.
            idempotent=True,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION},
            data=envelope.encode(),
            secrets=(tokens.access_token,),
        )
        try:
            result = parse_xml(response.text).findtext(
                f"{_SOAP}Body/{_TWF}ProcessXmlStringResponse/{_TWF}ProcessXmlStringResult"
            )
            answer = parse_xml(result or "")
        except MalformedXml:
            raise self.http.malformed() from None
        if answer.get("result") == "0":
            messages = [
                element.get("msg", "")
                for element in answer.iter()
                if element.get("msgtype") == "error"
            ]
            detail = clean_detail("; ".join(m for m in messages if m) or "result 0")
            raise self.http.error("package_rejected", detail=detail)
        return answer


def _offices(answer: ElementTree.Element) -> list[PackageAdministration]:
    if answer.tag != "offices":
        raise TypeError(f"expected <offices>, got <{answer.tag}>")
    offices = []
    for office in answer.iter("office"):
        code = (office.text or "").strip()
        if not code:
            raise ValueError("an office without a code")
        offices.append(
            PackageAdministration(package_admin_id=code, code=code, name=office.get("name", code))
        )
    return offices
