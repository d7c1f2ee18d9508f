"""The fixtures that stand for the packages' answers say where their shapes were published,
say what is assumed and why, are listed in docs/connectors.md when something is, and are
used by a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from published import all_fixtures, fixture

HERE = Path(__file__).parent
DOCS = HERE.parent.parent / "docs" / "connectors.md"
#: A repository at a commit and a path in it, or a page's address.
SOURCE = re.compile(r"^([\w.-]+/[\w.-]+@[0-9a-f]{12} \S+|https://\S+)( \(.+\))?$")
FIXTURES = all_fixtures()


def test_there_are_fixtures_for_every_package() -> None:
    assert {package for package, _ in FIXTURES} == {
        "exact_online",
        "twinfield",
        "multivers",
        "xero",
        "accountview",
    }


@pytest.mark.parametrize(("package", "name"), FIXTURES, ids=lambda value: str(value))
def test_each_fixture_names_its_published_sources(package: str, name: str) -> None:
    found = fixture(package, name)

    assert found["source"], "a fixture names at least one source"
    for source in found["source"]:
        assert SOURCE.match(source), f"not a repository@commit path or an address: {source}"
    assert "json" in found or "body" in found
    if "assumed" in found:
        assert len(found["assumed"]) > 20, "an assumption says what it is and why"
    if "message" in found:
        assert found["message"] in str(found.get("json", found.get("body")))


@pytest.mark.parametrize(("package", "name"), FIXTURES, ids=lambda value: str(value))
def test_each_assumption_is_listed_in_the_docs(package: str, name: str) -> None:
    if "assumed" in fixture(package, name):
        assert f"`{package}/{name}`" in DOCS.read_text("utf-8")


@pytest.mark.parametrize(("package", "name"), FIXTURES, ids=lambda value: str(value))
def test_each_fixture_is_used_by_a_test(package: str, name: str) -> None:
    tests = "".join(path.read_text("utf-8") for path in HERE.glob("*.py"))
    assert f'"{name}"' in tests
    assert f'"{package}"' in tests
