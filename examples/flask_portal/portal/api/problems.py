"""Every answer of the API that is not a success: ``application/problem+json`` (RFC 9457)
with the refusal's stable code and the library's message in the request's language.

The status says what kind of refusal it is; another environment's object answers exactly
like a missing one (404), so an answer tells nothing about other environments.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import attrs
from flask import current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from migrationkit.domain.errors import (
    PACKAGE_BUSY,
    ArchiveError,
    Conflict,
    InvalidInput,
    Locked,
    MigrationError,
    NotAllowed,
    NotFound,
    PackageError,
    RuleViolation,
    Unavailable,
)
from portal.errors import FORBIDDEN
from portal.runtime import runtime

PROBLEM_JSON = "application/problem+json"
#: What a token is refused with; its answer asks for a token (``WWW-Authenticate``).
TOKEN_INVALID = "api_token_invalid"  # noqa: S105 (an error code, not a secret)
LANGUAGES = ("nl", "en")
#: When a client may try again after the database was busy or away (``Retry-After``).
RETRY_UNAVAILABLE_SECONDS = 5

#: A short title per status, the same for every problem with that status.
TITLES = {
    400: _l("Ongeldig verzoek"),
    401: _l("Niet aangemeld"),
    403: _l("Niet toegestaan"),
    404: _l("Niet gevonden"),
    405: _l("Methode niet toegestaan"),
    409: _l("Geweigerd"),
    413: _l("Verzoek te groot"),
    415: _l("Geen JSON"),
    422: _l("Ongeldige invoer"),
    429: _l("Te veel pogingen"),
    500: _l("Serverfout"),
    502: _l("Boekhoudpakket geeft een fout"),
    503: _l("Tijdelijk niet beschikbaar"),
}


@attrs.frozen
class Reason:
    """What is wrong with a field of a request, as a param of ``request_invalid``: a Dutch
    msgid, shown in the message's language (``MigrationError`` reads ``label_nl`` and
    ``label_en``)."""

    text: LazyString

    @property
    def label_nl(self) -> str:
        with force_locale("nl"):
            return str(self.text)

    @property
    def label_en(self) -> str:
        with force_locale("en"):
            return str(self.text)


#: The field name of a request as a whole.
WHOLE = "body"
UNREADABLE = Reason(_l("is niet te lezen"))


class ApiRefusal(MigrationError):
    """A refusal of the API itself (not of a use case), with its HTTP status."""

    def __init__(self, status: int, code: str, /, **params: object) -> None:
        super().__init__(code, **params)
        self.status = status


def language() -> str:
    """The request's language: English when Accept-Language prefers it, else Dutch. The
    session's choice does not count: the API ignores the cookie."""
    return request.accept_languages.best_match(LANGUAGES, default="nl") or "nl"


def status_of(error: MigrationError) -> int:
    """The HTTP status of a refusal."""
    if isinstance(error, ApiRefusal):
        return error.status
    if isinstance(error, NotAllowed):
        if error.code == TOKEN_INVALID:
            return 401
        return 403 if error.code in FORBIDDEN else 404
    if isinstance(error, PackageError) and error.code in PACKAGE_BUSY:
        return 503
    statuses: tuple[tuple[type[MigrationError], int], ...] = (
        (NotFound, 404),
        (InvalidInput, 422),
        (RuleViolation, 409),
        (Conflict, 409),
        (Locked, 429),
        (PackageError, 502),
        (ArchiveError, 503),
        (Unavailable, 503),
    )
    return next((status for kind, status in statuses if isinstance(error, kind)), 409)


def problem(error: MigrationError) -> Response:
    """The problem+json answer to a refusal."""
    status = status_of(error)
    chosen = language()
    with force_locale(chosen):
        title = str(TITLES.get(status, TITLES[400 if status < 500 else 500]))
    body: dict[str, Any] = {
        "type": f"urn:migrationkit:problem:{error.code}",
        "title": title,
        "status": status,
        "detail": error.message(chosen),
        "code": error.code,
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    response.headers["Content-Language"] = chosen
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="migrationkit"'
    if isinstance(error, Locked):
        response.headers["Retry-After"] = str(_seconds_until(error))
    if isinstance(error, Unavailable):
        response.headers["Retry-After"] = str(RETRY_UNAVAILABLE_SECONDS)
    if isinstance(error, PackageError) and error.code in PACKAGE_BUSY:
        response.headers["Retry-After"] = str(_seconds_until(error))
    if status == 405 and isinstance(error, ApiRefusal):
        response.headers["Allow"] = str(error.params.get("allowed", ""))
    return response


def _seconds_until(error: MigrationError) -> int:
    """How long a lockout or a package's limit still lasts, in whole seconds (at least
    one; a minute when the refusal does not say)."""
    until = error.params.get("until_iso")
    if not isinstance(until, str):
        return 60
    left = (datetime.fromisoformat(until) - runtime().deps.clock.now()).total_seconds()
    return max(1, math.ceil(left))


def http_problem(error: HTTPException) -> Response:
    """The problem+json answer to an HTTP error of Flask or Werkzeug: an unknown path, a
    method the path does not take, a body too large."""
    status = error.code or 500
    refusal: MigrationError
    if status == 404:
        refusal = ApiRefusal(404, "path_unknown")
    elif status == 405:
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        refusal = ApiRefusal(405, "method_not_allowed", method=request.method, allowed=allowed)
    elif status == 413:
        # The limit that held for this request: the portal's for any call (FORM_MAX_BYTES).
        refusal = ApiRefusal(413, "request_too_large", limit=request.max_content_length or 0)
    elif status == 415:
        refusal = ApiRefusal(415, "request_not_json")
    elif status < 500:
        # Any other refusal of Werkzeug's (a header it cannot read, ...): an unreadable request.
        refusal = ApiRefusal(400, "request_invalid", field=WHOLE, reason=UNREADABLE)
    else:
        refusal = ApiRefusal(500, "server_error")
    return problem(refusal)
