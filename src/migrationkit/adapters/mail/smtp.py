"""The ``Mailer`` port over SMTP, with the standard library's ``smtplib``."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

import idna

from migrationkit.domain.model import Email


def ascii_address(address: str) -> str:
    """``address`` as every SMTP server takes it: an internationalised domain in its IDNA
    2008 form (``zuid@exämple.nl`` -> ``zuid@xn--exmple-cua.nl``); the local part is ASCII
    already (the library refuses any other). Servers without SMTPUTF8 refuse anything else,
    and the e-mail would wait in the outbox for ever."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


class SmtpMailer:
    """Sends each e-mail over its own SMTP connection.

    The Message-ID header is the stable id the caller gives, so a message sent again after a
    crash is recognised as the same one. An address on an internationalised domain is sent
    in its ASCII (IDNA) form, so any server takes it. Each e-mail goes as plain text with a
    simple HTML alternative of the same content (``multipart/alternative``), in its one
    language. The transfer code (``Email.secret``)
    enters the body here, at the moment of sending, and nowhere else. A password is only
    sent over TLS: from the first byte (``implicit_tls``), or after STARTTLS, which is used
    whenever the server offers it.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        implicit_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.implicit_tls = implicit_tls
        self.username = username
        self._password = password
        self.timeout = timeout
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host!r}, {self.port}, sender={self.sender!r})"

    def send(self, email: Email, *, message_id: str) -> None:
        """Raises ``smtplib.SMTPException`` or ``OSError`` when the server cannot be reached
        or refuses: the message then stays in the outbox for the next run."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(ascii_address(address) for address in email.to)
        if email.cc:
            message["Cc"] = ", ".join(ascii_address(address) for address in email.cc)
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id
        message.set_content(email.text())
        message.add_alternative(email.html(), subtype="html")
        # After the parts are made: making them moves every Content-* header into the first.
        message["Content-Language"] = email.language
        with self._connect() as server:
            server.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        server: smtplib.SMTP
        if self.implicit_tls:
            server = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            server.ehlo()
            if not self.implicit_tls and server.has_extn("starttls"):
                server.starttls(context=self._ssl_context)
                server.ehlo()
            if self.username is not None:
                if not isinstance(server.sock, ssl.SSLSocket):
                    raise smtplib.SMTPNotSupportedError(
                        f"{self.host} offers no TLS: the SMTP password is not sent in the clear"
                    )
                server.login(self.username, self._password or "")
        except BaseException:
            server.close()
            raise
        return server
