"""Fakes of the outside world: clock, connector registry, job queue, mailer, billing and
archive stores."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, Final

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.domain.errors import ArchiveError
from migrationkit.domain.model import Charge, Email
from migrationkit.ports import (
    ArchiveStore,
    ArchiveStores,
    Billing,
    Clock,
    DocumentBatch,
    JobQueue,
    Mailer,
    StoredBlob,
)
from migrationkit.workers.inprocess import InProcessQueue

#: Where a ``FakeClock`` starts unless told otherwise: a Monday morning, 09:00 UTC.
DEFAULT_NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: How much ``FakeArchiveStore.write`` reads at a time, as a real store would.
CHUNK_SIZE: Final = 64 * 1024


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a clock tells aware time, not {moment!r}")
    return moment.astimezone(UTC)


class FakeClock(Clock):
    """A ``Clock`` that stands still until the test moves it."""

    def __init__(self, start: datetime = DEFAULT_NOW) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Moves the clock forward (or back, with a negative delta); the new time."""
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware_utc(moment)


#: One in-memory connector per package, made when first asked for: the library's own
#: (``connector(package)`` gives it to a test to register package administrations in).
FakeConnectorRegistry = InMemoryConnectorRegistry


class FakeJobQueue(InProcessQueue, JobQueue):
    """A ``JobQueue`` that keeps the wake-ups for the test to run with ``take()``, and the
    batches of a fanned-out move for it to run with ``take_batches()``.

    Like an RQ job whose id is the migration id, enqueuing a migration that is still pending
    adds no second job.
    """

    def __init__(self) -> None:
        super().__init__()
        #: Every ``enqueue_migration`` call, in order, doubles included.
        self.enqueued: list[int] = []
        #: Every ``enqueue_batches`` call, in order: the migration and its batches.
        self.fanned_out: list[tuple[int, tuple[DocumentBatch, ...]]] = []
        self._batches: list[DocumentBatch] = []

    def enqueue_migration(self, migration_id: int) -> None:
        self.enqueued.append(migration_id)
        super().enqueue_migration(migration_id)

    def enqueue_batches(self, migration_id: int, batches: Sequence[DocumentBatch]) -> None:
        """Records the batches; nothing runs until the test takes them."""
        self.fanned_out.append((migration_id, tuple(batches)))
        self._batches.extend(batches)

    def take_batches(self) -> list[DocumentBatch]:
        """Removes and returns the batches not taken yet, oldest first; after running them
        the test runs each migration's finishing job."""
        taken, self._batches = self._batches, []
        return taken

    def take(self) -> list[int]:
        """Removes and returns the pending migration ids, oldest first, for the test to run
        them."""
        taken: list[int] = []
        self.drain(taken.append)
        return taken


class FakeMailer(Mailer):
    """A ``Mailer`` that records what it sends, and fails when told to."""

    def __init__(self) -> None:
        #: (e-mail, message id) of every send that went through, in order.
        self.sent: list[tuple[Email, str]] = []
        self._failures_left = 0

    def fail_next(self, count: int = 1) -> None:
        """Makes the next ``count`` sends raise ``ConnectionError``, as a down SMTP server
        would."""
        self._failures_left = count

    def send(self, email: Email, *, message_id: str) -> None:
        if self._failures_left > 0:
            self._failures_left -= 1
            raise ConnectionError("the fake mail server is down")
        self.sent.append((email, message_id))


class FakeBilling(Billing):
    """A ``Billing`` that keeps one charge per migration, however often it is called."""

    def __init__(self) -> None:
        self.charges: list[Charge] = []

    def charge(self, charge: Charge) -> None:
        if all(c.migration_id != charge.migration_id for c in self.charges):
            self.charges.append(charge)


class FakeArchiveStore(ArchiveStore):
    """An ``ArchiveStore`` in memory: content-addressed, so a blob's key is its SHA-256."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: SHA-256 hex -> bytes.
        self.blobs: dict[str, bytes] = {}
        #: How many times ``write`` or ``copy_from`` was called: a move on one store should
        #: write nothing.
        self.writes = 0

    def write(self, stream: BinaryIO) -> StoredBlob:
        digest = hashlib.sha256()
        chunks = []
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            chunks.append(chunk)
        data = b"".join(chunks)
        key = digest.hexdigest()
        self.blobs[key] = data
        self.writes += 1
        return StoredBlob(key=key, sha256=key, size=len(data))

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        """Streams the blob over; ``ArchiveError("checksum_mismatch")`` (its ``filename`` is
        the key) when its bytes do not have ``sha256``, storing nothing."""
        with source.open(key) as stream:
            data = stream.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveError("checksum_mismatch", filename=key)
        self.blobs[sha256] = data
        self.writes += 1
        return StoredBlob(key=sha256, sha256=sha256, size=len(data))

    def open(self, key: str) -> BinaryIO:
        """Raises ``FileNotFoundError`` for an unknown key."""
        if key not in self.blobs:
            raise FileNotFoundError(f"{self.name} has no blob {key}")
        return io.BytesIO(self.blobs[key])

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def sizes(self, keys: Collection[str]) -> dict[str, int]:
        return {key: len(self.blobs[key]) for key in keys if key in self.blobs}

    def delete(self, key: str) -> None:
        """Deleting what is not there is no error."""
        self.blobs.pop(key, None)


class FakeArchiveStores(ArchiveStores):
    """``ArchiveStores`` that make a ``FakeArchiveStore`` for each name when first asked."""

    def __init__(self) -> None:
        self.stores: dict[str, FakeArchiveStore] = {}

    def store(self, name: str) -> FakeArchiveStore:
        if name not in self.stores:
            self.stores[name] = FakeArchiveStore(name)
        return self.stores[name]
