"""What every use case is given: the ports and the policy values."""

from __future__ import annotations

import threading
from datetime import timedelta

import attrs

from migrationkit.domain.audit import Origin
from migrationkit.domain.codes import MIN_SECRET_BYTES
from migrationkit.domain.rate_limits import RateLimit
from migrationkit.domain.rules import LockoutPolicy
from migrationkit.domain.sessions import SessionPolicy
from migrationkit.ports import Clock, ConnectorRegistry, JobQueue, Metrics, UnitOfWorkFactory
from migrationkit.services.listings import PackageListings

#: The API's calls a minute per token, and per client address whatever the token.
API_CALLS_PER_TOKEN = RateLimit(120)
API_CALLS_PER_ADDRESS = RateLimit(600)

#: Ten refused sign-ins of one user in a quarter of an hour lock the account till they age.
SIGN_IN_LOCKOUT = LockoutPolicy(max_failures=10)


def _long_enough(_: object, __: attrs.Attribute[bytes], value: bytes) -> None:
    if len(value) < MIN_SECRET_BYTES:
        raise ValueError(f"the code secret needs at least {MIN_SECRET_BYTES} bytes")


@attrs.frozen
class Policy:
    """The product's adjustable numbers, and the server's secret for transfer codes."""

    code_secret: bytes = attrs.field(repr=False, validator=_long_enough)
    #: R6: how long a transfer code stays valid.
    offer_valid_for: timedelta = timedelta(days=15)
    #: How long before expiry the recipients get a reminder.
    reminder_before: timedelta = timedelta(days=3)
    #: R7: wrong codes that lock redeeming, and for how long.
    lockout: LockoutPolicy = attrs.field(factory=LockoutPolicy)
    #: Refused sign-ins of one user that lock their account for the rest of the window.
    sign_in_lockout: LockoutPolicy = SIGN_IN_LOCKOUT
    #: How long a sign-in session lasts: 8 hours at most, 30 minutes without a request.
    sessions: SessionPolicy = attrs.field(factory=SessionPolicy)
    #: The API's rate limits: calls per token, and per client address whatever the token.
    api_calls_per_token: RateLimit = API_CALLS_PER_TOKEN
    api_calls_per_address: RateLimit = API_CALLS_PER_ADDRESS
    #: How long a worker's claim on a migration lasts without a heartbeat.
    lease_for: timedelta = timedelta(minutes=2)
    #: How many documents a move across stores copies, verifies and commits at a time; an
    #: archive bigger than one batch fans out as batch jobs.
    batch_size: int = 500
    #: How many batches one batch job copies, committing after each: fewer, longer jobs
    #: spare a worker the start of each (RQ forks a work-horse per job).
    batches_per_job: int = 10
    #: Where the portal is, for the links in e-mails.
    portal_url: str = "http://localhost:5000"
    #: How long after a move across stores its source blobs are released: far longer than
    #: any upload takes between writing its blob and committing its document.
    release_source_after: timedelta = timedelta(hours=1)


class NoMetrics:
    """``Metrics`` that counts nothing: the default, when no metrics are collected."""

    def move_claimed(self) -> None:
        pass

    def batch_committed(self, *, documents: int, bytes_copied: int, seconds: float) -> None:
        pass

    def move_ended(self, *, status: str, seconds: float | None, error_code: str | None) -> None:
        pass

    def sweep_ran(self, *, requeued: int) -> None:
        pass

    def locked_out(self, what: str) -> None:
        pass

    def sign_in_refused(self) -> None:
        pass


@attrs.frozen
class Dependencies:
    """The ports wired by ``migrationkit.bootstrap`` (or by an embedding backend)."""

    uow: UnitOfWorkFactory
    connectors: ConnectorRegistry
    queue: JobQueue
    clock: Clock
    policy: Policy
    #: Where the request being served came from, for the audit trail. An entrypoint gives
    #: each request its own: ``attrs.evolve(deps, origin=Origin("api", address))``.
    origin: Origin = attrs.field(factory=Origin)
    #: What the use cases count; nothing unless the entrypoint gives a collector.
    metrics: Metrics = attrs.field(factory=NoMetrics)
    #: The packages' listings of this request, each connection's made once: an entrypoint
    #: gives each request its own (``attrs.evolve(deps, listings=PackageListings())``).
    #: ``None``: each use case lists each connection once for itself.
    listings: PackageListings | None = None

    #: Set when the worker is asked to stop: a move commits the batch in hand and hands the
    #: rest on to the next worker (``services.engine``).
    stopping: threading.Event = attrs.field(factory=threading.Event, eq=False, repr=False)

    def package_listings(self) -> PackageListings:
        """This request's listings, or new ones for one use case."""
        return self.listings if self.listings is not None else PackageListings()
