"""E-mail over real SMTP: aiosmtpd as a local server in a thread, the outbox on SQLite.

Each e-mail arrives once with its stable Message-ID and the transfer code in its body,
which the outbox forgets once sent; with the server down nothing is lost and everything goes
out once it is back; a password travels only over TLS.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from migrationkit import services
from migrationkit.adapters.mail import SmtpMailer
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.bootstrap import Runtime, build_runtime
from migrationkit.config import Settings
from migrationkit.domain.model import AccountingPackage, Email, Role
from migrationkit.services.outbox import DispatchReport, dispatch_outbox
from served import free_port

SENDER = "migratie@example.nl"


class Inbox:
    """What the server received: each message parsed, and who logged in."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        if (data.login, data.password) != (b"mailer", b"ge heim"):
            return AuthResult(success=False, handled=False)
        self.logins.append(data.login.decode())
        return AuthResult(success=True)

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def server(inbox: Inbox, smtp_port: int) -> Iterator[Controller]:
    """A plain local SMTP server, as a relay on the same host would be."""
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield controller
    controller.stop(no_assert=True)


@pytest.fixture
def runtime(tmp_path: Path, smtp_port: int) -> Runtime:
    """The embedded runtime on a new SQLite file, mailing through the local server."""
    settings = Settings.from_environ(
        {
            "MIGRATIONKIT_HOME": str(tmp_path),
            "MIGRATIONKIT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "MIGRATIONKIT_MAIL_FROM": SENDER,
            "MIGRATIONKIT_SECRET_KEY": "k" * 32,
            "MIGRATIONKIT_DEMO": "1",  # the in-memory packages, no credentials
        }
    )
    upgrade(settings.database_url)
    return build_runtime(settings)


def offer(runtime: Runtime, *codes: str) -> list[str]:
    """Noord offers each administration in its own offer; the transfer codes."""
    deps = runtime.deps
    with deps.uow() as uow:
        noord = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        sender = uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER)
        connection = uow.connections.add(noord.id, AccountingPackage.EXACT_ONLINE_NL, "Exact")
        administrations = [
            uow.administrations.add(
                noord.id, connection.id, code, f"Bakkerij {code}", f"{code}@inbox.nl", code
            )
            for code in codes
        ]
        uow.commit()
    return [
        services.offer_administrations(
            deps,
            actor_id=sender.id,
            connection_id=connection.id,
            administration_ids=[administration.id],
            recipients=["baas@zuid.nl"],
            accepted_terms=True,
        ).code
        for administration in administrations
    ]


def kept_emails(runtime: Runtime) -> list[Email]:
    with runtime.deps.uow() as uow:
        return [message.email for message in uow.outbox.list_recent()]


