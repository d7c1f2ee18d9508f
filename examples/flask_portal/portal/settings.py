"""Instellingen: the page that lists the settings, and Instellingen > Administraties >
Acties (bewerken) > tab Gebruikers: Toegang Ja/Nee per user (R14: after a migration nobody
has access until a super user grants it)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from migrationkit import services
from portal.administrations import own_row
from portal.auth import login_required, super_user_required
from portal.forms import AccessForm
from portal.runtime import deps

bp = Blueprint("settings", __name__, url_prefix="/instellingen")


@bp.get("")
@login_required
def home() -> str:
    """Instellingen: the user's settings, as the menu lists them."""
    return render_template("settings/home.html")


@bp.get("/administraties")
@super_user_required
def index() -> str:
    """Instellingen > Administraties: each administration with its Acties (bewerken)."""
    rows = services.list_administrations(deps(), actor_id=g.user.id)
    return render_template("settings/index.html", rows=rows)


@bp.get("/administraties/<int:administration_id>/bewerken/gebruikers")
@super_user_required
def users(administration_id: int) -> str:
    access = services.list_access(deps(), actor_id=g.user.id, administration_id=administration_id)
    forms = {}
    for row in access:
        form = AccessForm(prefix=f"gebruiker-{row.user.id}", formdata=None)
        form.toegang.data = "ja" if row.granted else "nee"
        form.toegang.label.text = _("Toegang voor %(name)s", name=row.user.name)
        forms[row.user.id] = form
    return render_template(
        "settings/users.html",
        administration=own_row(administration_id).administration,
        access=access,
        forms=forms,
    )


@bp.post("/administraties/<int:administration_id>/bewerken/gebruikers/<int:user_id>")
@super_user_required
def set_access(administration_id: int, user_id: int) -> Response:
    own_row(administration_id)
    form = AccessForm(prefix=f"gebruiker-{user_id}")
    if form.validate_on_submit():
        grant = services.set_access(
            deps(),
            actor_id=g.user.id,
            administration_id=administration_id,
            user_id=user_id,
            granted=form.toegang.data == "ja",
        )
        flash(
            _("Toegang opgeslagen: Ja.") if grant.granted else _("Toegang opgeslagen: Nee."),
            "success",
        )
    else:
        flash(_("Kies Ja of Nee."), "error")
    return redirect(url_for("settings.users", administration_id=administration_id))
