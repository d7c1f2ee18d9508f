"""The browser tests run on the fixtures of ``browser_fixtures`` (kept apart so that
tests/security uses them too)."""

import pytest
from browser_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    SCREENSHOTS,
    browser,
    clock,
    demo_home,
    look,
    person,
    portal,
    practice,
    visitor,
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS.exists():
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
