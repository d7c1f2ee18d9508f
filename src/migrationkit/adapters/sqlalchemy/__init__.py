"""The SQL database adapter: tables, Alembic migrations, repositories and unit of work.

SQLite for one machine, PostgreSQL (psycopg 3) to scale out::

    engine = make_engine("sqlite:///migrationkit.db")
    upgrade(engine)
    uow = unit_of_work_factory(engine, settings.code_secret())
"""

from migrationkit.adapters.sqlalchemy.database import SessionLimits, make_engine, upgrade
from migrationkit.adapters.sqlalchemy.tables import metadata
from migrationkit.adapters.sqlalchemy.unit_of_work import (
    SqlAlchemyUnitOfWork,
    unit_of_work_factory,
)

__all__ = [
    "SessionLimits",
    "SqlAlchemyUnitOfWork",
    "make_engine",
    "metadata",
    "unit_of_work_factory",
    "upgrade",
]
