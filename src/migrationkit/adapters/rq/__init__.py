"""The job queue on Redis with RQ: ``RQJobQueue``. The functions its jobs name and the
worker that runs them live in ``migrationkit.workers``."""

from migrationkit.adapters.rq.queue import RQJobQueue

__all__ = ["RQJobQueue"]
