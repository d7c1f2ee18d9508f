"""The job queue on Redis with RQ: ``RQJobQueue``, the job functions, and the worker."""

from migrationkit.adapters.rq.queue import RQJobQueue
from migrationkit.adapters.rq.worker import run_worker

__all__ = ["RQJobQueue", "run_worker"]
