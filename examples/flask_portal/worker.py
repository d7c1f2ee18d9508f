"""The portal's background worker in production mode (``MIGRATIONKIT_REDIS_URL`` set): one
RQ worker per process, on migrationkit's queue, with the same settings as the portal.

    python worker.py
"""

from migrationkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["worker"]))
