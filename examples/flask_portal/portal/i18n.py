"""Dutch by default, English on request: the language switch and the compiled catalogues.

Every text is a Dutch msgid; ``translations/en/LC_MESSAGES/messages.po`` holds the English.
The ``.mo`` files are compiled once per process, at start-up, into a private temporary
folder, so nothing binary is committed and the portal runs from a read-only tree.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, g, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.dates import show_date, show_moment
from migrationkit.domain.errors import MigrationError
from portal.runtime import deps

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
#: The .po files, beside this module; their compiled .mo files go to a temporary folder.
SOURCE = Path(__file__).parent / "translations"

#: The longest page address the switch goes back to.
MAX_NEXT = 2048

bp = Blueprint("i18n", __name__)


def language() -> str:
    """The language of this request: the one chosen in the session, else Dutch."""
    chosen = session.get("language")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language Flask-Babel renders in ("nl" or "en")."""
    return str(get_locale() or DEFAULT_LANGUAGE)


class Refusal(str):
    """A library refusal's words in the user's language, with its code: a page shows the
    code beside the words (``data-code``), for programs and tests to match on."""

    code: str

    def __new__(cls, error: MigrationError) -> Refusal:
        words = super().__new__(cls, error.message(current_language()))
        words.code = error.code
        return words


def refusal(error: MigrationError) -> Refusal:
    """A library refusal in the user's language, carrying its code."""
    return Refusal(error)


@functools.cache
def compiled_catalogues() -> Path:
    """A folder with each ``.po`` under ``SOURCE`` compiled to its ``.mo``: made once per
    process, readable by its user alone (``mkdtemp``), and removed when the process that
    made it exits (not when a worker forked from it does)."""
    target = Path(tempfile.mkdtemp(prefix="migrationkit-portal-translations-"))
    maker = os.getpid()
    atexit.register(lambda: os.getpid() == maker and shutil.rmtree(target, ignore_errors=True))
    for po_path in SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
    return target


def init_app(app: Flask) -> None:
    compiled = compiled_catalogues()
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Amsterdam"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=language)
    app.jinja_env.globals.update(
        current_language=current_language,
        attributes=field_attributes,
        label=label,
    )
    app.jinja_env.filters.update(date=show_date, moment=show_moment)


@bp.post("/taal")
def switch() -> Response:
    """Keeps the chosen language in the session and goes back to the page it came from. A
    page that is not one of this site's is bad input: nothing changes."""
    chosen, back = request.form.get("language", ""), request.form.get("next", "")
    target = same_site(back)
    if back and target is None:
        return redirect(url_for("index"))
    if chosen in LANGUAGES:
        session["language"] = chosen
        if g.user is not None:  # kept with the user too: their e-mails follow it
            services.choose_language(deps(), g.user.id, chosen)
    return redirect(target or url_for("index"))


def same_site(target: str) -> str | None:
    """``target`` when it is a path on this site, so the switch cannot send anyone away: no
    other site, no control character, no longer than any of the portal's addresses."""
    if len(target) > MAX_NEXT or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def field_attributes(field: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes that tie a field's hint and error to it, for screen readers."""
    described = [f"{field.id}-hint"] if field.description else []
    if field.errors:
        described.append(f"{field.id}-error")
    attributes = dict(given)
    if described:
        attributes["aria-describedby"] = " ".join(described)
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes


class Labelled(Protocol):
    """A value the library names in Dutch and English: a status, an action, a verdict."""

    @property
    def label_nl(self) -> str: ...

    @property
    def label_en(self) -> str: ...


def label(value: Labelled) -> str:
    """A status, an action, an outcome or a verdict in the user's language: Aangeboden /
    Offered, Voltooid / Completed, ..."""
    return value.label_en if current_language() == "en" else value.label_nl
