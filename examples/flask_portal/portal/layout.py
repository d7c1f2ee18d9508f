"""The one layout of every page: Bootstrap 5's stylesheet from Bootstrap-Flask's own files
(served by the portal itself, no CDN), htmx from ``static/vendor/``, the header's office
name, the Instellingen menu, and the filters the tables share (file size, document type).

Bootstrap supplies the look (grid, buttons, badges, tables, forms) and keeps it accessible
and maintained; the portal adds only ``static/portal.css`` on top and needs none of
Bootstrap's scripts: the phone menu and the Instellingen menu are HTML (a checkbox and a
``<details>``) that work with scripts off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import attrs
from babel.numbers import format_decimal
from flask import Flask, g, request
from flask_babel import gettext as _
from flask_bootstrap import Bootstrap5

from portal.i18n import current_language
from portal.runtime import deps

#: The vendored htmx (``static/vendor/``; its version is in the name, see the README there).
HTMX = "vendor/htmx-2.0.11.min.js"
#: htmx's settings for the strict Content-Security-Policy: no ``<style>`` of its own, no
#: ``eval``, no scripts from swapped HTML, only requests to the portal, and no copies of
#: pages in the browser's storage (a page may hold a transfer code).
HTMX_CONFIG = (
    '{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,'
    '"selfRequestsOnly":true,"historyCacheSize":0,"refreshOnHistoryMiss":true}'
)
#: Document types as an accountant names them, by MIME type.
DOCUMENT_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "application/xml": "XML",
    "text/xml": "XML",
}
UNITS = ("bytes", "kB", "MB", "GB", "TB")


@attrs.frozen
class MenuEntry:
    """One entry of the Instellingen menu."""

    endpoint: str
    text: str
    #: The prefix of the paths that belong to it, to mark the current entry.
    path: str


def settings_menu() -> list[MenuEntry]:
    """The Instellingen menu of the signed-in user, as the guide names it."""
    entries = []
    if g.user.is_super_user:
        entries += [
            MenuEntry("settings.index", _("Administraties"), "/instellingen/administraties"),
            MenuEntry(
                "connections.index", _("Boekhoudsysteemkoppelingen"), "/instellingen/koppelingen"
            ),
        ]
    entries += [
        MenuEntry("tokens.index", _("API-tokens"), "/instellingen/api-tokens"),
        MenuEntry("sessions.index", _("Sessies"), "/instellingen/sessies"),
        MenuEntry("auth.password", _("Wachtwoord"), "/instellingen/wachtwoord"),
    ]
    if g.user.is_super_user:
        entries.append(MenuEntry("audit.index", _("Logboek"), "/instellingen/logboek"))
    return entries


def office_name() -> str:
    """The name of the signed-in user's environment (their office), for the header."""
    with deps().uow() as uow:
        environment = uow.environments.get(g.user.environment_id)
    return environment.name if environment is not None else ""


def is_current(path: str) -> bool:
    """Whether the page shown lies under ``path``, to mark its menu entry."""
    return request.path == path or request.path.startswith(path.rstrip("/") + "/")


def file_size(size: int) -> str:
    """A size as people read it, in the page's language: "1,2 MB", "850 kB", "12 bytes"."""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(UNITS) - 1:
        value, unit = value / 1000, unit + 1
    shown = format_decimal(
        value, format="#,##0" if unit == 0 else "#,##0.#", locale=current_language()
    )
    return f"{shown} {UNITS[unit]}"


def document_type(content_type: str) -> str:
    """A document's type as an accountant names it: PDF, JPEG, ..."""
    mime = content_type.split(";")[0].strip().lower()
    return DOCUMENT_TYPES.get(mime) or mime.rpartition("/")[2].upper() or _("Onbekend")


def page_url(parameter: str, cursor: str) -> str:
    """This page's address with one list's cursor set (Volgende, Vorige); its searches and
    the other lists' places stay. Built from the path, not by ``url_for``, which would take
    a parameter such as ``_scheme`` in the address as an instruction."""
    arguments = request.args.to_dict() | {parameter: cursor}
    return f"{request.script_root}{request.path}?{urlencode(arguments)}"


def init_app(app: Flask) -> None:
    app.config["BOOTSTRAP_SERVE_LOCAL"] = True
    Bootstrap5(app)
    app.jinja_env.globals.update(
        settings_menu=settings_menu,
        office_name=office_name,
        is_current=is_current,
        page_url=page_url,
        htmx_script=HTMX,
        htmx_config=HTMX_CONFIG,
    )
    app.jinja_env.filters.update(size=file_size, document_type=document_type)

    @app.context_processor
    def htmx_request() -> dict[str, Any]:
        """Whether htmx asked for this page (to update a part of it)."""
        return {"htmx_request": request.headers.get("HX-Request") == "true"}
