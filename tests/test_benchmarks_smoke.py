"""The benchmarks at their smallest size (``--smoke``). The engine's builds its administrations on
PostgreSQL, moves them with real worker processes and prints its table. No timing is
asserted: at this size the numbers mean nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "moves.py"
#: The Redis database the smoke run uses and empties (the full run's default is 10).
REDIS_DB = 11


def test_the_benchmark_smoke_run_prints_its_table(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    options = {
        "--workdir": str(tmp_path),
        "--database-url": postgres_url,
        "--redis-url": redis_url,
        "--redis-db": str(REDIS_DB),
    }
    finished = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", *(p for o in options.items() for p in o)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    for measure in (
        "documents (N)",
        "(a) same-store move, median (s)",
        "    time(N=200) / time(N=20)",
        "(b) cross-store move, one disk (s)",
        "    cp -r of the same files (s)",
        "    cp -al of the same files (s)",
        "    throughput against cp -r",
        "    throughput against cp -al",
        "    documents per second",
        "(c) worker peak RSS, cross-store (MB)",
        "(d) cross-store move of 200: 1 worker (s)",
        "    2 workers (s)",
        "(e) move of 200 to another filesystem (s)",
        "(f) takeover of 6 x 5, 2 workers (s)",
    ):
        assert any(line.startswith(measure) for line in lines), finished.stdout
    assert list(tmp_path.iterdir()) == []  # the run cleans up after itself


def smoke_run(script: str) -> str:
    """What a benchmark prints at its smallest size on SQLite; fails with its errors."""
    finished = subprocess.run(
        [sys.executable, str(BENCHMARK.with_name(script)), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_the_report_benchmark_smoke_run_prints_its_table() -> None:
    printed = smoke_run("report.py")

    for step in ("manifest JSON Lines", "manifest CSV", "report (digests, signature, PDF)"):
        assert sum(step in line for line in printed.splitlines()) == 2, printed


def test_the_takeover_pages_benchmark_smoke_run_prints_its_table() -> None:
    """The takeover's pages at 20 administrations on SQLite; no timing is asserted."""
    printed = smoke_run("takeover_pages.py")

    for page in (
        "sender: choose (all selected)",
        "sender: summary",
        "recipient: selection",
        "recipient: targets",
        "recipient: request, all Voltooid",
    ):
        assert page in printed
    assert "statuses: Voltooid 20" in printed
