"""Wires the adapters to the use cases. Nothing is built at import; call ``bootstrap`` or
``build_runtime``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import Engine

from migrationkit.adapters.archive import archive_stores
from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.mail import SmtpMailer
from migrationkit.adapters.sqlalchemy import SessionLimits, make_engine, unit_of_work_factory
from migrationkit.config import ConfigError, Settings
from migrationkit.domain.model import AccountingPackage
from migrationkit.domain.rate_limits import RateLimit
from migrationkit.domain.rules import LockoutPolicy
from migrationkit.domain.sessions import SessionPolicy
from migrationkit.ports import (
    ArchiveStores,
    Clock,
    ConnectorRegistry,
    JobQueue,
    Mailer,
    Metrics,
    UnitOfWorkFactory,
)
from migrationkit.services.dependencies import Dependencies, NoMetrics, Policy
from migrationkit.workers.inprocess import InProcessQueue

if TYPE_CHECKING:
    from migrationkit.adapters.metrics import QueueState, StateCollector

#: Seconds to wait for Redis before an enqueue gives up (the start stays recorded).
REDIS_TIMEOUT_SECONDS = 3


def bootstrap(
    settings: Settings | None = None,
    *,
    connectors: ConnectorRegistry,
    queue: JobQueue,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
) -> Dependencies:
    """The use cases' dependencies: the database from ``settings`` (read from the
    environment when not given) unless a unit-of-work factory is passed, the given
    connectors and job queue, the system clock unless another is passed, and the metrics
    given (none counted otherwise)."""
    settings = settings or Settings.from_environ()
    return Dependencies(
        uow=uow or unit_of_work_factory(database(settings), settings.code_secret()),
        connectors=connectors,
        queue=queue,
        clock=clock or SystemClock(),
        policy=policy(settings),
        metrics=metrics or NoMetrics(),
    )


@attrs.frozen
class Runtime:
    """Everything a process of the product needs, chosen by the settings alone."""

    settings: Settings
    deps: Dependencies
    archives: ArchiveStores
    #: RQ on Redis with MIGRATIONKIT_REDIS_URL, else the embedded ``InProcessQueue``.
    queue: JobQueue
    #: ``None`` without MIGRATIONKIT_SMTP_URL: e-mail waits in the outbox.
    mailer: Mailer | None
    #: The database's engine, for what is read straight from it (health, metrics).
    database: Engine

    @property
    def embedded(self) -> bool:
        """Whether jobs run in this process (no Redis)."""
        return isinstance(self.queue, InProcessQueue)

    def start_worker(self, *, sweep_every: float | None = 60.0) -> None:
        """In embedded mode, starts the in-process worker (a daemon thread that also
        sweeps); with Redis the workers are processes of their own (``migrationkit
        worker``), and this does nothing."""
        if isinstance(self.queue, InProcessQueue):
            self.queue.start(self.deps, self.archives, sweep_every=sweep_every)

    def metrics_collector(self) -> StateCollector:
        """The gauges read at scrape time (moves per status, the outbox's backlog, the
        queue's depth and oldest job); needs the ``metrics`` extra."""
        from migrationkit.adapters.metrics import StateCollector

        return StateCollector(self.database, self._queue_states)

    def _queue_states(self) -> Iterator[QueueState]:
        from migrationkit.adapters.metrics import QueueState

        if isinstance(self.queue, InProcessQueue):
            yield QueueState("inprocess", len(self.queue.pending), 0.0)
            return
        from migrationkit.adapters.rq import RQJobQueue

        assert isinstance(self.queue, RQJobQueue)
        depth, oldest = self.queue.waiting()
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        yield QueueState(self.settings.queue_name, depth, max(0.0, age))


def build_runtime(
    settings: Settings | None = None,
    *,
    connectors: ConnectorRegistry | None = None,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
) -> Runtime:
    """The runtime from ``settings`` (read from the environment when not given): the
    database, the archive stores, RQ or the in-process queue, the connectors, and an SMTP
    mailer when one is configured. Unless ``connectors`` is given, the library's connectors
    serve the packages with credentials in the settings, their tokens sealed in the
    database; with none, the in-memory registry that the demo fills in demo mode, and a
    ``ConfigError`` naming the variables outside it. Opens no connection:
    Redis, SMTP, the packages and the database are reached when first used."""
    settings = settings or Settings.from_environ()
    try:
        archives = archive_stores(settings.archive_locations, default_root=settings.archive_root)
    except ValueError as error:
        raise ConfigError(f"MIGRATIONKIT_ARCHIVE_STORES: {error}") from None
    engine = database(settings)
    clock = clock or SystemClock()
    queue = _queue(settings)
    deps = bootstrap(
        settings,
        connectors=connectors or _connectors(settings, engine, clock),
        queue=queue,
        uow=uow or unit_of_work_factory(engine, settings.code_secret()),
        clock=clock,
        metrics=_metrics(),
    )
    return Runtime(settings, deps, archives, queue, _mailer(settings), engine)


def policy(settings: Settings) -> Policy:
    """The use cases' policy values from the settings."""
    return Policy(
        code_secret=settings.code_secret(),
        offer_valid_for=timedelta(days=settings.offer_valid_days),
        reminder_before=timedelta(days=settings.reminder_days),
        lockout=LockoutPolicy(
            max_failures=settings.lockout_failures,
            window=timedelta(minutes=settings.lockout_minutes),
        ),
        lease_for=timedelta(seconds=settings.lease_seconds),
        sessions=SessionPolicy(
            lifetime=timedelta(hours=settings.session_hours),
            idle=timedelta(minutes=settings.session_idle_minutes),
        ),
        api_calls_per_token=RateLimit(settings.api_calls_per_minute),
        api_calls_per_address=RateLimit(settings.api_calls_per_minute_per_address),
        batch_size=settings.batch_size,
        batches_per_job=settings.batches_per_job,
        portal_url=settings.portal_url,
        release_source_after=timedelta(seconds=settings.release_source_seconds),
    )


def database(settings: Settings) -> Engine:
    """The engine of the settings' database, its sessions within the settings' limits."""
    return make_engine(
        settings.database_url,
        SessionLimits(
            lock_timeout_seconds=settings.db_lock_timeout_seconds,
            idle_in_transaction_seconds=settings.db_idle_in_transaction_seconds,
            keepalives_idle_seconds=settings.db_keepalive_idle_seconds,
            keepalives_interval_seconds=settings.db_keepalive_interval_seconds,
            keepalives_count=settings.db_keepalive_count,
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
        ),
    )


def _connectors(settings: Settings, engine: Engine, clock: Clock) -> ConnectorRegistry:
    if not settings.connectors.packages:
        if not settings.demo:
            raise ConfigError(
                "no accounting package is set up: set MIGRATIONKIT_<PACKAGE>_CLIENT_ID and"
                " MIGRATIONKIT_<PACKAGE>_CLIENT_SECRET for the packages used (<PACKAGE> one of "
                + ", ".join(package.value for package in AccountingPackage)
                + "), or MIGRATIONKIT_DEMO=1 for the demo's in-memory packages"
            )
        return InMemoryConnectorRegistry()
    # Imported here: they need the ``connectors`` extra (requests).
    from migrationkit.adapters.connectors.registry import make_registry
    from migrationkit.adapters.connectors.tokens import SqlTokenStore

    tokens = SqlTokenStore(engine, settings.code_secret(), clock=clock)
    return make_registry(settings.connectors, tokens, clock=clock)


def _queue(settings: Settings) -> JobQueue:
    if settings.redis_url is None:
        return InProcessQueue()
    # Imported here: embedded mode runs without the ``worker`` extra (rq, redis).
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from migrationkit.adapters.rq import RQJobQueue

    # One quick retry (a pooled connection gone stale), no backing off: with Redis down a
    # start must not keep the user waiting, since the sweeper wakes the worker later.
    connection = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
    )
    return RQJobQueue(connection, settings.queue_name, job_timeout=settings.job_timeout_seconds)


def _metrics() -> Metrics:
    """Prometheus's counters with the ``metrics`` extra installed; none counted without."""
    try:
        from migrationkit.adapters.metrics import PrometheusMetrics
    except ImportError:  # prometheus-client is not installed
        return NoMetrics()
    return PrometheusMetrics()


def _mailer(settings: Settings) -> Mailer | None:
    smtp = settings.smtp
    if smtp is None:
        return None
    return SmtpMailer(
        smtp.host,
        smtp.port,
        settings.mail_from,
        implicit_tls=smtp.implicit_tls,
        username=smtp.username,
        password=smtp.password,
    )
