"""The outbox dispatcher: sends the e-mails the use cases wrote, each with a stable
Message-ID, and forgets a transfer code once its e-mail is out (R5)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import attrs

from migrationkit.ports import Mailer
from migrationkit.services.dependencies import Dependencies

log = logging.getLogger(__name__)

#: Failed sends in a row after which a run stops: the server is down, the rest can wait.
GIVE_UP_AFTER = 3


@attrs.frozen
class DispatchReport:
    """What one run did: e-mails sent, and sends that failed (they stay pending)."""

    sent: int
    failed: int


def outbox_message_id(message_id: int, domain: str) -> str:
    """The Message-ID header of an outbox message: the same every time it is sent."""
    return f"<outbox-{message_id}@{domain}>"


def dispatch_outbox(deps: Dependencies, mailer: Mailer, *, limit: int = 100) -> DispatchReport:
    """Sends up to ``limit`` pending e-mails, oldest first, and marks each sent (forgetting
    its secret) in its own transaction right after the mailer took it.

    A send that fails leaves the message pending for the next run; after ``GIVE_UP_AFTER``
    failures in a row the run stops. A message whose send went through but whose marking
    failed (the database went away) is sent again by the next run, with the same Message-ID
    (``<outbox-{id}@{portal host}>``), so a mail client shows it once. Two runs at the same
    moment can send one message twice, likewise with one Message-ID.
    """
    with deps.uow() as uow:
        pending = uow.outbox.list_pending(limit)
    domain = urlsplit(deps.policy.portal_url).hostname or "localhost"
    sent = failed = failed_in_a_row = 0
    for message in pending:
        try:
            mailer.send(message.email, message_id=outbox_message_id(message.id, domain))
        except Exception as error:  # any failure: the message waits, the run goes on
            log.warning("outbox message %s not sent, kept for the next run: %r", message.id, error)
            failed += 1
            failed_in_a_row += 1
            if failed_in_a_row >= GIVE_UP_AFTER:
                break
            continue
        failed_in_a_row = 0
        with deps.uow() as uow:
            uow.outbox.mark_sent(message.id, deps.clock.now())
            uow.commit()
        sent += 1
    return DispatchReport(sent=sent, failed=failed)
