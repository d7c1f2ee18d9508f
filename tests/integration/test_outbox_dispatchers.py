"""Two mail dispatchers at once, in threads, on PostgreSQL, SQLite and the in-memory fake:
each of 200 e-mails is sent exactly once, and both dispatchers take part."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from migrationkit.domain.model import Email
from migrationkit.ports import UnitOfWork
from migrationkit.services.outbox import dispatch_outbox
from migrationkit.testing import make_dependencies

MESSAGES = 200


class CountingMailer:
    """Counts the sends of each Message-ID, per dispatcher thread; each send takes a
    moment, as a mail server's answer does, so the two dispatchers overlap."""

    def __init__(self) -> None:
        self.sends: Counter[str] = Counter()
        self.senders: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, email: Email, *, message_id: str) -> None:
        time.sleep(0.0005)
        with self._lock:
            self.sends[message_id] += 1
            self.senders[threading.current_thread().name] += 1


def test_two_dispatchers_at_once_send_each_email_exactly_once(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    deps = make_dependencies(uow=uow_factory)
    with uow_factory() as uow:
        for number in range(MESSAGES):
            email = Email(to=(f"klant{number}@zuid.nl",), subject="Voltooid", body="", kind="x")
            uow.outbox.add(email, deps.clock.now())
        uow.commit()
    mailer = CountingMailer()
    start = threading.Barrier(2)

    def dispatcher() -> int:
        """What ``migrationkit dispatch-mail`` does: runs until a run finds nothing."""
        start.wait()
        sent = 0
        while (report := dispatch_outbox(deps, mailer, limit=20)).sent:
            sent += report.sent
        return sent

    with ThreadPoolExecutor(2) as pool:
        counts = [done.result() for done in [pool.submit(dispatcher) for _ in range(2)]]

    assert sum(counts) == MESSAGES
    assert len(mailer.sends) == MESSAGES
    assert set(mailer.sends.values()) == {1}
    assert len(mailer.senders) == 2  # both took part
    with uow_factory() as uow:
        assert uow.outbox.list_pending() == []
