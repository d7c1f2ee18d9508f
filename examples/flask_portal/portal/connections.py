"""Instellingen > Boekhoudsysteemkoppelingen: the environment's connections, and "Koppelen" /
"Koppel opnieuw" through the package's consent page (OAuth2).

The package sends the user back to one address for every connection, the redirect URL
registered with it (``MIGRATIONKIT_<PACKAGE>_REDIRECT_URL``, ending in
``/instellingen/koppelingen/terug``): which connection it is about, the session says. A random
``state`` kept in the session ties the answer to the user's own click; it is compared in
constant time and used once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.errors import MigrationError
from portal.auth import super_user_required
from portal.errors import flash_refusal
from portal.runtime import deps

bp = Blueprint("connections", __name__, url_prefix="/instellingen/koppelingen")

#: The session's record of the consent under way: its state and its connection.
PENDING = "koppelen"


@bp.get("")
@super_user_required
def index() -> str:
    rows = services.list_connections(deps(), actor_id=g.user.id)
    return render_template("connections/index.html", rows=rows)


@bp.post("/<int:connection_id>/koppelen")
@super_user_required
def connect(connection_id: int) -> Response:
    """Koppelen / Koppel opnieuw: off to the package's consent page, with a new state."""
    state = secrets.token_urlsafe(32)
    try:
        consent = services.begin_authorization(
            deps(), actor_id=g.user.id, connection_id=connection_id, state=state
        )
    except MigrationError as error:
        flash_refusal(error)
        return redirect(url_for("connections.index"))
    session[PENDING] = {"state": state, "connection_id": connection_id}
    return redirect(consent)


@bp.get("/terug")
@super_user_required
def back() -> Response:
    """Where the package sends the user back: with the state and a code, or with an
    ``error`` when the user said no there."""
    pending = session.pop(PENDING, None)
    if not _same_state(pending, request.args.get("state", "")):
        flash(
            _(
                "Dit antwoord van het boekhoudpakket hoort niet bij een koppeling die je hier "
                "bent begonnen, of is al gebruikt. Er is niets veranderd; klik opnieuw op "
                "Koppelen."
            ),
            "error",
        )
        return redirect(url_for("connections.index"))
    code = "" if "error" in request.args else request.args.get("code", "")
    try:
        row = services.finish_authorization(
            deps(), actor_id=g.user.id, connection_id=pending["connection_id"], code=code
        )
    except MigrationError as error:
        flash_refusal(error)
    else:
        flash(_("%(name)s is gekoppeld.", name=row.connection.name), "success")
    return redirect(url_for("connections.index"))


def _same_state(pending: Any, given: str) -> bool:
    """Whether ``given`` is the state of the consent under way, compared in constant time."""
    if not isinstance(pending, dict) or not isinstance(pending.get("state"), str):
        return False
    return hmac.compare_digest(pending["state"].encode(), given.encode())
