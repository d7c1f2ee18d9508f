"""An uploaded document never runs in the portal, shown in Debian's Chromium.

An archive as an attacker leaves it (moved in from another office, or kept from before the
type check): an HTML page whose scripts, inline and loaded from a second document (the
``.js``), make an API token in the name of whoever opens it; an SVG with the same script; a
PDF whose JavaScript runs when it opens. Kantoor Noord's super user opens each, as the
archive page links them. Nothing runs on the portal's origin: no API token is made, no
request reaches the marker address (neither the marker server's log nor Chromium's own
record of requests holds one), no dialog opens but the one of the PDF's own JavaScript,
which Chromium runs in PDFium's separate engine whatever the headers say, and which sees no
``document``, ``fetch``, ``XMLHttpRequest`` or ``window`` (its alert says so). The PDF still
opens in Chromium's PDF viewer under the document's sandbox Content-Security-Policy.

The same page served from another address (the marker's) does run, the control that shows
the test would see it. And the upload form refuses each of them.

Screenshots of the pages go to ``<pytest's basetemp>/screenshots``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import attrs
import pytest
from browser_fixtures import Portal
from documents_support import (
    PDF,
    Planted,
    html_with_script,
    pdf_with_script,
    plant,
    png,
    svg_with_script,
    thief_js,
)
from playwright.sync_api import Dialog, Page, expect
from portal.runtime import RUNTIME_KEY
from portal_support import Scene

from migrationkit.bootstrap import Runtime
from migrationkit.domain.errors import MESSAGES

SUPER_USER = "noord@example.nl"
ADMINISTRATION = "1001"
#: Chromium's PDF viewer, an extension of the browser itself.
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"
WIDTHS = (390, 1366)


@attrs.define
class Marker:
    """An HTTP server on another port (another origin) that records every request, and
    serves the attacker's page itself when asked for ``/control-page``."""

    url: str
    hits: list[str]
    control_page: bytes = b""


@pytest.fixture
def marker() -> Iterator[Marker]:
    recorded = Marker("", [])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorded.hits.append(self.path)
            body = recorded.control_page if self.path == "/control-page" else b"marker"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=server.serve_forever, name="marker", daemon=True)
    serving.start()
    recorded.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield recorded
    finally:
        server.shutdown()
        serving.join()
        server.server_close()


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@attrs.frozen
class Archive:
    """The attacker's documents, planted in Noord's administration 1001."""

    js: Planted
    html: Planted
    svg: Planted
    pdf: Planted
    png: Planted

    @property
    def listing(self) -> str:
        """The archive's page that lists them (they come after the demo's documents)."""
        administration, first = self.js.document.administration_id, self.js.document.id
        return f"/administraties/{administration}/archief?na={first - 1}"


def runtime_of(portal: Portal) -> Runtime:
    runtime: Runtime = portal.app.extensions[RUNTIME_KEY]
    return runtime


def plant_attack(portal: Portal, marker: str) -> Archive:
    """The attack's documents, calling ``marker`` from wherever their scripts run."""
    runtime = runtime_of(portal)
    administration = Scene(runtime.deps).administration(ADMINISTRATION)

    def planted(filename: str, content_type: str, data: bytes) -> Planted:
        return plant(
            runtime, administration, filename=filename, content_type=content_type, data=data
        )

    js = planted("hulp.js", "application/javascript", thief_js(marker))
    return Archive(
        js=js,
        html=planted("factuur.html", "text/html", html_with_script(js.path, marker)),
        svg=planted("logo.svg", "image/svg+xml", svg_with_script(marker)),
        pdf=planted("factuur-met-script.pdf", "application/pdf", pdf_with_script(marker)),
        png=planted("scan.png", "image/png", png(120, 60)),
    )


def api_tokens(portal: Portal) -> list[object]:
    with runtime_of(portal).deps.uow() as uow:
        user = uow.users.get_by_email(SUPER_USER)
        assert user is not None
        return list(uow.api_tokens.list_for_user(user.id))


def recording(page: Page) -> tuple[list[str], list[str]]:
    """Every request of the page's browser (any tab) and every dialog of any of its tabs,
    each dismissed."""
    requests: list[str] = []
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.context.on("request", lambda request: requests.append(request.url))
    page.context.on("page", lambda opened: opened.on("dialog", dismiss))
    page.on("dialog", dismiss)
    return requests, dialogs


