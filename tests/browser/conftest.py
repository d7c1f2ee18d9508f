"""The browser tests run on the fixtures of ``browser_fixtures`` (kept apart so that
tests/security uses them too)."""

from browser_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    browser,
    clock,
    demo_home,
    person,
    portal,
)
