"""A local S3 server for the tests: moto in server mode, a real process answering real HTTP
on a free port of 127.0.0.1, started once per test session.

A test module takes the fixture by naming it at its top level::

    import _s3server

    s3_endpoint_url = _s3server.s3_endpoint_url

The fixture also points the standard AWS variables at test credentials for the session, so
clients made the way production makes them (from the environment) reach the server.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_SECONDS = 30
_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Runs ``moto.server`` on a port the system picks, with its output in ``log``; yields
    its URL once it answers, and stops it on leaving."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _wait_until_answering(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server stopped at start: {log.read_text()}")
        if listening := _LISTENING.search(log.read_text(errors="replace")):
            connection = http.client.HTTPConnection("127.0.0.1", int(listening[1]), timeout=2)
            try:
                connection.request("GET", "/moto-api/")
                if connection.getresponse().status == 200:
                    return f"http://127.0.0.1:{listening[1]}"
            except OSError:
                pass
            finally:
                connection.close()
        time.sleep(0.05)
    raise RuntimeError(f"moto_server did not answer within {STARTUP_SECONDS} s")


@pytest.fixture(scope="session")
def s3_endpoint_url() -> Iterator[str]:
    """The URL of a moto S3 server for the session, with the AWS variables set to test
    credentials (and no profile or config file of the machine in the way)."""
    with pytest.MonkeyPatch.context() as env, tempfile.TemporaryDirectory() as folder:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.delenv(var, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", str(Path(folder) / "config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(Path(folder) / "credentials"))
        with moto_server(Path(folder) / "moto.log") as url:
            yield url
