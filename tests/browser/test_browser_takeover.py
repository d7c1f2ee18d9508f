"""The office takeover in a real browser: Kantoor Praktijk offers all 300 administrations of
its Exact Online connection in one offer, Zuid selects them all, accepts the proposed
targets but for the two the matching cannot find, starts, and watches one overview count to
300 Voltooid; and the sender's side on a phone through the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_fixtures import LAPTOP, PHONE, Look, Person, make_portal_app
from playwright.sync_api import Page, expect
from test_browser_guide import connection, menu

from migrationkit.testing import FakeClock

#: The practice's administrations in Exact Online, all in one offer.
PRACTICE = 300
EXACT = "Exact Online (NL)"
#: The two whose counterparts the package renamed as well as recoded: no proposal.
UNMATCHED = {
    "60007 Installatiebedrijf De Vries": "80007",
    "60013 Tandartspraktijk De Vries": "80013",
}
#: The longest 300 small moves may take here, in milliseconds: a bound only a broken
#: worker reaches.
TAKEOVER_TIMEOUT_MS = 600_000


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with Kantoor Praktijk, seeded once for the module; each test serves a copy."""
    home = tmp_path_factory.mktemp("takeover") / "seeded"
    make_portal_app(home, FakeClock(), worker=False, practice=PRACTICE)
    return home


@pytest.fixture
def practice() -> int:
    return PRACTICE


def select_all_of_the_practice(page: Page, look: Look) -> None:
    """From the Migratie overzicht to the summary: the connection, a filter that narrows
    the list, then every administration of the connection in one action."""
    page.goto("/migraties")
    page.get_by_role("link", name="Start een nieuwe migratie").click()
    page.get_by_label("Verplaats één of meerdere administratie(s) naar een andere omgeving").check()
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("link", name="Volgende").click()
    page.wait_for_load_state()  # htmx listening before the choice
    page.get_by_label("Boekhoudsysteemkoppeling").select_option(label=connection(EXACT, "Praktijk"))
    boxes = page.locator("#administratie input[type=checkbox]")
    expect(boxes).to_have_count(PRACTICE)
    page.get_by_label("Filter op code of naam").fill("bakkerij")
    page.get_by_role("button", name="Filteren").click()
    expect(boxes).to_have_count(PRACTICE // 20)
    look(page, "praktijk-filter")
    page.get_by_label("Filter op code of naam").fill("")
    page.get_by_role("button", name="Filteren").click()
    expect(boxes).to_have_count(PRACTICE)
    page.get_by_role("button", name="Selecteer alle").click()
    expect(page.locator(".selected-count .num")).to_have_text(str(PRACTICE))
    look(page, "praktijk-alle-geselecteerd")
    page.get_by_role("button", name="Volgende").click()
    expect(page.get_by_text(f"{PRACTICE} administraties geselecteerd.")).to_be_visible()
    expect(page.get_by_text("Alles is in orde om te versturen.")).to_be_visible()
    look(page, "praktijk-overzicht-en-verzenden")


def test_zuid_takes_over_all_300_administrations_on_the_proposals_to_300_voltooid(
    person: Person, look: Look
) -> None:
    praktijk = person("praktijk@example.nl", width=LAPTOP)
    select_all_of_the_practice(praktijk, look)
    praktijk.get_by_label("E-mailadressen").fill("praktijk@example.nl, zuid@example.nl")
    praktijk.get_by_label("Ik ga akkoord met de Algemene voorwaarden").check()
    praktijk.get_by_role("button", name="Verzenden").click()
    expect(praktijk.get_by_role("heading", name="Migratieverzoek verzonden")).to_be_visible()
    code = praktijk.locator("#overdrachtscode").inner_text().strip()

    zuid = person("zuid@example.nl", width=LAPTOP)
    menu(zuid, "Migraties")
    zuid.get_by_role("link", name="Start een nieuwe migratie").click()
    zuid.get_by_label("Haal één of meerdere administratie(s) op uit een andere omgeving").check()
    zuid.get_by_role("button", name="Volgende").click()
    zuid.get_by_role("link", name="Volgende").click()
    zuid.get_by_label("Overdrachtscode").fill(code)
    zuid.get_by_label("Ik ga akkoord met de voorwaarden").check()
    zuid.get_by_label("Ik ga akkoord met de kosten van de migratie").check()
    zuid.get_by_role("button", name="Volgende").click()
    expect(zuid.locator(".count-offered .count")).to_have_text(str(PRACTICE))
    zuid.get_by_role("button", name="Selecteer alle").click()
    expect(zuid.locator(".selected-count .num")).to_have_text(str(PRACTICE))
    look(zuid, "zuid-alle-geselecteerd")
    zuid.get_by_role("button", name="Volgende").click()

    expect(zuid.locator("#voorstellen-telling")).to_contain_text(
        "286 met dezelfde code, 12 met dezelfde naam, 2 zonder voorstel."
    )
    rows = zuid.locator("table.targets-table tbody tr")
    expect(rows).to_have_count(PRACTICE)
    # The two without a proposal come first, and Start waits for them.
    expect(rows.nth(0)).to_contain_text("Geen voorstel")
    expect(rows.nth(1)).to_contain_text("Geen voorstel")
    start = zuid.get_by_role("button", name="Start migratie")
    expect(start).to_be_disabled()
    look(zuid, "zuid-voorstellen")
    for administration, code_in_package in UNMATCHED.items():
        zuid.get_by_label(f"Andere administratiecode voor {administration}").fill(code_in_package)
    expect(start).to_be_enabled()
    look(zuid, "zuid-voorstellen-aangevuld")
    with zuid.expect_request(lambda r: r.method == "POST") as posted:
        start.click()
    assert len(posted.value.post_data_buffer or b"") < 64 * 1024

    expect(zuid.get_by_text("De migratie is gestart")).to_be_visible()
    look(zuid, "zuid-overname-gestart")
    expect(zuid.locator(".count-completed .count")).to_have_text(
        str(PRACTICE), timeout=TAKEOVER_TIMEOUT_MS
    )
    expect(zuid.locator(".status-counts li")).to_have_count(1)  # nothing else left
    look(zuid, "zuid-overname-voltooid")
    renamed = zuid.get_by_role("row").filter(has_text="80007 Installatiebedrijf De Vries B.V.")
    expect(renamed).to_contain_text("aangeboden als 60007 Installatiebedrijf De Vries")


def test_the_sender_selects_all_300_on_a_phone_through_the_summary(
    person: Person, look: Look
) -> None:
    select_all_of_the_practice(person("praktijk@example.nl", width=PHONE), look)
