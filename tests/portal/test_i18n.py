"""Dutch by default, English on request: the language switch, the catalogue complete, no
text in a template outside a translation, the compiled catalogues, refusals in the user's
language."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from portal_support import PORTAL, Scene

from portal import i18n

PO = PORTAL / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
TEMPLATES = PORTAL / "portal" / "templates"

#: What a template may show without translating it: the product's name and punctuation.
UNTRANSLATED = re.compile(r"^(migrationkit|[\s%:·…/()-])*$")


def extracted_msgids() -> set[str]:
    with (PORTAL / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            PORTAL, method_map, options_map, keywords=keywords
        )
    }


def test_every_text_of_the_portal_has_an_english_translation() -> None:
    with PO.open("rb") as po_file:
        catalog = read_po(po_file)
    # A plural (ngettext) is known by its singular msgid and has a string for each form.
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]: m.string
        if isinstance(m.string, str)
        else all(m.string) and m.string[0]
        for m in catalog
        if m.id
    }

    msgids = extracted_msgids()

    assert len(msgids) > 150
    assert msgids - translated.keys() == set()
    assert [msgid for msgid in msgids if not translated[msgid]] == []
    assert translated.keys() - msgids == set(), "obsolete entries: run pybabel update"
    assert not any(m.fuzzy for m in catalog if m.id)


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_text_outside_a_translation(template: Path) -> None:
    source = template.read_text()
    without_jinja = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    text = re.sub(r"<!--.*?-->|<[^>]*>", "\n", without_jinja, flags=re.S)

    leftovers = [line.strip() for line in text.splitlines() if not UNTRANSLATED.match(line)]
    literal_attributes = re.findall(r'(?:aria-label|title|alt|placeholder)="(?!\{\{)[^"]+"', source)

    assert leftovers == []
    assert literal_attributes == []


def test_the_catalogue_is_compiled_when_missing_or_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    shutil.copytree(PORTAL / "portal" / "translations", source)
    monkeypatch.setattr(i18n, "SOURCE", source)
    compiled = tmp_path / "compiled"
    mo = compiled / "en" / "LC_MESSAGES" / "messages.mo"

    i18n.compile_catalogues(compiled)
    made = mo.stat().st_mtime_ns
    i18n.compile_catalogues(compiled)
    assert mo.stat().st_mtime_ns == made
    po = source / "en" / "LC_MESSAGES" / "messages.po"
    os.utime(po, ns=(made + 10**9, made + 10**9))
    i18n.compile_catalogues(compiled)

    assert mo.stat().st_mtime_ns > made
    assert mo.read_bytes()[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")


def test_dutch_is_the_default(noord: FlaskClient) -> None:
    page = noord.get("/migraties").text

    assert '<html lang="nl">' in page
    assert "Start een nieuwe migratie" in page


def test_the_language_switch_keeps_english_in_the_session(noord: FlaskClient) -> None:
    response = noord.post("/taal", data={"language": "en", "next": "/migraties?aangeboden="})

    assert response.location == "/migraties?aangeboden="
    page = noord.get("/migraties").text
    assert '<html lang="en">' in page
    assert "Start a new migration" in page
    assert "Administrations already offered for migration" in page
    assert 'aria-pressed="true">English' in page
    noord.post("/taal", data={"language": "nl"})
    assert '<html lang="nl">' in noord.get("/migraties").text


def test_the_switch_works_before_signing_in_and_survives_it(client: FlaskClient) -> None:
    client.post("/taal", data={"language": "en", "next": "/inloggen"})

    assert "Sign in" in client.get("/inloggen").text
    client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})
    assert "Signed in as noord@example.nl" in client.get("/administraties").text


def test_an_unknown_language_or_an_outside_address_is_ignored(noord: FlaskClient) -> None:
    response = noord.post("/taal", data={"language": "fr", "next": "//evil.example/"})

    assert response.location == "/"
    assert '<html lang="nl">' in noord.get("/administraties").text


def test_refusals_and_statuses_come_in_english(zuid: FlaskClient, scene: Scene) -> None:
    scene.start(scene.offer("1002"))
    zuid.post("/taal", data={"language": "en"})

    refused = zuid.post(
        "/migraties/inkomend/code",
        data={"code": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "voorwaarden": "y", "kosten": "y"},
    )

    assert "This transfer code is unknown. Check the code in the e-mail." in refused.text
    overview = zuid.get("/migraties").text
    assert "Queued" in overview
    assert "In de wachtrij" not in overview