def test_the_mailer_sends_the_email_with_the_given_message_id(
    server: Controller, inbox: Inbox, smtp_port: int
) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5)
    sent = Email(
        to=("baas@zuid.nl", "hulp@zuid.nl"),
        cc=("baas@noord.nl",),
        subject="Migratieverzoek",
        body="Je overdrachtscode: [[code]]",
        kind="offer_code",
        secret="ABCD-EFGH",
    )

    mailer.send(sent, message_id="<outbox-7@migratie.example.nl>")

    [received] = inbox.messages
    assert received["Message-ID"] == "<outbox-7@migratie.example.nl>"
    assert received["From"] == SENDER
    assert received["To"] == "baas@zuid.nl, hulp@zuid.nl"
    assert received["Cc"] == "baas@noord.nl"
    assert received["Subject"] == "Migratieverzoek"
    assert received["Content-Language"] == "nl"
    assert received.get_content_type() == "multipart/alternative"
    text, html = (received.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == "Je overdrachtscode: ABCD-EFGH"
    assert "<p>Je overdrachtscode: ABCD-EFGH</p>" in html.get_content()
    assert '<html lang="nl">' in html.get_content()
    assert "ABCD" not in repr(sent)


def test_an_email_in_english_goes_out_in_english_with_every_value_escaped_in_html(
    server: Controller, inbox: Inbox, smtp_port: int
) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5)
    hostile = "<script>alert(1)</script> & Zn"
    sent = Email(
        to=("boss@south.example",),
        subject=f"Migration completed: {hostile}",
        body=f"The migration of 0042 {hostile} is complete.\n\n- one\n- two\n",
        kind="migration_completed",
        language="en",
    )

    mailer.send(sent, message_id="<outbox-8@migratie.example.nl>")

    [received] = inbox.messages
    assert received["Content-Language"] == "en"
    text, html = (received.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None
    assert html is not None
    assert hostile in text.get_content()
    page = html.get_content()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Zn" in page
    assert "<li>one</li>" in page
    assert '<html lang="en">' in page


def test_the_dispatcher_sends_each_email_once_with_the_code_and_then_forgets_the_code(
    server: Controller, inbox: Inbox, runtime: Runtime
) -> None:
    codes = offer(runtime, "0001", "0002")
    assert runtime.mailer is not None

    assert dispatch_outbox(runtime.deps, runtime.mailer) == DispatchReport(sent=2, failed=0)
    assert dispatch_outbox(runtime.deps, runtime.mailer) == DispatchReport(sent=0, failed=0)

    assert inbox.message_ids() == ["<outbox-1@localhost>", "<outbox-2@localhost>"]
    for message, code in zip(inbox.messages, codes, strict=True):
        text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
        assert text is not None
        assert html is not None
        assert f"Je overdrachtscode: {code}" in text.get_content()
        assert f"Je overdrachtscode: {code}" in html.get_content()
    for kept in kept_emails(runtime):
        assert kept.secret is None
        assert all(code not in kept.text() for code in codes)


def test_with_the_server_down_nothing_is_lost_and_all_goes_out_once_it_is_back(
    inbox: Inbox, runtime: Runtime, smtp_port: int
) -> None:
    codes = offer(runtime, "0001", "0002")
    assert runtime.mailer is not None

    down = dispatch_outbox(runtime.deps, runtime.mailer)

    assert down == DispatchReport(sent=0, failed=2)
    assert all(kept.secret in codes for kept in kept_emails(runtime))

    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        back = dispatch_outbox(runtime.deps, runtime.mailer)
    finally:
        controller.stop()

    assert back == DispatchReport(sent=2, failed=0)
    assert sorted(inbox.message_ids()) == ["<outbox-1@localhost>", "<outbox-2@localhost>"]


def test_a_password_is_never_sent_to_a_server_without_tls(
    server: Controller, inbox: Inbox, smtp_port: int
) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, username="mailer", password="ge heim")

    with pytest.raises(smtplib.SMTPNotSupportedError, match="not sent in the clear"):
        mailer.send(Email(("baas@zuid.nl",), "Test", "Tekst", "test"), message_id="<t@x>")

    assert inbox.messages == []
    assert inbox.logins == []


def test_over_starttls_the_mailer_logs_in_and_sends(
    inbox: Inbox, smtp_port: int, tmp_path: Path
) -> None:
    server_context, client_context = tls_contexts(tmp_path)
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=smtp_port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_required=True,
    )
    controller.start()
    mailer = SmtpMailer(
        "127.0.0.1",
        smtp_port,
        SENDER,
        username="mailer",
        password="ge heim",
        ssl_context=client_context,
    )
    try:
        mailer.send(Email(("baas@zuid.nl",), "Test", "Tekst", "test"), message_id="<t@x>")
    finally:
        controller.stop()

    assert inbox.logins == ["mailer"]
    assert inbox.message_ids() == ["<t@x>"]
    assert "ge heim" not in repr(mailer)


def tls_contexts(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context, and a client's that
    trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    client_context = ssl.create_default_context(cafile=cert_file)
    return server_context, client_context
