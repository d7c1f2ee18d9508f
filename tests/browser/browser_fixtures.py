"""The browser tests' fixtures: Playwright drives Debian's Chromium against the reference
portal, served by a real HTTP server in a thread, on a fresh demo home for each test.

No test tool downloads a browser: the one at ``/usr/bin/chromium`` (``apt-get install
chromium``, as ``.ci/run`` does) is used. Without it the tests are skipped, except in CI,
where a missing browser is a failure.

Kept apart from conftest.py so that other test folders (tests/security) use the same fixtures:
their conftest imports them from here.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from migrationkit.adapters.inprocess import InProcessQueue
from migrationkit.testing import FakeClock

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "flask_portal"))

from portal.runtime import RUNTIME_KEY

from portal import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: How long a step may wait for the page, in milliseconds.
STEP_TIMEOUT_MS = 10_000
PASSWORD = "demo"


@attrs.frozen
class Portal:
    """The portal being served: its address, its app, and the clock its use cases read."""

    url: str
    app: Flask
    clock: FakeClock


def make_portal_app(home: Path, clock: FakeClock, *, worker: bool = True) -> Flask:
    """The portal in demo mode on ``home``: SQLite, local archive, and (unless ``worker`` is
    false) the in-process worker running the moves."""
    environ = {"MIGRATIONKIT_HOME": str(home), "MIGRATIONKIT_DEMO": "1"}
    return create_app({"MIGRATIONKIT_ENVIRON": environ, "CLOCK": clock, "START_WORKER": worker})


def stop_worker(app: Flask) -> None:
    queue = app.extensions[RUNTIME_KEY].queue
    assert isinstance(queue, InProcessQueue)
    queue.stop(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Not for the whole session: tests/browser and
    tests/security each register this fixture, and two of Playwright's sync drivers may not
    be alive in one thread at once."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's package (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home seeded with the demo data once; each test serves a copy of it."""
    home = tmp_path_factory.mktemp("browser") / "seeded"
    make_portal_app(home, FakeClock(), worker=False)
    return home


def _link_or_copy(source: str, target: str) -> None:
    """Archive blobs never change (their name is their content): a hard link copies them."""
    if f"{os.sep}archive{os.sep}" in source:
        os.link(source, target)
    else:
        shutil.copy2(source, target)


@pytest.fixture
def portal(demo_home: Path, tmp_path: Path) -> Iterator[Portal]:
    """The portal on a fresh copy of the demo, answering on a free port of 127.0.0.1."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, copy_function=_link_or_copy)
    clock = FakeClock()
    app = make_portal_app(home, clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    serving.start()
    try:
        yield Portal(f"http://127.0.0.1:{server.server_port}", app, clock)
    finally:
        server.shutdown()
        serving.join()
        server.server_close()
        stop_worker(app)


@pytest.fixture
def clock(portal: Portal) -> FakeClock:
    """The clock the portal's use cases read: a test moves it to let time pass."""
    return portal.clock


@pytest.fixture
def person(browser: Browser, portal: Portal) -> Iterator[Callable[[str], Page]]:
    """Opens the portal in a browser of its own for each demo user, signed in through the
    login page: ``person("zuid@example.nl")``. Anything the Content-Security-Policy made
    the browser refuse on any of their pages fails the test."""
    contexts = []
    refused: list[str] = []

    def signed_in(email: str) -> Page:
        context = browser.new_context(base_url=portal.url)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto("/inloggen")
        page.get_by_label("E-mailadres").fill(email)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_text(f"Ingelogd als {email}").wait_for()
        return page

    yield signed_in
    for context in contexts:
        context.close()
    assert refused == [], "the Content-Security-Policy refused something"
