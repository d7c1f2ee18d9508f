"""Servers the tests start as processes of their own, on free ports: the one way to find a
port, to wait until a server answers, and to read a form's CSRF token from a served page.
Importable from every test folder (pytest puts this folder, the top conftest's, on the path)."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

#: How long a server may take to start answering (a readiness wait, not a measurement).
START_SECONDS = 60

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def csrf_token(page: str) -> str:
    found = CSRF.search(page)
    assert found, page
    return found.group(1)


@contextmanager
def serving(
    argv: Sequence[str], *, url: str, ready: str, cwd: Path, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs ``argv`` with its output in ``log`` until ``url + ready`` answers 2xx; stops it
    on leaving. Fails with the log when the process dies or does not answer in time."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    requests.get(f"{url}{ready}", timeout=START_SECONDS).raise_for_status()
                    break
                except requests.ConnectionError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, f"{argv} did not answer: {log.read_text()}"
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)
