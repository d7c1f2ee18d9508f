"""The browser tests' fixtures: Playwright drives Debian's Chromium against the reference
portal, served by a real HTTP server in a thread, on a fresh demo home for each test.

No test tool downloads a browser: the one at ``/usr/bin/chromium`` (``apt-get install
chromium``, as ``.ci/run`` does) is used. Without it the tests are skipped, except in CI,
where a missing browser is a failure.

Each screen a test looks at (``Look``) is screenshot into ``SCREENSHOTS`` (printed at the end
of the run), must not scroll sideways, and, where scripts run, is checked by axe-core for
serious and critical accessibility violations. axe-core is vendored in ``vendor/`` (its
version and licence in ``vendor/README.md``), so no npm is needed.

Kept apart from conftest.py so that other test folders (tests/security) use the same fixtures:
their conftest imports them from here.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import attrs
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from migrationkit.testing import FakeClock
from migrationkit.workers.inprocess import InProcessQueue

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
#: How long a step may wait for the page, in milliseconds: a bound only a broken page
#: reaches, since a machine busy with other servers may answer a step in seconds.
STEP_TIMEOUT_MS = 60_000
expect.set_options(timeout=STEP_TIMEOUT_MS)
PASSWORD = "demo"
#: A phone and a laptop: the widths the guide is walked at.
PHONE, LAPTOP = 390, 1366
#: Every width no page may scroll sideways at.
WIDTHS = (390, 768, 1280, 1366, 1440)
HEIGHT = 900
#: Where the screenshots go; CI's log names it at the end of the run.
SCREENSHOTS = Path(
    os.environ.get("MIGRATIONKIT_SCREENSHOTS", Path(__file__).parent / "screenshots")
).resolve()
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
#: axe-core's impacts a page may not have.
FORBIDDEN_IMPACTS = ("serious", "critical")


@attrs.frozen
class Portal:
    """The portal being served: its address, its app, and the clock its use cases read."""

    url: str
    app: Flask
    clock: FakeClock


def make_portal_app(
    home: Path, clock: FakeClock, *, worker: bool = True, practice: int = 0
) -> Flask:
    """The portal in demo mode on ``home``: SQLite, local archive, and (unless ``worker`` is
    false) the in-process worker running the moves; with ``practice``, Kantoor Praktijk of
    that many administrations too."""
    environ = {"MIGRATIONKIT_HOME": str(home), "MIGRATIONKIT_DEMO": "1"}
    if practice:
        environ["MIGRATIONKIT_DEMO_PRACTICE"] = str(practice)
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
def practice() -> int:
    """The administrations of the demo's Kantoor Praktijk (none): a test module about a
    takeover says how many, with a ``demo_home`` seeded with as many."""
    return 0


@pytest.fixture
def portal(demo_home: Path, practice: int, tmp_path: Path) -> Iterator[Portal]:
    """The portal on a fresh copy of the demo, answering on a free port of 127.0.0.1."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, copy_function=_link_or_copy)
    clock = FakeClock()
    app = make_portal_app(home, clock, practice=practice)
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


class Person(Protocol):
    def __call__(self, email: str, *, width: int = ..., scripts: bool = ...) -> Page: ...


@pytest.fixture
def visitor(browser: Browser, portal: Portal) -> Iterator[Callable[..., Page]]:
    """Opens the portal in a browser of its own, ``width`` pixels wide, with scripts on or
    off. Anything the Content-Security-Policy made the browser refuse on any of its pages
    fails the test."""
    contexts = []
    refused: list[str] = []

    def opened(*, width: int = LAPTOP, scripts: bool = True) -> Page:
        context = browser.new_context(
            base_url=portal.url,
            viewport={"width": width, "height": HEIGHT},
            java_script_enabled=scripts,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield opened
    for context in contexts:
        context.close()
    assert refused == [], "the Content-Security-Policy refused something"


@pytest.fixture
def person(visitor: Callable[..., Page]) -> Person:
    """Opens the portal for a demo user, signed in through the login page:
    ``person("zuid@example.nl", width=390, scripts=False)``."""

    def signed_in(email: str, *, width: int = LAPTOP, scripts: bool = True) -> Page:
        page = visitor(width=width, scripts=scripts)
        sign_in(page, email)
        return page

    return signed_in


def sign_in(page: Page, email: str) -> None:
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    # On a phone the signed-in user is named inside the menu, so not visible until opened.
    page.get_by_text(f"Ingelogd als {email}").wait_for(state="attached")
    page.wait_for_load_state()  # the stylesheets too, before anything is judged visible


class Look:
    """Looks at a screen as a person would: a full-page screenshot into ``SCREENSHOTS``
    (numbered in the order of the test), no sideways scroll (the full page is exactly as
    wide as the window), and, where scripts run, no serious or critical axe-core
    violation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, name: str, *, scripts: bool = True) -> Path:
        # The whole page first, stylesheets included: a page looked at while it still loads
        # (a busy machine) is measured as wide as its unstyled tables.
        page.wait_for_load_state()
        width = (page.viewport_size or {"width": 0})["width"]
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}-{width}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        png = page.screenshot(path=str(path), full_page=True)
        if scripts:
            # Asked of the page itself: a live page may change while the screenshot is made.
            shown_width = page.evaluate("() => document.documentElement.scrollWidth")
        else:  # no script to ask: the full-page screenshot is as wide as the page
            shown_width = struct.unpack(">I", png[16:20])[0]
        wide = too_wide(page, width) if scripts and shown_width > width else []
        assert shown_width <= width, f"{page.url} scrolls sideways at {width} px ({name}): {wide}"
        if scripts:
            violations = axe_violations(page)
            assert violations == [], f"axe-core at {width} px on {page.url}: {violations}"
        return path


def too_wide(page: Page, width: int) -> list[str]:
    """The elements that reach past the window's right edge, to say what scrolls."""
    found: list[str] = page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .slice(-5)
            .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)""",
        width,
    )
    return found


def axe_violations(page: Page) -> list[str]:
    """The serious and critical violations axe-core finds on the page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found: list[str] = page.evaluate(
        """async (impacts) => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter((v) => impacts.includes(v.impact))
                .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(", ")}`);
        }""",
        list(FORBIDDEN_IMPACTS),
    )
    return found


_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


@pytest.fixture
def look(request: pytest.FixtureRequest) -> Look:
    """``look(page, "name")`` for this test, into a folder named after it."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return Look(folder)
