"""The guide followed in a real browser: Kantoor Noord moves administrations out, Kantoor
Zuid takes them in, to a green Voltooid and the archive in Zuid; and what the portal refuses
on the way, in the user's language."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from browser_fixtures import LAPTOP, PHONE, Look, Person
from playwright.sync_api import APIResponse, Locator, Page, expect

from migrationkit.domain import codes
from migrationkit.domain.errors import InvalidInput
from migrationkit.testing import FakeClock

#: A transfer code in full, as the e-mail and the confirmation page show it.
FULL_CODE = re.compile(
    rf"[{codes.ALPHABET}]{{{codes.GROUP}}}(?:-[{codes.ALPHABET}]{{{codes.GROUP}}})+"
)
EXACT = "Exact Online (NL)"
TWINFIELD = "Twinfield"
OFFERED = "Administraties die al ter migratie zijn aangeboden"
INCOMING = "Administraties die klaar staan om gemigreerd te worden"
#: Below this width (Bootstrap's lg) the main menu folds behind the Menu button.
MENU_FOLDS_BELOW = 992
#: The longest a move of the demo's largest archive may take in the browser, in ms.
MOVE_TIMEOUT_MS = 120_000


def connection(package: str, office: str) -> str:
    """How the portal lists a demo office's boekhoudsysteemkoppeling to a package."""
    return f"{package} {office}"


# --- the steps of the guide ------------------------------------------------------------------


def quietly(_page: Page, _name: str, *, scripts: bool = True) -> None:
    """A look that takes no screenshot, for the tests that are about something else."""


def menu(page: Page, *path: str) -> None:
    """Follows the main menu: opens it first on a phone (the Menu button), and a group such
    as Instellingen before its entry."""
    if (page.viewport_size or {"width": 0})["width"] < MENU_FOLDS_BELOW:
        page.locator("label.menu-button").click()
    navigation = page.get_by_role("navigation", name="Hoofdmenu")
    *groups, entry = path
    for group in groups:
        navigation.get_by_text(group, exact=True).click()
    navigation.get_by_role("link", name=entry, exact=True).click()


def offer(
    page: Page,
    account: str,
    administrations: list[str],
    recipient: str,
    *,
    look: Look | Callable[..., object] = quietly,
    scripts: bool = True,
) -> str:
    """Noord's side, from the Administraties tab to the confirmation; the code shown once."""
    page.goto("/")
    look(page, "administraties", scripts=scripts)
    page.get_by_role("link", name="+ Migreer administratie(s)").click()
    look(page, "migratie-overzicht", scripts=scripts)
    page.get_by_role("link", name="Start een nieuwe migratie").click()
    page.get_by_label("Verplaats één of meerdere administratie(s) naar een andere omgeving").check()
    look(page, "migratie-acties", scripts=scripts)
    page.get_by_role("button", name="Volgende").click()
    expect(page.get_by_text("Autorisatoren worden, net als de andere gebruikers")).to_be_visible()
    look(page, "verplaats-checklist", scripts=scripts)
    page.get_by_role("link", name="Volgende").click()
    page.get_by_label("Boekhoudsysteemkoppeling").select_option(label=account)
    if not scripts:
        page.get_by_role("button", name="Toon administraties").click()
    expect(page.locator('[data-code="no_administrations"]')).to_have_count(0)
    for administration in administrations:
        page.get_by_label(administration).check()
    look(page, "verplaats-administraties", scripts=scripts)
    page.get_by_role("button", name="Volgende").click()
    addresses = page.get_by_label("E-mailadressen")
    own = addresses.input_value()
    assert own.startswith("noord@example.nl")
    addresses.fill(f"{own}{recipient}")  # after the address filled in already, as the guide says
    page.get_by_label("Ik ga akkoord met de Algemene voorwaarden").check()
    look(page, "verplaats-overzicht-en-verzenden", scripts=scripts)
    page.get_by_role("button", name="Verzenden").click()
    expect(page.get_by_role("heading", name="Migratieverzoek verzonden")).to_be_visible()
    look(page, "migratieverzoek-verzonden", scripts=scripts)
    return page.locator("#overdrachtscode").inner_text().strip()


def code_from_mailbox(page: Page) -> str:
    """The newest transfer code in the signed-in user's demo Mailbox."""
    menu(page, "Mailbox")
    found = FULL_CODE.search(page.locator(".mail-body").first.inner_text())
    assert found is not None
    return found.group()


