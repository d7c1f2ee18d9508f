"""The portal's /metrics under gunicorn with two worker processes: what each process
counts goes into PROMETHEUS_MULTIPROC_DIR, and every scrape, whichever worker answers it,
sums them all."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from portal_support import PORTAL, environ

from served import csrf_token, free_port, serving

REFUSED_SIGN_INS = 6


@pytest.fixture
def served(home: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The portal under ``gunicorn --workers 2``; its address and the metrics' folder."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    counted = tmp_path / "prometheus"
    counted.mkdir()
    with serving(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        url=url,
        ready="/healthz",
        cwd=PORTAL,
        env={**os.environ, **environ(home), "PROMETHEUS_MULTIPROC_DIR": str(counted)},
        log=tmp_path / "gunicorn.log",
    ):
        yield url, counted


def refuse_a_sign_in(url: str) -> None:
    """A wrong password through the login page, on a connection of its own."""
    with requests.Session() as session:
        token = csrf_token(session.get(f"{url}/inloggen").text)
        answer = session.post(
            f"{url}/inloggen",
            data={"csrf_token": token, "email": "noord@example.nl", "password": "x"},
            allow_redirects=False,
        )
    assert answer.status_code == 200  # the form again, with the refusal


def counted_refusals(url: str) -> float:
    with requests.Session() as session:
        text = session.get(f"{url}/metrics").text
    found = re.search(r"^migrationkit_sign_in_refusals_total (\S+)$", text, re.M)
    assert found, text
    return float(found.group(1))


def test_every_scrape_sums_what_both_gunicorn_workers_counted(
    served: tuple[str, Path],
) -> None:
    url, counted = served
    for _ in range(REFUSED_SIGN_INS):
        refuse_a_sign_in(url)
    # Whichever worker answers, it reads every worker's file.
    assert [counted_refusals(url) for _ in range(8)] == [REFUSED_SIGN_INS] * 8
    assert any(path.name.startswith("counter_") for path in counted.iterdir())
