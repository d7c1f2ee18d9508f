"""A migrationkit command, or one of the tests' scripts, on a machine whose clock is off by
``CLOCK_SKEW_SECONDS`` (negative: slow): every ``SystemClock`` of the process and of the
work-horses it forks tells the time that much early or late, as on a machine whose clock
drifted. The database and Redis keep their own clocks.

Run as ``python _skewed.py -m migrationkit.cli sweep --every 1`` or ``python _skewed.py
_worker.py``. Test code only.
"""

from __future__ import annotations

import os
import runpy
import sys
from datetime import datetime, timedelta

from migrationkit.adapters.clock import SystemClock

SKEW = timedelta(seconds=float(os.environ["CLOCK_SKEW_SECONDS"]))
_machine_now = SystemClock.now


def _skewed_now(self: SystemClock) -> datetime:
    return _machine_now(self) + SKEW


if __name__ == "__main__":
    SystemClock.now = _skewed_now  # type: ignore[method-assign]
    if sys.argv[1] == "-m":
        sys.argv = sys.argv[2:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
