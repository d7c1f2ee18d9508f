"""Fakes of the outside world: clock, accounting connectors, job queue, mailer, billing and
archive stores."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, Final

import attrs

from migrationkit.domain.model import (
    AccountingPackage,
    Charge,
    Connection,
    Email,
    PackageAdministration,
)
from migrationkit.ports import StoredBlob

#: Where a ``FakeClock`` starts unless told otherwise: a Monday morning, 09:00 UTC.
DEFAULT_NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: How much ``FakeArchiveStore.write`` reads at a time, as a real store would.
CHUNK_SIZE: Final = 64 * 1024


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a clock tells aware time, not {moment!r}")
    return moment.astimezone(UTC)


class FakeClock:
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


@attrs.frozen
class LinkRewrite:
    """One call of ``InMemoryConnector.rewrite_links``."""

    connection_id: int
    package_admin_id: str
    links: Mapping[str, str]


class InMemoryConnector:
    """An ``AccountingConnector`` for one package, whose package administrations the test
    registers per connection. It never fails."""

    def __init__(self, package: AccountingPackage, *, can_rewrite_links: bool = False) -> None:
        self.package = package
        self.can_rewrite_links = can_rewrite_links
        #: Every ``rewrite_links`` call, in order.
        self.rewrites: list[LinkRewrite] = []
        self._administrations: dict[int, dict[str, PackageAdministration]] = {}

    def add_package_administration(
        self, connection_id: int, administration: PackageAdministration
    ) -> None:
        """Makes the package know ``administration`` in the account behind the connection
        (a later one with the same package id replaces it, as a renamed one would)."""
        known = self._administrations.setdefault(connection_id, {})
        known[administration.package_admin_id] = administration

    def list_administrations(self, connection: Connection) -> Sequence[PackageAdministration]:
        """In the order they were added."""
        return list(self._administrations.get(connection.id, {}).values())

    def find_administration(
        self, connection: Connection, package_admin_id: str
    ) -> PackageAdministration | None:
        return self._administrations.get(connection.id, {}).get(package_admin_id)

    def rewrite_links(
        self, connection: Connection, package_admin_id: str, links: Mapping[str, str]
    ) -> int:
        self.rewrites.append(LinkRewrite(connection.id, package_admin_id, dict(links)))
        return len(links)


class FakeConnectorRegistry:
    """A ``ConnectorRegistry`` with one ``InMemoryConnector`` per package, made when first
    asked for."""

    def __init__(self) -> None:
        self._connectors: dict[AccountingPackage, InMemoryConnector] = {}

    def connector(self, package: AccountingPackage) -> InMemoryConnector:
        """The package's connector, for a test to register package administrations in."""
        if package not in self._connectors:
            self._connectors[package] = InMemoryConnector(package)
        return self._connectors[package]

    def connector_for(self, connection: Connection) -> InMemoryConnector:
        return self.connector(connection.package)


class FakeJobQueue:
    """A ``JobQueue`` that keeps the wake-ups for the test to run with ``take()``.

    Like an RQ job whose id is the migration id, enqueuing a migration that is still pending
    adds no second job.
    """

    def __init__(self) -> None:
        #: Every ``enqueue_migration`` call, in order, doubles included.
        self.enqueued: list[int] = []
        self._pending: list[int] = []

    def enqueue_migration(self, migration_id: int) -> None:
        self.enqueued.append(migration_id)
        if migration_id not in self._pending:
            self._pending.append(migration_id)

    @property
    def pending(self) -> Sequence[int]:
        """The migration ids waiting for a worker, oldest first."""
        return tuple(self._pending)

    def take(self) -> list[int]:
        """Removes and returns the pending migration ids, for the test to run them."""
        taken, self._pending = self._pending, []
        return taken


class FakeMailer:
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


class FakeBilling:
    """A ``Billing`` that keeps one charge per migration, however often it is called."""

    def __init__(self) -> None:
        self.charges: list[Charge] = []

    def charge(self, charge: Charge) -> None:
        if all(c.migration_id != charge.migration_id for c in self.charges):
            self.charges.append(charge)


class FakeArchiveStore:
    """An ``ArchiveStore`` in memory: content-addressed, so a blob's key is its SHA-256."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: SHA-256 hex -> bytes.
        self.blobs: dict[str, bytes] = {}
        #: How many times ``write`` was called: a move on one store should write nothing.
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

    def open(self, key: str) -> BinaryIO:
        """Raises ``FileNotFoundError`` for an unknown key."""
        if key not in self.blobs:
            raise FileNotFoundError(f"{self.name} has no blob {key}")
        return io.BytesIO(self.blobs[key])

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        """Deleting what is not there is no error."""
        self.blobs.pop(key, None)


class FakeArchiveStores:
    """``ArchiveStores`` that make a ``FakeArchiveStore`` for each name when first asked."""

    def __init__(self) -> None:
        self.stores: dict[str, FakeArchiveStore] = {}

    def store(self, name: str) -> FakeArchiveStore:
        if name not in self.stores:
            self.stores[name] = FakeArchiveStore(name)
        return self.stores[name]
