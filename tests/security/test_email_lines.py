"""E-mails that arrive whatever their recipients and names hold, at a real SMTP server
(aiosmtpd in a thread) that does not announce SMTPUTF8, as many relays do not.

- A recipient on an internationalised domain (zuid@exämple.nl) is taken and the e-mail goes
  to the domain's IDNA form (xn--exmple-cua.nl): before, it waited in the outbox for ever.
- A recipient whose local part (before the @) is not ASCII cannot be delivered by every
  server: it is refused at the field, in Dutch, and nothing is offered.
- An administration name with line breaks (as a package may deliver it) stays one line in
  every kind of e-mail (found from ``services._emails``, so a new kind is not forgotten):
  before, the withdraw e-mail could not be sent at all and the code e-mail got lines of its
  own.
"""

from __future__ import annotations

import email
import email.policy
import inspect
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from portal_support import codes

from migrationkit import services
from migrationkit.adapters.mail import SmtpMailer
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.bootstrap import Runtime, build_runtime
from migrationkit.config import Settings
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import AccountingPackage, Email, Role, User
from migrationkit.services import _emails
from migrationkit.services.outbox import DispatchReport, dispatch_outbox

SENDER = "migratie@example.nl"
#: A name as a package may deliver it: line breaks, and a header smuggled in.
BROKEN_NAME = "Bakkerij\r\nBcc: indringer@example.nl\r\n\r\nDe Korenschoof\n"
CLEAN_NAME = "Bakkerij De Korenschoof"


class Inbox:
    """What the server received: each message parsed, with the envelope's recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    """A local SMTP server that does not announce SMTPUTF8."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    yield port
    controller.stop(no_assert=True)


@pytest.fixture
def runtime(tmp_path: Path, smtp_port: int) -> Runtime:
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


def noord(runtime: Runtime, name: str) -> tuple[User, int, int]:
    """Noord's super user, a connection, and an administration of that name."""
    with runtime.deps.uow() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        sender = uow.users.add(environment.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER)
        connection = uow.connections.add(environment.id, AccountingPackage.EXACT_ONLINE_NL, "E")
        administration = uow.administrations.add(
            environment.id, connection.id, "1001", name, "1001@inbox.nl", "pa-1001"
        )
        uow.commit()
    return sender, connection.id, administration.id


def offer(runtime: Runtime, name: str, recipients: list[str]) -> services.OfferReceipt:
    sender, connection_id, administration_id = noord(runtime, name)
    return services.offer_administrations(
        runtime.deps,
        actor_id=sender.id,
        connection_id=connection_id,
        administration_ids=[administration_id],
        recipients=recipients,
        accepted_terms=True,
    )


def dispatched(runtime: Runtime) -> DispatchReport:
    assert runtime.mailer is not None
    return dispatch_outbox(runtime.deps, runtime.mailer)


# --- internationalised addresses ---------------------------------------------------------------


def test_a_recipient_on_an_internationalised_domain_gets_the_code_from_a_plain_server(
    runtime: Runtime, inbox: Inbox
) -> None:
    receipt = offer(runtime, CLEAN_NAME, ["zuid@exämple.nl"])

    assert dispatched(runtime) == DispatchReport(sent=1, failed=0)

    ((envelope, message),) = inbox.messages
    assert envelope == ["zuid@xn--exmple-cua.nl", "baas@noord.nl"]
    assert message["To"] == "zuid@xn--exmple-cua.nl"
    assert receipt.code in message.get_body(("plain",)).get_content()
    assert receipt.offer.recipients == ("zuid@exämple.nl",)  # shown as typed