def redeem(
    page: Page,
    code: str,
    *,
    look: Look | Callable[..., object] = quietly,
    scripts: bool = True,
) -> None:
    """Zuid's side, from Migratie acties to the code with both acceptances."""
    menu(page, "Migraties")
    page.get_by_role("link", name="Start een nieuwe migratie").click()
    page.get_by_label("Haal één of meerdere administratie(s) op uit een andere omgeving").check()
    page.get_by_role("button", name="Volgende").click()
    look(page, "ophalen-checklist", scripts=scripts)
    page.get_by_role("link", name="Volgende").click()
    page.get_by_label("Overdrachtscode").fill(code)
    page.get_by_label("Ik ga akkoord met de voorwaarden").check()
    page.get_by_label("Ik ga akkoord met de kosten van de migratie").check()
    look(page, "ophalen-overdrachtscode", scripts=scripts)
    page.get_by_role("button", name="Volgende").click()


def proposal(page: Page, administration: str) -> Locator:
    """The targets page's row of an offered administration, with its proposal."""
    return page.locator("table.targets-table tbody tr").filter(has_text=administration)


@attrs.frozen
class Archive:
    """What an archive page lists, and the address and SHA-256 of its first document."""

    listing: list[str]
    first_address: str
    first_sha256: str


def archive_listing(page: Page) -> list[str]:
    return page.get_by_role("table").get_by_role("link").all_inner_texts()


def first_address(page: Page) -> str:
    """Where the archive page's first document link leads."""
    return page.get_by_role("table").get_by_role("link").first.get_attribute("href") or ""


def open_document(page: Page, address: str) -> APIResponse:
    """A document opened with the browser's session, following redirects; a PDF."""
    opened = page.request.get(address)
    assert opened.ok
    assert opened.headers["content-type"] == "application/pdf"
    return opened


def sha256_of(opened: APIResponse) -> str:
    return hashlib.sha256(opened.body()).hexdigest()


def archive_of(page: Page, name: str) -> Archive:
    """The archive of administration ``name``, opened from the Administraties tab."""
    page.goto("/")
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name="Archief").click()
    address = first_address(page)
    opened = open_document(page, address)
    assert opened.body().startswith(b"%PDF-1.4")
    return Archive(archive_listing(page), address, sha256_of(opened))


def overview_row(page: Page, section: str, administration: str) -> Locator:
    """An administration's row in one table of the Migratie overzicht (the page shown)."""
    return (
        page.get_by_role("region", name=section).get_by_role("row").filter(has_text=administration)
    )


def offered_row(page: Page, administration: str) -> Locator:
    return overview_row(page, OFFERED, administration)


def status_in_overview(page: Page, section: str, administration: str) -> str:
    """The status shown for an administration in one table of the Migratie overzicht."""
    page.goto("/migraties")
    return overview_row(page, section, administration).locator(".status").inner_text()


def follow_to_voltooid(page: Page, administration: str, *, scripts: bool = True) -> None:
    """From the Migratie overzicht (ready, or already in the history) to the migration's
    status page, whose progress bar moves by itself until a green Voltooid; without scripts
    the person presses Vernieuwen until then."""
    page.get_by_role("row").filter(has_text=administration).get_by_role(
        "link", name="Voortgang"
    ).click()
    expect(page.locator("#voortgang")).to_be_visible()
    badge = page.locator("#status-label .status")
    if not scripts:
        for _ in range(MOVE_TIMEOUT_MS // 250):
            if badge.inner_text() == "Voltooid":
                break
            page.wait_for_timeout(250)
            page.get_by_role("link", name="Vernieuwen").click()
    expect(badge).to_have_text("Voltooid", timeout=MOVE_TIMEOUT_MS)
    if scripts:  # reading the colour takes a script
        assert is_green(page, "#status-label .status")


def is_green(page: Page, selector: str) -> bool:
    color = page.locator(selector).evaluate("e => getComputedStyle(e).backgroundColor")
    red, green, blue = map(int, re.findall(r"\d+", color)[:3])
    return green > 90 and green > red + 40 and green > blue + 40


def grant_own_access(page: Page, email: str) -> None:
    """On the tab Gebruikers: Toegang Ja for the signed-in user."""
    own = page.get_by_role("row").filter(has_text=email)
    own.get_by_label("Ja").check()
    own.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".flash-success")).to_have_text("Toegang opgeslagen: Ja.")