def test_no_document_of_an_archive_runs_on_the_portals_origin(
    portal: Portal,
    person: Callable[[str], Page],
    marker: Marker,
    screenshots: Path,
) -> None:
    archive = plant_attack(portal, f"{marker.url}/portal")
    tokens_before = api_tokens(portal)
    page = person(SUPER_USER)
    requests, dialogs = recording(page)

    page.goto(archive.listing)
    for planted in (archive.html, archive.js, archive.svg):
        with page.expect_download() as download:
            page.get_by_role("link", name=planted.document.filename, exact=True).click()
        assert download.value.suggested_filename == planted.document.filename
    with page.expect_event("dialog"):  # the PDF's own script, run by PDFium
        page.get_by_role("link", name=archive.pdf.document.filename).click()
    viewer = next(frame for frame in page.frames if frame.url.startswith(PDF_VIEWER))
    expect(viewer.locator("#pageSelector")).to_have_value("1")
    page.screenshot(path=screenshots / "pdf-with-script-in-chromiums-viewer.png")
    # An image is shown in place too (in a tab of its own: the policy blocks the inline
    # style Chromium's image viewer gives itself, so the image is not centred, and says so
    # on the console).
    image = page.context.new_page()
    image.goto(archive.png.path)
    expect(image.locator("img")).to_have_js_property("naturalWidth", 120)
    image.screenshot(path=screenshots / "png-in-place.png")
    # The control, in another window of the same browser: the attacker's page, served from
    # another address, runs; by the time its script has called the marker, the documents'
    # scripts would have too.
    browser = page.context.browser
    assert browser is not None
    control = browser.new_context().new_page()
    control_dialogs: list[str] = []
    control.on("dialog", lambda dialog: (control_dialogs.append(dialog.message), dialog.dismiss()))
    marker.control_page = html_with_script("/nergens.js", f"{marker.url}/control")
    with (
        control.expect_event("dialog", lambda dialog: dialog.message == "script ran"),
        control.expect_response(f"{marker.url}/control/js"),  # the thief's last steps
    ):
        control.goto(f"{marker.url}/control-page")
    control.context.close()

    assert control_dialogs == ["html ran", "script ran"]
    assert "/control/onload" in marker.hits
    assert [hit for hit in marker.hits if hit.startswith("/portal")] == []
    assert [url for url in requests if url.startswith(f"{marker.url}/portal")] == []
    assert api_tokens(portal) == tokens_before
    assert dialogs == ["pdf ran: undefined undefined undefined undefined"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_upload_form_refuses_each_of_them_in_dutch(
    portal: Portal,
    person: Callable[[str], Page],
    screenshots: Path,
    width: int,
) -> None:
    runtime = runtime_of(portal)
    scene = Scene(runtime.deps)
    before = scene.documents(ADMINISTRATION)
    page = person(SUPER_USER)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/administraties/{before[0].administration_id}/archief")
    files = {
        "factuur.html": ("text/html", html_with_script("/x.js", "http://127.0.0.1:9")),
        "logo.svg": ("image/svg+xml", svg_with_script("http://127.0.0.1:9")),
        "hulp.js": ("application/javascript", thief_js("http://127.0.0.1:9")),
        "factuur.pdf": ("application/pdf", html_with_script("/x.js", "http://127.0.0.1:9")),
    }

    for name, (claimed, data) in files.items():
        page.get_by_label("Document").set_input_files(
            files=[{"name": name, "mimeType": claimed, "buffer": data}]
        )
        page.get_by_role("button", name="Uploaden").click()
        expect(page.locator("#bestand-error")).to_have_text(MESSAGES["document_type_refused"][0])
    page.get_by_role("button", name="Uploaden").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / f"upload-refused-{width}.png")

    assert scene.documents(ADMINISTRATION) == before
    page.get_by_label("Document").set_input_files(
        files=[{"name": "factuur.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Uploaden").click()
    expect(page.get_by_text("factuur.pdf is toegevoegd aan het archief.")).to_be_visible()
