"""A deployment of the product as separate processes on one machine, the way an operator runs
it: ``migrationkit worker`` (RQ's worker with its forking work-horses), ``migrationkit
sweep`` and ``migrationkit dispatch-mail``, all given the same ``MIGRATIONKIT_*`` variables,
each with its output in a log file; and a local SMTP server for the dispatcher.

A worker is killed the way a lost machine stops it: every process of its session at once
by SIGKILL. (RQ puts each work-horse in a process group of its own, so killing the worker's
group alone would leave the work-horse running; the session holds both.)
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

#: How long the helpers below wait for something that should happen soon.
WAIT_SECONDS = 60
#: The Redis database (of the test server) that these tests use and empty.
REDIS_DB = 9
#: The lease of the tests' deployments, and how often their sweeper runs: short, so that a
#: killed worker's migration comes back in seconds (the defaults are 120 and 60).
LEASE_SECONDS = 4
SWEEP_SECONDS = 1.0
#: Documents per batch of a move across stores.
BATCH_SIZE = 100
#: What recovery may take beyond the lease and one sweep interval (the documented bound):
#: for a listening worker to take the job it is handed, fork, connect and claim, on a busy
#: machine.
PICKUP_SECONDS = 2.0
RECOVERY_BOUND = LEASE_SECONDS + SWEEP_SECONDS + PICKUP_SECONDS
#: A whole move of the tests, kills and recoveries included, has this long.
MOVE_SECONDS = 120
#: How often the tests' mail dispatcher runs.
DISPATCH_SECONDS = 0.5


def session_members(session_id: int) -> list[int]:
    """The processes of a session, read from /proc (zombies included)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                # "pid (comm) state ppid pgrp session ...": comm may hold spaces or ")".
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[3]) == session_id:
            members.append(int(entry.name))
    return members


def kill_session(session_id: int) -> None:
    """SIGKILL to every process of the session. The leader is stopped first, so it cannot
    fork a new work-horse between the look at /proc and the kills."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(session_id, signal.SIGSTOP)
    for pid in session_members(session_id):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Deployment:
    """Starts the product's commands as processes with ``environment`` (and nothing of the
    caller's ``MIGRATIONKIT_*``), each the leader of a new session; ``stop_all`` kills
    whatever is left."""

    def __init__(self, environment: Mapping[str, str], logs: Path) -> None:
        #: Read at each start, so a test may change a variable between starts.
        self.environment = environment
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self._log_paths: dict[int, Path] = {}

    def start(
        self,
        *arguments: str,
        program: list[str] | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """``migrationkit ARGUMENTS...``, or ``program`` (a Python script with its
        arguments), with ``extra`` variables besides the deployment's."""
        command = program or ["-m", "migrationkit.cli", *arguments]
        name = f"{len(self.processes):02d}-{Path(command[-1]).stem if program else arguments[0]}"
        log = self.logs / f"{name}.log"
        variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, *command],
                env=variables | dict(self.environment) | dict(extra or {}),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        self._log_paths[process.pid] = log
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the process and everything of its session (a worker's work-horse)."""
        kill_session(process.pid)
        process.wait(WAIT_SECONDS)

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return self._log_paths[process.pid].read_text(errors="replace")

    def listening(self, worker: subprocess.Popen[bytes]) -> float:
        """Waits until a worker started listening to its queue; when it was seen to
        (``time.monotonic``). How long a worker takes to start is the machine's, not the
        engine's: the recoveries below count from then when it came after the lease."""
        wait_for(lambda: "Listening on" in self.log(worker), "the worker to listen")
        return time.monotonic()

    def logs_tail(self, lines: int = 15) -> str:
        """The end of every process's log, for a failing assertion's message."""
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self._log_paths.values())
        )

    def stop_all(self) -> None:
        """Kills every process left in the sessions started, also where the leader is gone
        (a work-horse outlives the worker it killed). Linux gives no new process a number
        that is still a session's id, so a session's members are always ours."""
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)
            else:
                kill_session(process.pid)


def wait_for(
    condition: Callable[[], object],
    what: str,
    *,
    timeout: float = WAIT_SECONDS,
    every: float = 0.05,
) -> None:
    """Polls ``condition`` until it is true; fails naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s in vain for {what}")
        time.sleep(every)


def recovery(killed_at: float, listening: float, went_on: float) -> float:
    """How long a move stood still after its worker was killed, less any time the new
    worker took to start listening after the lease ran out (the operator's restart, which
    the bound leaves out); moments of ``time.monotonic``."""
    return went_on - killed_at - max(0.0, listening - killed_at - LEASE_SECONDS)


class MailServer:
    """A local SMTP server (aiosmtpd) on ``port``, which can be stopped and started again;
    it counts what it received by Message-ID."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._received: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._received[str(message["Message-ID"])] += 1
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop(no_assert=True)
            self._controller = None

    def received(self) -> Counter[str]:
        """How often each Message-ID arrived."""
        with self._lock:
            return Counter(self._received)
