"""Statements and package calls per request do not grow with the offer."""

from __future__ import annotations

from pathlib import Path

import pytest
from scale_support import flow


@pytest.mark.parametrize("exact", [False, True], ids=["memory", "exact"])
@pytest.mark.parametrize("size", [10, 300])
def test_print_counts(tmp_path: Path, size: int, exact: bool) -> None:
    with flow(tmp_path, size, exact=exact) as f:
        counts = f.run()
    print(size, exact, counts)
