"""docs/embedding.md is run as it stands, so the wiring it shows stays true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "embedding.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) == 2


@pytest.mark.parametrize("block", BLOCKS, ids=["whole-wiring", "testing-your-wiring"])
def test_an_example_on_the_embedding_page_runs(block: str) -> None:
    namespace: dict[str, object] = {"__name__": "embedding_example"}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
