"""An RQ worker on the migrationkit queue: ``migrationkit worker`` runs one per process.

A worker outlives a Redis outage, busy or idle. RQ's own worker survives one only while it
waits for a job: a worker whose work-horse runs a job sends heartbeats every
``job_monitoring_interval`` (``monitor_work_horse`` -> ``maintain_heartbeats``), and the
work-horse writes the job's status before and after it runs (``prepare_job_execution``,
``handle_execution_ended``, ``handle_job_success``); a ``redis.ConnectionError`` there ends
the worker ("found an unhandled exception, quitting") or its work-horse. So the worker's
Redis connection waits instead: every command is tried again, with a backoff of at most
``RETRY_CAP_SECONDS``, until Redis answers, in the worker, its work-horses and its
scheduler alike (they inherit the connection's settings). What RQ kept in a Redis that came
back empty is lost; the database is not, and the sweeper enqueues again whatever should run.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable
from contextlib import suppress
from types import FrameType

from redis import Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker

from migrationkit.adapters.rq.queue import LoggedJob
from migrationkit.workers.jobs import WorkerContext, running_with

log = logging.getLogger(__name__)

#: The longest wait between two tries to reach Redis.
RETRY_CAP_SECONDS = 2.0
#: The first wait; it doubles up to the cap.
RETRY_BASE_SECONDS = 0.05
#: While Redis does not answer, a warning at the first failed try and every this many after
#: (about a minute apart at the cap).
WARN_EVERY_TRIES = 30
#: How long a stopping worker gives its scheduler's process to stop before killing it.
SCHEDULER_STOP_SECONDS = 5.0
#: What a worker asked to stop (SIGTERM, SIGINT) sends its work-horse: end the job after
#: the batch in hand. The work-horse inherits its handler from the worker, so a signal that
#: comes before RQ set the horse up is not lost.
STOP_AFTER_BATCH = signal.SIGUSR1


class _WaitingForRedis(ExponentialBackoff):
    """Exponential backoff up to ``RETRY_CAP_SECONDS`` that says, now and then, that Redis
    does not answer."""

    def compute(self, failures: int) -> float:
        if failures == 1 or failures % WARN_EVERY_TRIES == 0:
            log.warning("Redis does not answer; trying again (try %d)", failures)
        return super().compute(failures)


def wait_out_outages(connection: Redis) -> None:
    """Makes every command on ``connection`` try again, for as long as it takes, while Redis
    does not answer (a refused or lost connection, a timeout)."""
    backoff = _WaitingForRedis(cap=RETRY_CAP_SECONDS, base=RETRY_BASE_SECONDS)
    connection.set_retry(
        Retry(backoff, -1, (RedisConnectionError, RedisTimeoutError, socket.timeout))
    )


class _StopsWithoutRedis(BaseWorker):
    """A worker whose stop does not wait for Redis: without Redis, the worker's registration
    and its scheduler's lock run out by themselves (their keys expire); nor for a long job:
    the job in hand ends after its current batch (``STOP_AFTER_BATCH``)."""

    #: What its jobs run with (``run_worker`` sets it).
    context: WorkerContext | None = None

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()  # type: ignore[no-untyped-call]
        if self.horse_pid:
            with suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(self.horse_pid, STOP_AFTER_BATCH)
        elif self.context is not None:  # the job, if any, runs in this process
            self.context.stopping.set()

    def stop_scheduler(self) -> None:
        # RQ's own waits for the scheduler's process, which may be waiting for Redis.
        process = self.scheduler._process if self.scheduler else None
        if process is None or process.pid is None:
            return
        process.terminate()
        process.join(SCHEDULER_STOP_SECONDS)
        if process.is_alive():
            log.warning(
                "the scheduler did not stop within %s s (Redis away?): killed",
                SCHEDULER_STOP_SECONDS,
            )
            process.kill()
            process.join()

    def teardown(self) -> None:
        self.connection.set_retry(Retry(NoBackoff(), 0))
        try:
            super().teardown()  # type: ignore[no-untyped-call]
        except (RedisConnectionError, RedisTimeoutError) as error:
            log.warning("Redis did not answer at the stop, nothing recorded there: %s", error)


class OutlivingWorker(_StopsWithoutRedis, Worker):
    """RQ's forking worker on a connection that waits out Redis outages."""

    def setup_work_horse_signals(self) -> None:
        """RQ's work-horse dies at a SIGTERM; this one ends its job after the batch in hand,
        as when its worker passes on a stop: a service manager that signals every process
        of the unit (systemd's ``KillMode=control-group``) stops it as cleanly."""
        super().setup_work_horse_signals()  # type: ignore[no-untyped-call]
        if self.context is not None:
            signal.signal(signal.SIGTERM, _stop_after_batch(self.context))


class OutlivingSimpleWorker(_StopsWithoutRedis, SimpleWorker):
    """RQ's worker that runs each job in the worker's own process (no work-horse), on a
    connection that waits out Redis outages."""


def _stop_after_batch(context: WorkerContext) -> Callable[[int, FrameType | None], None]:
    """A signal handler that asks the job in hand to end after its batch."""

    def stop(signum: int, frame: FrameType | None) -> None:
        context.stopping.set()

    return stop


def run_worker(
    connection: Redis,
    queue_name: str,
    context: WorkerContext,
    *,
    burst: bool = False,
    fork: bool = True,
) -> bool:
    """Works the queue until stopped, or until it is empty with ``burst``; whether it ran
    any job. Every job runs with ``context`` (``migrationkit.workers.jobs``). Redis must
    answer when it starts (a wrong address or password is said at once); from then on
    ``connection`` waits out Redis outages (``wait_out_outages``).

    With ``fork`` (the default) each job runs in a work-horse child that RQ watches and kills
    when its timeout passes; without, in this process. The worker also runs RQ's scheduler,
    which brings back the jobs waiting out a retry's delay. Asked to stop (SIGTERM, SIGINT),
    the worker takes no new job and its job in hand ends after the batch it is copying
    (``Dependencies.stopping``), handing the rest on; a second signal kills the job at once.
    """
    connection.ping()
    wait_out_outages(connection)
    queue = Queue(queue_name, connection=connection, serializer=JSONSerializer, job_class=LoggedJob)
    worker_class = OutlivingWorker if fork else OutlivingSimpleWorker
    worker = worker_class(
        [queue], connection=connection, serializer=JSONSerializer, job_class=LoggedJob
    )
    worker.context = context
    signal.signal(STOP_AFTER_BATCH, _stop_after_batch(context))
    if context.after_fork is not None:
        context.wiring()  # once, here: the work-horses start on it
    with running_with(context):  # a forked work-horse inherits it
        return worker.work(burst=burst, with_scheduler=True)
