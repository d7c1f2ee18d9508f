"""Instellingen > Sessies in Chromium, at a phone's width (390 px) and a laptop's (1366 px):
the user's sessions with their browsers, this one marked, nothing wider than the screen;
"Alle andere beëindigen" signs the other browser out at once. The screenshots go to
the screenshots folder."""

from __future__ import annotations

import pytest
from browser_fixtures import SCREENSHOTS, STEP_TIMEOUT_MS, Portal, sign_in
from playwright.sync_api import Browser, Page, expect

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def signed_in(browser: Browser, portal: Portal, width: int, user_agent: str | None = None) -> Page:
    context = browser.new_context(
        base_url=portal.url, viewport={"width": width, "height": 800}, user_agent=user_agent
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, "noord@example.nl")
    return page


@pytest.mark.parametrize("width", [390, 1366])
def test_the_sessies_page_lists_the_sessions_and_ends_the_others(
    browser: Browser, portal: Portal, width: int
) -> None:
    phone = signed_in(browser, portal, 390, SAFARI_ON_IPHONE)
    laptop = signed_in(browser, portal, 1366, FIREFOX_ON_WINDOWS)
    page = signed_in(browser, portal, width)

    # The menu that leads here is walked in test_browser_guide; this is the page itself.
    page.goto("/instellingen/sessies")

    expect(page.get_by_role("heading", name="Sessies")).to_be_visible()
    rows = page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Deze sessie")
    expect(rows.nth(1)).to_contain_text("Firefox op Windows")
    expect(rows.nth(2)).to_contain_text("Safari op iOS")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=SCREENSHOTS / f"sessies-{width}.png", full_page=True)
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"

    page.get_by_role("button", name="Alle andere beëindigen").click()

    expect(page.get_by_text("2 andere sessie(s) beëindigd.")).to_be_visible()
    expect(rows).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / f"sessies-{width}-alleen-deze.png", full_page=True)
    for other in (phone, laptop):
        other.goto("/administraties")
        expect(other.get_by_text("Je sessie is verlopen. Log opnieuw in.")).to_be_visible()