def downloaded(page: Page, link_text: str) -> bytes:
    """The file behind the link whose text holds ``link_text``, as the browser saves it."""
    with page.expect_download() as download:
        page.get_by_role("link", name=link_text).click()
    return Path(download.value.path()).read_bytes()


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "scripts"),
    [(PHONE, True), (LAPTOP, True), (PHONE, False), (LAPTOP, False)],
    ids=["phone", "laptop", "phone-without-scripts", "laptop-without-scripts"],
)
def test_the_whole_guide_from_migreer_to_a_green_voltooid_with_the_archive_in_zuid(
    person: Person, look: Look, width: int, scripts: bool
) -> None:
    noord = person("noord@example.nl", width=width, scripts=scripts)
    zuid = person("zuid@example.nl", width=width, scripts=scripts)
    shown_code = offer(
        noord,
        connection(EXACT, "Noord"),
        ["1001 Bakkerij De Korenschoof", "1002 Fietsenmakerij Van Dijk"],
        "zuid@example.nl",
        look=look,
        scripts=scripts,
    )
    assert FULL_CODE.fullmatch(shown_code)
    assert status_in_overview(noord, OFFERED, "Bakkerij De Korenschoof") == "Aangeboden"
    look(noord, "migratie-overzicht-aangeboden", scripts=scripts)
    noord_archive = archive_of(noord, "Bakkerij De Korenschoof")
    look(noord, "archief", scripts=scripts)

    code = code_from_mailbox(zuid)
    look(zuid, "mailbox", scripts=scripts)
    assert code == shown_code
    redeem(zuid, code, look=look, scripts=scripts)
    zuid.get_by_label("1001 Bakkerij De Korenschoof").check()
    zuid.get_by_label("1002 Fietsenmakerij Van Dijk").check()
    look(zuid, "ophalen-administraties", scripts=scripts)
    zuid.get_by_role("button", name="Volgende").click()
    # The one connection is chosen already; each administration has its proposal: the
    # same code, else (1002, now 7002 in the package) the same name.
    expect(zuid.get_by_label("Boekhoudsysteemkoppeling").locator("option:checked")).to_have_text(
        connection(EXACT, "Zuid")
    )
    expect(proposal(zuid, "1001 Bakkerij De Korenschoof")).to_contain_text(
        "1001 Bakkerij De Korenschoof zelfde code"
    )
    expect(proposal(zuid, "1002 Fietsenmakerij Van Dijk")).to_contain_text(
        "7002 Fietsenmakerij Van Dijk zelfde naam"
    )
    start = zuid.get_by_role("button", name="Start migratie")
    expect(start).to_be_enabled()
    look(zuid, "koppelen-en-starten", scripts=scripts)
    start.click()
    expect(zuid.get_by_text("De migratie is gestart")).to_be_visible()
    look(zuid, "migratieverzoek-gestart", scripts=scripts)

    follow_to_voltooid(zuid, "Bakkerij De Korenschoof", scripts=scripts)
    expect(zuid.locator("#voortgang-tekst")).to_have_text("250 van 250 documenten")
    expect(zuid.get_by_text("Nog niemand heeft toegang tot deze administratie")).to_be_visible()
    look(zuid, "voltooid", scripts=scripts)
    report, manifest = (downloaded(zuid, name) for name in ("Migratieverslag", "JSON Lines"))
    assert report.startswith(b"%PDF-")
    assert len(manifest.splitlines()) == 250  # a line per document
    # As the guide says, the recipient gives even themselves access first (R14).
    expect(zuid.get_by_role("link", name="Archief bekijken")).to_have_count(0)
    status_page = zuid.url
    zuid.get_by_role("link", name="Toegang geven").click()
    expect(
        zuid.get_by_role("row").filter(has_text="zuid@example.nl").get_by_label("Nee")
    ).to_be_checked()
    look(zuid, "toegang", scripts=scripts)
    grant_own_access(zuid, "zuid@example.nl")
    zuid.goto(status_page)
    expect(zuid.get_by_text("Toegang hebben nu:")).to_be_visible()
    zuid.get_by_role("link", name="Archief bekijken").click()
    expect(
        zuid.get_by_role("heading", name="Archief van 1001 Bakkerij De Korenschoof")
    ).to_be_visible()
    look(zuid, "archief-in-zuid", scripts=scripts)
    assert archive_listing(zuid) == noord_archive.listing
    new_address = first_address(zuid)
    assert new_address != noord_archive.first_address  # Noord and Zuid use different stores
    assert sha256_of(open_document(zuid, new_address)) == noord_archive.first_sha256
    old_link = open_document(zuid, noord_archive.first_address)  # as a link in the package
    assert old_link.url.endswith(new_address)
    assert sha256_of(old_link) == noord_archive.first_sha256

    zuid.goto("/migraties")
    follow_to_voltooid(zuid, "Fietsenmakerij Van Dijk", scripts=scripts)
    zuid.get_by_role("link", name="Toegang geven").click()
    grant_own_access(zuid, "zuid@example.nl")
    zuid.goto("/migraties")
    history = zuid.get_by_role("region", name="Geschiedenis")
    expect(
        history.get_by_role("row").filter(has_text="7002 Fietsenmakerij Van Dijk")
    ).to_have_count(1)
    expect(zuid.get_by_role("region", name=INCOMING).get_by_role("row")).to_have_count(0)
    look(zuid, "migratie-overzicht-geschiedenis", scripts=scripts)
    menu(zuid, "Administraties")
    expect(zuid.get_by_role("row").filter(has_text="7002")).to_contain_text(
        "Fietsenmakerij Van Dijk"
    )
    expect(zuid.get_by_role("row").filter(has_text="1001")).to_contain_text(
        "Bakkerij De Korenschoof"
    )
    noord.goto("/")
    expect(noord.get_by_role("row").filter(has_text="Bakkerij De Korenschoof")).to_have_count(0)
    expect(noord.get_by_role("row").filter(has_text="Fietsenmakerij Van Dijk")).to_have_count(0)


