"""Dutch by default, English on request: the language switch, the catalogue complete, no
text in a template outside a translation, the compiled catalogues, refusals in the user's
language."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from portal_support import PORTAL, Scene, Shown, refusals

from migrationkit.domain.errors import InvalidInput, NotAllowed

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


#: Runs the portal's app factory on a new home and shows the sign-in page in English.
READ_ONLY_START = """
import sys
from migrationkit.adapters.sqlalchemy import upgrade
from portal import create_app

home = sys.argv[1]
upgrade(f"sqlite:///{home}/migrationkit.sqlite3")
app = create_app({
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "START_WORKER": False,
    "MIGRATIONKIT_ENVIRON": {
        "MIGRATIONKIT_HOME": home, "MIGRATIONKIT_SECRET_KEY": "r" * 40, "MIGRATIONKIT_DEMO": "1"
    },
})
client = app.test_client()
client.post("/taal", data={"language": "en", "next": "/inloggen"})
print(client.get("/inloggen").get_data(as_text=True))
"""


def tree_state(tree: Path) -> dict[str, int]:
    """Every path under ``tree`` with its modification time: a write shows as a change."""
    return {str(path.relative_to(tree)): path.stat().st_mtime_ns for path in tree.rglob("*")}


def test_the_portal_runs_from_a_read_only_tree_with_its_translations(tmp_path: Path) -> None:
    """A copy of the portal, made read-only (which stops anyone but root), is started by its
    app factory in a process of its own and shows English: the catalogue compiled, and
    nothing written under the tree (which stops root too)."""
    tree = tmp_path / "flask_portal"
    shutil.copytree(PORTAL, tree, ignore=shutil.ignore_patterns("__pycache__", "instance"))
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    before = tree_state(tree)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    try:
        shown = subprocess.run(
            [sys.executable, "-c", READ_ONLY_START, str(home)],
            env=variables | {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        for path in [tree, *tree.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)

    assert '<html lang="en"' in shown
    assert "Sign in" in shown
    assert "Inloggen" not in shown
    assert tree_state(tree) == before
    assert not (tree / "instance").exists()


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


def test_statuses_come_in_english(zuid: FlaskClient, scene: Scene) -> None:
    scene.start(scene.offer("1002"))
    zuid.post("/taal", data={"language": "en"})

    overview = zuid.get("/migraties").text
    assert "Queued" in overview
    assert "In de wachtrij" not in overview


#: A refusal provoked in each place the portal shows one: at a field, in a flash message on
#: the next page, on the refusal page. What a test sends, the refusal, and where it shows.
REFUSALS = {
    "field": (
        (
            "zuid",
            "post",
            "/migraties/inkomend/code",
            {"code": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "voorwaarden": "y", "kosten": "y"},
        ),
        InvalidInput("code_unknown"),
        "code-error",
    ),
    "flash": (
        ("zuid", "get", "/migraties/uitgaand/samenvatting", {}),
        InvalidInput("no_administrations"),
        "flash",
    ),
    "page": (("medewerker", "get", "/migraties", {}), NotAllowed("not_super_user"), "refusal"),
}


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("where", sorted(REFUSALS))
def test_a_refusal_reads_in_the_users_language_wherever_it_is_shown(
    signed_in: Callable[[str], FlaskClient], where: str, language: str
) -> None:
    """The portal's one test of a refusal's words; every other test finds a refusal by its
    code (``data-code``), and test_errors.py reads every message in both languages."""
    (user, method, path, data), error, place = REFUSALS[where]
    client = signed_in(f"{user}@example.nl")
    client.post("/taal", data={"language": language})

    response = getattr(client, method)(path, data=data, follow_redirects=True)

    assert refusals(response.text) == [Shown(error.code, error.message(language), place)]


def chosen_language(scene: Scene, email: str) -> str | None:
    with scene.deps.uow() as uow:
        user = uow.users.get_by_email(email)
    assert user is not None
    return user.language


def test_the_language_a_user_switches_to_is_theirs_at_the_next_sign_in(
    noord: FlaskClient, client: FlaskClient, scene: Scene
) -> None:
    noord.post("/taal", data={"language": "en"})

    assert chosen_language(scene, "noord@example.nl") == "en"  # their e-mails follow it
    client.post("/inloggen", data={"email": "noord@example.nl", "password": "demo"})
    assert '<html lang="en">' in client.get("/administraties").text


def test_a_language_chosen_before_the_first_sign_in_becomes_the_users(
    client: FlaskClient, scene: Scene
) -> None:
    client.post("/taal", data={"language": "en", "next": "/inloggen"})
    assert chosen_language(scene, "zuid@example.nl") is None

    client.post("/inloggen", data={"email": "zuid@example.nl", "password": "demo"})

    assert chosen_language(scene, "zuid@example.nl") == "en"
