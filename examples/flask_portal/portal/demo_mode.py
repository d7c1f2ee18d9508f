"""Demo mode (``MIGRATIONKIT_DEMO=1``): the schema made and the demo data seeded into an
empty database, so the README's run command shows a portal to try at once; with
MIGRATIONKIT_DEMO_PRACTICE, the practice that Zuid takes over as well."""

from __future__ import annotations

from migrationkit import demo
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.bootstrap import Runtime


def prepare(runtime: Runtime) -> None:
    """Brings the schema up to date; seeds the demo data into an empty database, or, over a
    demo database from an earlier run, makes the in-memory packages know it again."""
    connectors = runtime.deps.connectors
    if not isinstance(connectors, InMemoryConnectorRegistry):
        raise RuntimeError("demo mode needs the in-memory accounting packages")
    upgrade(runtime.settings.database_url)
    practice = runtime.settings.demo_practice
    with runtime.deps.uow() as uow:
        if uow.environments.list():
            demo.fill_packages(uow, connectors, practice=practice)
        else:
            demo.seed(uow, connectors, runtime.archives, practice=practice)
