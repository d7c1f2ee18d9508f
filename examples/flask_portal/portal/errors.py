"""Refusals that end a request: another environment's object, a page for super users only,
a form without a valid CSRF token. Each is a page in the user's language."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, flash, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from wtforms import Field, Form

from migrationkit.domain.errors import (
    PACKAGE_BUSY,
    MigrationError,
    NotAllowed,
    NotFound,
    PackageError,
    Unavailable,
)
from portal.forms import field_error
from portal.i18n import refusal

#: Refusals of the user's own role (403); every other ``NotAllowed`` and ``NotFound`` is
#: about an object of another environment, which the portal answers like a missing one (404).
FORBIDDEN = frozenset({"not_super_user", "no_access", "access_not_granted_after_move"})
#: Any other refusal: shown on the page where it happened.
CONFLICT = 409
#: The database or the accounting package busy or away for a moment ("try again"): also
#: shown on the page.
UNAVAILABLE = 503


def status_of(error: MigrationError) -> int:
    """The HTTP status of a refusal that ends the request."""
    if isinstance(error, NotAllowed) and error.code in FORBIDDEN:
        return 403
    if isinstance(error, NotAllowed | NotFound):
        return 404
    if isinstance(error, Unavailable):
        return UNAVAILABLE
    if isinstance(error, PackageError) and error.code in PACKAGE_BUSY:
        return UNAVAILABLE
    return CONFLICT


def on_page(error: MigrationError) -> str:
    """The message of a refusal to show on the page where it happened. A refusal about
    another environment's object or the user's role is raised again: it ends the request
    (404 or 403) and shows nothing of the page."""
    if status_of(error) not in (CONFLICT, UNAVAILABLE):
        raise error
    return refusal(error)


def flash_refusal(error: MigrationError) -> None:
    """Flashes a refusal for the next page, its code in the category (``error:<code>``)
    since a flashed message keeps no more than its words and its category."""
    flash(on_page(error), f"error:{error.code}")


def show_refusal(form: Form, fields: Mapping[str, str], error: MigrationError) -> None:
    """Puts a refusal on the form: at the field its code is about (``fields``: code ->
    field name), else at the top of the form."""
    field: Field | None = getattr(form, fields.get(error.code, ""), None)
    field_error(form, field, on_page(error))


def init_app(app: Flask) -> None:
    @app.errorhandler(MigrationError)
    def refused(error: MigrationError) -> tuple[str, int]:
        status = status_of(error)
        if status == 404:  # like a missing page: neither its words nor its code tell more
            page = render_template(
                "error.html", status=status, message=_("Deze pagina bestaat niet.")
            )
        else:  # the code, for programs and tests, beside the words in the user's language
            page = render_template(
                "error.html", status=status, message=refusal(error), code=error.code
            )
        return page, status

    @app.errorhandler(CSRFError)
    def csrf_refused(_error: CSRFError) -> tuple[str, int]:
        message = _("Het formulier is verlopen of ongeldig. Ga terug en probeer het opnieuw.")
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        messages = {
            403: _("Je mag deze pagina niet openen."),
            404: _("Deze pagina bestaat niet."),
            405: _("Deze actie kan niet zo worden uitgevoerd."),
            413: _("Het bestand is te groot.")
            if request.mimetype == "multipart/form-data"
            else _("Wat je verstuurde is te groot."),
        }
        message = messages.get(status, _("Er ging iets mis. Probeer het opnieuw."))
        return render_template("error.html", status=status, message=message), status
