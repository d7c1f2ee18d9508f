"""The overviews' benchmark at its smallest size (``--smoke``): it makes its offers through
the use cases on SQLite and PostgreSQL and prints its tables. No timing is asserted: at this
size the numbers mean nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "overviews.py"


@pytest.mark.postgres
def test_the_overviews_benchmark_smoke_run_prints_its_tables(postgres_url: str) -> None:
    finished = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--database-url", postgres_url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    for database in ("SQLite", "PostgreSQL"):
        assert any(line.startswith(f"{database}: 60 offers") for line in lines), finished.stdout
    for measure in (
        "use case, sender, no search",
        "use case, recipient, rare search",
        "page, sender, common search",
        "page, recipient, no search",
        "use case, sender, second page",
    ):
        assert sum(line.strip().startswith(measure) for line in lines) == 2, finished.stdout
