"""Instellingen > API-tokens: every signed-in user creates, lists and revokes their own
personal API tokens. A new token is shown once, on a page no cache keeps; afterwards the
list shows only its first characters."""

from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.errors import MigrationError
from portal.auth import login_required
from portal.errors import flash_refusal, show_refusal
from portal.forms import ApiTokenForm
from portal.runtime import deps

bp = Blueprint("tokens", __name__, url_prefix="/instellingen/api-tokens")

#: Which field a refusal belongs to, so it is shown (and read out) there.
TOKEN_FIELDS = {
    "api_token_name_missing": "naam",
    "api_token_name_too_long": "naam",
    "too_many_api_tokens": "naam",
    "invisible_characters": "naam",
}


def _index(form: ApiTokenForm) -> str:
    tokens = services.list_api_tokens(deps(), actor_id=g.user.id)
    return render_template("tokens/index.html", form=form, tokens=tokens)


@bp.get("")
@login_required
def index() -> str:
    return _index(ApiTokenForm(formdata=None))


@bp.post("")
@login_required
def create() -> str | Response:
    """A new token, shown in full on this response only: never kept in a cache, so neither
    a reload of the list nor the back button shows it again."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            issued = services.create_api_token(deps(), actor_id=g.user.id, name=form.naam.data)
        except MigrationError as error:
            show_refusal(form, TOKEN_FIELDS, error)
        else:
            response = make_response(render_template("tokens/created.html", issued=issued))
            response.headers["Cache-Control"] = "no-store"
            return response
    return _index(form)


@bp.post("/<int:token_id>/intrekken")
@login_required
def revoke(token_id: int) -> Response:
    """Intrekken: from now on the token opens nothing. Another user's token is answered
    like a missing one (404)."""
    try:
        token = services.revoke_api_token(deps(), actor_id=g.user.id, token_id=token_id)
    except MigrationError as error:
        flash_refusal(error)
    else:
        flash(_("Het API-token %(name)s is ingetrokken.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
