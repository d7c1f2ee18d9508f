"""Instellingen > Sessies: the signed-in user's own sessions (started, last seen, the
browser), the one in use marked; "Beëindigen" ends one, "Alle andere beëindigen" every
other. Ending the one in use signs this browser out."""

from __future__ import annotations

from functools import cache

import attrs
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from ua_parser import parse
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.sessions import UserSession
from portal.auth import login_required
from portal.errors import flash_refusal
from portal.runtime import deps

bp = Blueprint("sessions", __name__, url_prefix="/instellingen/sessies")

#: The names ua-parser gives that a reader knows by another.
FAMILIES = {"Mac OS X": "macOS", "Mobile Safari": "Safari", "HeadlessChrome": "Chrome"}


@attrs.frozen
class SessionRow:
    """A row of the page: the session, its browser in words, whether it is this one."""

    session: UserSession
    browser: str
    current: bool


@cache
def _families(user_agent: str) -> tuple[str | None, str | None]:
    """The browser's and the system's names that ua-parser finds in a User-Agent."""
    found = parse(user_agent)
    name = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    return FAMILIES.get(name or "", name), FAMILIES.get(system or "", system)


def browser(user_agent: str) -> str:
    """The browser and system of a User-Agent in plain words: "Chrome op Linux"; what
    cannot be told is said so."""
    name, system = _families(user_agent)
    if name and system:
        return _("%(browser)s op %(system)s", browser=name, system=system)
    return name or system or _("Onbekende browser")


@bp.get("")
@login_required
def index() -> str:
    rows = [
        SessionRow(each, browser(each.user_agent), each.id == g.session.id)
        for each in services.list_sessions(deps(), actor_id=g.user.id)
    ]
    return render_template("sessions/index.html", rows=rows)


@bp.post("/<int:session_id>/beeindigen")
@login_required
def end(session_id: int) -> Response:
    """Beëindigen: that session opens nothing any more; the one in use signs out."""
    try:
        services.end_session(deps(), actor_id=g.user.id, session_id=session_id)
    except MigrationError as error:
        flash_refusal(error)
        return redirect(url_for("sessions.index"))
    if session_id == g.session.id:
        g.forget_session = True
        flash(_("Je bent uitgelogd."), "success")
        return redirect(url_for("auth.login"))
    flash(_("De sessie is beëindigd."), "success")
    return redirect(url_for("sessions.index"))


@bp.post("/andere-beeindigen")
@login_required
def end_others() -> Response:
    """Alle andere beëindigen: every session but this one ends."""
    ended = services.end_other_sessions(deps(), actor_id=g.user.id, session_id=g.session.id)
    flash(_("%(count)d andere sessie(s) beëindigd.", count=ended), "success")
    return redirect(url_for("sessions.index"))
