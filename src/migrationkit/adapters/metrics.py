"""Prometheus metrics (the ``metrics`` extra, prometheus-client).

``PrometheusMetrics`` is the ``Metrics`` port: the use cases count into it. What the
database and the queue know already (moves per status, a lapsed lease, the outbox's
backlog, the queue's depth and its oldest job's age) is read when Prometheus scrapes, by
``StateCollector``: two SQL statements and two round trips to Redis, whatever the size of
the data.

Processes that fork (gunicorn's workers, RQ's work-horses) count into files in
``PROMETHEUS_MULTIPROC_DIR`` when it is set before this module is imported; ``registry``
then sums them for a scrape. Only counters and histograms are kept per process; every
gauge is read at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import attrs
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from migrationkit.adapters.sqlalchemy.health import moves, outbox_backlog
from migrationkit.domain.model import ItemStatus

__all__ = [
    "CONTENT_TYPE_LATEST",
    "PrometheusMetrics",
    "QueueState",
    "StateCollector",
    "scrape",
    "serve",
]

#: The environment variable that makes prometheus-client count into files, per process.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

_MOVES_CLAIMED = Counter("migrationkit_moves_claimed", "Migrations claimed by a worker.")
_MOVES_ENDED = Counter(
    "migrationkit_moves_ended", "Moves that ended, by status (completed, failed).", ["status"]
)
_FAILURES = Counter(
    "migrationkit_move_failures", "Moves that ended Mislukt, by error code.", ["error_code"]
)
_DOCUMENTS = Counter("migrationkit_documents_copied", "Documents copied between stores.")
_BYTES = Counter("migrationkit_bytes_copied", "Bytes copied between stores.")
_BATCH_SECONDS = Histogram(
    "migrationkit_batch_duration_seconds",
    "From the start of a batch's copying to its commit.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
_MOVE_SECONDS = Histogram(
    "migrationkit_move_duration_seconds",
    "From a move's start (In de wachtrij) to its end, by status.",
    ["status"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600, 24 * 3600),
)
_SWEEPS = Counter("migrationkit_sweeps", "Sweeper runs.")
_REQUEUED = Counter(
    "migrationkit_sweep_requeued", "Migrations the sweeper woke again (lost wake-ups, leases)."
)
_LOCKOUTS = Counter(
    "migrationkit_lockouts", "Attempts refused by a lockout (transfer_code, sign_in).", ["what"]
)
_SIGN_IN_REFUSALS = Counter("migrationkit_sign_in_refusals", "Sign-ins refused.")

# The known labels start at 0, so a dashboard and an alert see them before their first event.
for _status in ("completed", "failed"):
    _MOVES_ENDED.labels(_status)
    _MOVE_SECONDS.labels(_status)
for _what in ("transfer_code", "sign_in"):
    _LOCKOUTS.labels(_what)


class PrometheusMetrics:
    """The ``Metrics`` port on prometheus-client's counters and histograms."""

    def move_claimed(self) -> None:
        _MOVES_CLAIMED.inc()

    def batch_committed(self, *, documents: int, bytes_copied: int, seconds: float) -> None:
        _DOCUMENTS.inc(documents)
        _BYTES.inc(bytes_copied)
        _BATCH_SECONDS.observe(seconds)

    def move_ended(self, *, status: str, seconds: float | None, error_code: str | None) -> None:
        _MOVES_ENDED.labels(status).inc()
        if error_code is not None:
            _FAILURES.labels(error_code).inc()
        if seconds is not None:
            _MOVE_SECONDS.labels(status).observe(seconds)

    def sweep_ran(self, *, requeued: int) -> None:
        _SWEEPS.inc()
        _REQUEUED.inc(requeued)

    def locked_out(self, what: str) -> None:
        _LOCKOUTS.labels(what).inc()

    def sign_in_refused(self) -> None:
        _SIGN_IN_REFUSALS.inc()


@attrs.frozen
class QueueState:
    """A job queue's waiting jobs and the age of the oldest (0 when none waits)."""

    name: str
    depth: int
    oldest_seconds: float


class StateCollector(Collector):
    """Gauges read at scrape time: moves per status and the outbox's backlog from the
    database, and each queue's depth and oldest job's age from ``queues``."""

    def __init__(self, engine: Engine, queues: Callable[[], Iterable[QueueState]]) -> None:
        self._engine = engine
        self._queues = queues

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        by_status = GaugeMetricFamily(
            "migrationkit_migrations", "Migrations by their status now.", labels=["status"]
        )
        found = moves(self._engine)
        for status in (
            ItemStatus.QUEUED,
            ItemStatus.PROCESSING,
            ItemStatus.COMPLETED,
            ItemStatus.FAILED,
        ):
            by_status.add_metric([status.name.lower()], found.by_status.get(status.value, 0))
        yield by_status
        lease_end = found.earliest_lease_end
        yield GaugeMetricFamily(
            "migrationkit_oldest_lapsed_lease_seconds",
            "How long ago the lease of a move Aan het verwerken ran out without a heartbeat"
            " (0 when every lease holds): the sweeper should have taken it back by now.",
            0.0 if lease_end is None else max(0.0, (now - lease_end).total_seconds()),
        )
        backlog = outbox_backlog(self._engine, now)
        yield GaugeMetricFamily(
            "migrationkit_outbox_backlog", "E-mails in the outbox not sent yet.", backlog.unsent
        )
        yield GaugeMetricFamily(
            "migrationkit_outbox_oldest_unsent_age_seconds",
            "How long the oldest unsent e-mail has waited (0 without any).",
            backlog.oldest_seconds,
        )
        depth = GaugeMetricFamily(
            "migrationkit_queue_depth", "Jobs waiting in the queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "migrationkit_queue_oldest_job_age_seconds",
            "How long the oldest waiting job has waited (0 without any).",
            labels=["queue"],
        )
        for queue in self._queues():
            depth.add_metric([queue.name], queue.depth)
            age.add_metric([queue.name], queue.oldest_seconds)
        yield depth
        yield age


def registry(collector: Collector | None = None) -> CollectorRegistry:
    """What a scrape reads: every process's counters when ``PROMETHEUS_MULTIPROC_DIR`` is
    set (gunicorn's workers, RQ's work-horses), this process's otherwise; plus
    ``collector``'s gauges."""
    if os.environ.get(MULTIPROC_DIR):
        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
    else:
        scraped = CollectorRegistry()
        scraped.register(_Process())
    if collector is not None:
        scraped.register(collector)
    return scraped


class _Process(Collector):
    """This process's own metrics (the default registry's), beside a collector of gauges
    that must not be registered there for good."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape(collector: Collector | None = None) -> bytes:
    """The metrics in Prometheus's text format."""
    return generate_latest(registry(collector))


def serve(port: int, collector: Collector | None = None) -> None:
    """Serves the metrics at ``http://0.0.0.0:port/metrics`` from a daemon thread (a
    worker's, which has no web server of its own)."""
    start_http_server(port, registry=registry(collector))
