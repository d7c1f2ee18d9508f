"""The demo's Mailbox: the e-mails in the outbox addressed to the signed-in user. The demo
sends no mail, so this is where a recipient reads the transfer code (while a message is
unsent, its body still holds the code; R5 forgets it once sent)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, make_response, render_template
from werkzeug.wrappers import Response

from portal.auth import login_required
from portal.runtime import deps

bp = Blueprint("mailbox", __name__)

#: How many of the newest messages the page looks through.
RECENT = 200


@bp.get("/mailbox")
@login_required
def index() -> Response:
    if not current_app.config["DEMO"]:
        abort(404)
    own = g.user.email.casefold()
    with deps().uow() as uow:
        messages = [
            message
            for message in uow.outbox.list_recent(RECENT)
            if own in (address.casefold() for address in (*message.email.to, *message.email.cc))
        ]
    response = make_response(render_template("mailbox/index.html", messages=messages))
    response.headers["Cache-Control"] = "no-store"
    return response
