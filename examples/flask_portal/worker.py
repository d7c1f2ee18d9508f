"""The portal's background worker in production mode (``MIGRATIONKIT_REDIS_URL`` set): one
RQ worker per process on migrationkit's queue, with the same settings as the portal. It is
``migrationkit worker``; arguments pass through (``python worker.py --burst``).
"""

import sys

from migrationkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["worker", *sys.argv[1:]]))
