"""Runs a command, passes SIGTERM on to it, and writes its peak resident set in kilobytes to a
file: the high-water mark of the command's process and of every process it waited for (an
RQ worker's work-horses), from ``wait4``.

Usage: python benchmarks/peak_rss.py OUTPUT_FILE COMMAND [ARGUMENT...]

Why a process of its own: a process started by ``fork`` and ``exec`` keeps, in its peak,
the resident set of the copy it was before the ``exec``; started from the benchmark, which
holds its archives' lists, that would be the benchmark's size, not the worker's. Started
from this small process it is this one's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def main() -> int:
    output, command = Path(sys.argv[1]), sys.argv[2:]
    child = subprocess.Popen(command)  # noqa: S603 (the caller's command)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    output.write_text(f"{usage.ru_maxrss}\n")
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main())
