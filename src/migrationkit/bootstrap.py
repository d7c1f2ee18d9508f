"""Wires the adapters to the use cases. Nothing is built at import; call ``bootstrap``."""

from __future__ import annotations

from migrationkit.adapters.clock import SystemClock
from migrationkit.adapters.sqlalchemy import make_engine, unit_of_work_factory
from migrationkit.config import Settings
from migrationkit.ports import Clock, ConnectorRegistry, JobQueue, UnitOfWorkFactory
from migrationkit.services.dependencies import Dependencies


def bootstrap(
    settings: Settings | None = None,
    *,
    connectors: ConnectorRegistry,
    queue: JobQueue,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
) -> Dependencies:
    """The use cases' dependencies: the database from ``settings`` (read from the
    environment when not given) unless a unit-of-work factory is passed, the given
    connectors and job queue, and the system clock unless another is passed."""
    settings = settings or Settings.from_environ()
    return Dependencies(
        uow=uow or unit_of_work_factory(make_engine(settings.database_url)),
        connectors=connectors,
        queue=queue,
        clock=clock or SystemClock(),
        policy=settings.policy(),
    )