def test_noord_withdraws_an_offered_administration_and_its_code_stops_working(
    person: Person,
) -> None:
    noord = person("noord@example.nl")
    code = offer(
        noord, connection(TWINFIELD, "Noord"), ["2001 Installatiebedrijf Vos"], "zuid@example.nl"
    )
    noord.get_by_role("link", name="Naar het Migratie overzicht").click()
    offered_row(noord, "Installatiebedrijf Vos").get_by_role("button", name="Intrekken").click()

    expect(noord.locator(".flash-success")).to_have_text(
        "2001 Installatiebedrijf Vos is ingetrokken."
    )
    assert status_in_overview(noord, OFFERED, "Installatiebedrijf Vos") == "Ingetrokken"
    zuid = person("zuid@example.nl")
    redeem(zuid, code)
    expect(zuid.locator('[data-code="code_withdrawn"]')).to_be_visible()


def test_zuid_rejects_one_administration_with_a_reason_and_noord_sees_afgewezen(
    person: Person,
) -> None:
    noord, zuid = person("noord@example.nl"), person("zuid@example.nl")
    offer(
        noord,
        connection(TWINFIELD, "Noord"),
        ["2001 Installatiebedrijf Vos", "2002 Kapsalon Knip"],
        "zuid@example.nl",
    )
    redeem(zuid, code_from_mailbox(zuid))
    zuid.get_by_label("2002 Kapsalon Knip").check()
    zuid.get_by_label("Reden van afwijzing").fill("Deze klant komt niet naar ons.")
    zuid.get_by_role("button", name="Afwijzen").click()

    expect(zuid.locator(".flash-success")).to_have_text(
        "Afgewezen: 2002 Kapsalon Knip. De aanbieder krijgt een e-mail."
    )
    expect(zuid.get_by_label("2001 Installatiebedrijf Vos")).to_be_visible()
    expect(zuid.get_by_label("2002 Kapsalon Knip")).to_have_count(0)
    assert status_in_overview(noord, OFFERED, "Kapsalon Knip") == "Afgewezen"
    expect(offered_row(noord, "Kapsalon Knip")).to_contain_text(
        "Reden: Deze klant komt niet naar ons."
    )
    assert status_in_overview(noord, OFFERED, "Installatiebedrijf Vos") == "Aangeboden"
    noord.get_by_role("link", name="Mailbox").click()
    expect(noord.locator(".mail-body").first).to_contain_text("Kapsalon Knip")


def test_a_code_typed_after_its_expiry_is_refused_and_kept_in_the_field(
    person: Person, clock: FakeClock
) -> None:
    code = offer(
        person("noord@example.nl"),
        connection(TWINFIELD, "Noord"),
        ["2001 Installatiebedrijf Vos"],
        "zuid@example.nl",
    )
    clock.advance(timedelta(days=16))
    # Sessions end 8 hours after their sign-in: both sign in again, 16 days later.
    noord, zuid = person("noord@example.nl"), person("zuid@example.nl")

    redeem(zuid, code)

    expect(zuid.locator("#code-error")).to_have_attribute("data-code", "code_expired")
    expect(zuid.get_by_label("Overdrachtscode")).to_have_value(code)
    assert status_in_overview(noord, OFFERED, "Installatiebedrijf Vos") == "Verlopen"


