"""The outbox dispatcher: sends the e-mails the use cases wrote, each with a stable
Message-ID, and forgets a transfer code once its e-mail is out (R5)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import attrs

from migrationkit.ports import Mailer, OutboxMessage
from migrationkit.services.dependencies import Dependencies

log = logging.getLogger(__name__)

#: Failed sends in a row after which a run stops: the server is down, the rest can wait.
GIVE_UP_AFTER = 3

#: How many e-mails a dispatcher claims at a time, and how long it holds them: far longer
#: than sending that many takes, even at the mailer's time-out for each.
CLAIM_SIZE = 10
CLAIM_FOR = timedelta(minutes=10)


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

    The e-mails are claimed ``CLAIM_SIZE`` at a time (``OutboxRepository.claim_pending``),
    so of any number of dispatchers at once each e-mail is sent by one. A send that fails
    leaves the message pending, and its claim is given up at the end of the run for the next
    one; after ``GIVE_UP_AFTER`` failures in a row the run stops. A message whose send went
    through but whose marking failed (the database went away) is sent again once its claim
    has run out (``CLAIM_FOR``), with the same Message-ID (``<outbox-{id}@{portal host}>``),
    so a mail client shows it once.
    """
    domain = urlsplit(deps.policy.portal_url).hostname or "localhost"
    sent = failed = failed_in_a_row = 0
    unsent: dict[datetime, list[int]] = {}
    while sent + failed < limit and failed_in_a_row < GIVE_UP_AFTER:
        until, claimed = _claim(deps, min(CLAIM_SIZE, limit - sent - failed))
        if not claimed:
            break
        for message in claimed:
            if failed_in_a_row >= GIVE_UP_AFTER:
                unsent.setdefault(until, []).append(message.id)
            elif _send(deps, mailer, message, domain):
                sent += 1
                failed_in_a_row = 0
            else:
                unsent.setdefault(until, []).append(message.id)
                failed += 1
                failed_in_a_row += 1
    if unsent:
        with deps.uow() as uow:
            for until, message_ids in unsent.items():
                uow.outbox.release(message_ids, until=until)
            uow.commit()
    return DispatchReport(sent=sent, failed=failed)


def _claim(deps: Dependencies, size: int) -> tuple[datetime, list[OutboxMessage]]:
    """Claims up to ``size`` pending e-mails in a transaction of its own; the moment the
    claim runs out, and the e-mails."""
    now = deps.clock.now()
    until = now + CLAIM_FOR
    with deps.uow() as uow:
        claimed = list(uow.outbox.claim_pending(size, now=now, until=until))
        uow.commit()
    return until, claimed


def _send(deps: Dependencies, mailer: Mailer, message: OutboxMessage, domain: str) -> bool:
    """Sends one e-mail and marks it sent; false, and it stays pending, when the send fails."""
    message_id = outbox_message_id(message.id, domain)
    try:
        mailer.send(message.email, message_id=message_id)
    except Exception as error:  # any failure: the message waits, the run goes on
        log.warning(
            "outbox message %s not sent, kept for the next run: %r",
            message.id,
            error,
            extra={"outbox_id": message.id},
        )
        return False
    with deps.uow() as uow:
        uow.outbox.mark_sent(message.id, deps.clock.now())
        uow.commit()
    # The Message-ID and the outbox row, never the e-mail's body or its code.
    log.info("email_sent", extra={"outbox_id": message.id, "message_id": message_id})
    return True