@pytest.mark.parametrize("address", ["jösé@example.nl", "zuid@ex☃mple.nl"])
def test_an_address_not_every_server_can_deliver_is_refused_and_nothing_is_offered(
    runtime: Runtime, address: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        offer(runtime, CLEAN_NAME, [address])

    expected = "email_local_part_not_ascii" if address.startswith("jösé") else "email_invalid"
    assert refused.value.code == expected
    with runtime.deps.uow() as uow:
        assert uow.outbox.list_recent() == []


def test_the_portal_refuses_a_non_ascii_local_part_at_the_recipients_field(
    noord: FlaskClient, scene: Any
) -> None:
    administration = scene.administration("1001")
    response = noord.post(
        "/migraties/uitgaand/samenvatting",
        data={
            "koppeling": administration.connection_id,
            "administratie": administration.id,
            "ontvangers": "jösé@example.nl",
            "voorwaarden": "y",
            "submit": "Verzenden",
        },
    )

    assert response.status_code == 200
    assert codes(response.text) == {"email_local_part_not_ascii": "ontvangers-error"}


# --- one line per name -------------------------------------------------------------------------


def email_kinds() -> dict[str, Callable[..., _emails.Letter]]:
    """Every kind of e-mail the library writes: the functions of ``_emails`` that make a
    letter."""
    return {
        name: function
        for name, function in inspect.getmembers(_emails, inspect.isfunction)
        if function.__module__ == _emails.__name__
        and inspect.signature(function).return_annotation == "Letter"
    }


def written(
    kind: Callable[..., _emails.Letter], receipt: services.OfferReceipt, language: str = "nl"
) -> Email:
    """The e-mail of this kind about the receipt's offer in ``language``, every argument
    filled by name."""
    values = {
        "offer": receipt.offer,
        "items": receipt.items,
        "item": receipt.items[0],
        "code": receipt.code,
        "portal_url": "https://portal.example.nl",
        "reason": "Niet bij ons.\r\nBcc: indringer@example.nl",
        "recipient": "zuid@example.nl",
        "target_code": "7001\r\n",
        "report_url": "https://portal.example.nl/migraties/1/migratieverslag.pdf\n",
    }
    names = inspect.signature(kind).parameters
    return _emails._render(kind(**{name: values[name] for name in names}), language)


def test_every_email_kind_is_known() -> None:
    assert len(email_kinds()) >= 10


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", sorted(email_kinds()))
def test_a_name_with_line_breaks_stays_one_line_in_every_email(
    runtime: Runtime, inbox: Inbox, smtp_port: int, kind: str, language: str
) -> None:
    receipt = offer(runtime, BROKEN_NAME, ["zuid@example.nl"])
    broken = written(email_kinds()[kind], receipt, language)

    assert "\r" not in broken.subject
    assert "\n" not in broken.subject
    assert "Bakkerij Bcc: indringer@example.nl De Korenschoof" in broken.subject + broken.text()
    assert not any(line.startswith("Bcc:") for line in broken.text().splitlines())
    assert not any(line.strip() == "De Korenschoof" for line in broken.text().splitlines())

    SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5).send(broken, message_id="<t@x>")

    ((envelope, message),) = inbox.messages
    assert "indringer@example.nl" not in envelope
    assert str(message["Subject"]).strip() == broken.subject  # a long one is folded
    assert message["Bcc"] is None


def test_the_code_and_withdraw_emails_of_a_name_with_line_breaks_are_sent(
    runtime: Runtime, inbox: Inbox
) -> None:
    receipt = offer(runtime, BROKEN_NAME, ["zuid@example.nl"])
    services.withdraw_item(
        runtime.deps, actor_id=receipt.offer.sender_user_id, item_id=receipt.items[0].id
    )

    assert dispatched(runtime) == DispatchReport(sent=2, failed=0)

    code_email, withdrawn = (message for _envelope, message in inbox.messages)
    assert "Bakkerij Bcc: indringer@example.nl De Korenschoof" in withdrawn["Subject"]
    text = code_email.get_body(("plain",)).get_content()
    listed = [line for line in text.splitlines() if "1001" in line]
    assert (
        listed[0].strip()
        == "- 1001 Bakkerij Bcc: indringer@example.nl De Korenschoof (1001@inbox.nl)"
    )