def test_the_targets_page_offers_only_connections_of_the_offers_own_package(
    person: Person,
) -> None:
    noord, zuid = person("noord@example.nl"), person("zuid@example.nl")
    offer(noord, connection(EXACT, "Noord"), ["1001 Bakkerij De Korenschoof"], "zuid@example.nl")
    redeem(zuid, code_from_mailbox(zuid))
    zuid.get_by_label("1001 Bakkerij De Korenschoof").check()
    zuid.get_by_role("button", name="Volgende").click()

    chosen = zuid.get_by_label("Boekhoudsysteemkoppeling")
    expect(chosen.locator("option")).to_have_text(
        ["Kies een boekhoudsysteemkoppeling", connection(EXACT, "Zuid")]
    )
    expect(chosen.locator("option:checked")).to_have_text(connection(EXACT, "Zuid"))
    expect(proposal(zuid, "1001 Bakkerij De Korenschoof")).to_contain_text(
        "1001 Bakkerij De Korenschoof zelfde code"
    )
    assert status_in_overview(zuid, INCOMING, "Bakkerij De Korenschoof") == "Aangeboden"


def test_a_plain_user_sees_no_migration_and_is_refused_at_its_address(
    person: Person,
) -> None:
    employee = person("medewerker@example.nl")

    expect(employee.get_by_role("heading", name="Administraties")).to_be_visible()
    expect(employee.get_by_role("row").filter(has_text="Bakkerij De Korenschoof")).to_be_visible()
    expect(employee.get_by_role("link", name="+ Migreer administratie(s)")).to_have_count(0)
    expect(employee.get_by_role("link", name="Migraties")).to_have_count(0)
    for address in ("/migraties", "/migraties/acties", "/migraties/uitgaand/checklist"):
        response = employee.goto(address)
        assert response is not None
        assert response.status == 403
        expect(employee.locator(".refusal")).to_have_attribute("data-code", "not_super_user")


def test_a_form_sent_without_its_csrf_token_is_refused_and_changes_nothing(
    person: Person,
) -> None:
    noord = person("noord@example.nl")
    noord.goto("/migraties/uitgaand/administraties")
    noord.get_by_label("Boekhoudsysteemkoppeling").select_option(label=connection(EXACT, "Noord"))
    noord.get_by_label("1001 Bakkerij De Korenschoof").check()
    noord.get_by_role("button", name="Volgende").click()
    noord.get_by_label("E-mailadressen").fill("noord@example.nl, zuid@example.nl")
    noord.get_by_label("Ik ga akkoord met de Algemene voorwaarden").check()
    noord.locator("input[name=csrf_token]").evaluate_all(
        "inputs => inputs.forEach(i => i.remove())"
    )

    with noord.expect_response(lambda r: r.request.method == "POST") as sent:
        noord.get_by_role("button", name="Verzenden").click()

    assert sent.value.status == 400
    expect(noord.locator(".refusal")).to_have_text(
        "Het formulier is verlopen of ongeldig. Ga terug en probeer het opnieuw."
    )
    noord.goto("/migraties")
    expect(noord.get_by_text("Geen aangeboden administraties gevonden.")).to_be_visible()


def test_the_portal_speaks_dutch_first_and_english_when_chosen(
    person: Person,
) -> None:
    noord = person("noord@example.nl")
    assert noord.locator("html").get_attribute("lang") == "nl"
    expect(noord.get_by_role("heading", level=1)).to_have_text("Administraties")

    noord.get_by_role("button", name="English").click()

    assert noord.locator("html").get_attribute("lang") == "en"
    expect(noord.get_by_role("heading", level=1)).to_have_text("Administrations")
    noord.get_by_role("link", name="Migrations").click()
    expect(noord.get_by_role("heading", name="Start a new migration")).to_be_visible()
    noord.goto("/migraties/inkomend/code")
    noord.get_by_label("Transfer code").fill("ABCD-EFGH")
    noord.get_by_role("button", name="Next").click()
    expect(noord.locator("#voorwaarden-error")).to_have_text(
        InvalidInput("terms_not_accepted").message("en")
    )
    expect(noord.get_by_label("Transfer code")).to_have_value("ABCD-EFGH")

    noord.get_by_role("button", name="Nederlands").click()

    assert noord.locator("html").get_attribute("lang") == "nl"
    expect(noord.get_by_label("Overdrachtscode")).to_be_visible()
