"""Servers of a test's own, which it may stop and start at will without disturbing anyone
else's: a redis-server and a PostgreSQL cluster, each on a free port of its own."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from _deployment import WAIT_SECONDS, wait_for
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from served import free_port


class RedisServer:
    """A redis-server of the test's own on ``port``, without persistence: each start begins
    empty, as a Redis that lost its data."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None, "the reliability tests need redis-server on the PATH"
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        self._process = subprocess.Popen(
            [server, *(part for name, value in options.items() for part in (f"--{name}", value))],
            cwd=self._folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Stops the server by SIGTERM, as an operator or a service manager does."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(WAIT_SECONDS)
            self._process = None

    def _answers(self) -> bool:
        try:
            with Redis.from_url(self.url, socket_connect_timeout=1) as connection:
                return bool(connection.ping())
        except RedisConnectionError:
            return False


def postgres_programs() -> Path:
    """The folder of PostgreSQL's server programs (``initdb``, ``pg_ctl``): the newest
    under /usr/lib/postgresql (Debian's packages), else the one of ``pg_ctl`` on the PATH."""
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name)
    )
    if folders:
        return Path(folders[-1])
    pg_ctl = shutil.which("pg_ctl")
    assert pg_ctl is not None, "these tests need PostgreSQL's server programs (initdb, pg_ctl)"
    return Path(pg_ctl).parent


class PostgresCluster:
    """A throwaway PostgreSQL cluster of the test's own on a free port (trust
    authentication on 127.0.0.1 only), made with ``initdb`` in a new temporary folder. The
    server refuses to run as root, so as root it runs as the user ``postgres``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._programs = postgres_programs()
        self._folder = Path(tempfile.mkdtemp(prefix="mk-postgres-"))
        self._data = self._folder / "data"
        self._log = self._folder / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self._folder, "postgres", "postgres")
        self._run(
            "initdb",
            "--pgdata",
            str(self._data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._folder}"
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self._data),
            "--log",
            str(self._log),
            "--options",
            options,
            "--wait",
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as in a restart by an operator."""
        self._run("pg_ctl", "--pgdata", str(self._data), "--mode", "fast", "--wait", "stop")

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):  # it was not running
            self._run("pg_ctl", "--pgdata", str(self._data), "--mode", "immediate", "stop")
        shutil.rmtree(self._folder, ignore_errors=True)

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._programs / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_SECONDS)
        assert done.returncode == 0, f"{program} failed: {done.stderr or done.stdout}"
