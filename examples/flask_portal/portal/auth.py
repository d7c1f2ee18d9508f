"""Signing in and out, the session's lifetime, and who may open which page.

Passwords are checked against the stored Werkzeug hashes; the user's role comes from the
library (``User.is_super_user``). A session lasts at most ``PERMANENT_SESSION_LIFETIME`` and
ends sooner after ``IDLE_TIMEOUT`` without a request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import MigrationError, NotAllowed
from migrationkit.domain.model import User
from portal.forms import LoginForm
from portal.i18n import same_site
from portal.runtime import deps, is_api_request

bp = Blueprint("auth", __name__)

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _decoy_hash() -> str:
    """A hash to check unknown addresses against, so they take as long as known ones."""
    return generate_password_hash("not a password of anyone")


def _authenticate(email: str, password: str) -> User | None:
    """The user, when the password matches; an unknown address is checked against a decoy
    hash so that it takes as long. The library records each attempt in the audit trail."""

    def matches(stored: str | None) -> bool:
        return check_password_hash(stored or _decoy_hash(), password) and stored is not None

    try:
        return services.sign_in(deps(), email=email, password_matches=matches)
    except MigrationError:
        return None


@bp.before_app_request
def load_signed_in_user() -> Response | None:
    """Puts the signed-in user in ``g.user``; ends a session that sat idle too long. The
    API ignores the session: its token alone says who calls."""
    g.user = None
    if is_api_request():
        return None
    user_id = session.get("user_id")
    if user_id is None or request.endpoint == "static":
        return None
    now = time.time()
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    if now - session.get("seen", 0) > idle:
        language = session.get("language")
        session.clear()
        if language:
            session["language"] = language
        flash(_("Je sessie is verlopen. Log opnieuw in."), "error")
        return redirect(url_for("auth.login"))
    with deps().uow() as uow:
        g.user = uow.users.get(user_id)
    if g.user is None:
        session.clear()
        return redirect(url_for("auth.login"))
    session["seen"] = now
    return None


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Sends a visitor who is not signed in to the login page, and back afterwards."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def super_user_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Only a super user may migrate (R1): anyone else gets the library's refusal (403)."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not g.user.is_super_user:
            refused = NotAllowed("not_super_user")
            services.record_refusal(
                deps(), action=AuditAction.OPEN, error=refused, actor_id=g.user.id
            )
            raise refused
        return view(*args, **kwargs)

    return wrapped


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            language = session.get("language")
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            session["seen"] = time.time()
            if language:
                session["language"] = language
            return redirect(same_site(request.args.get("next", "")) or url_for("index"))
        form.password.errors.append(_("Onbekend e-mailadres of onjuist wachtwoord."))
    return render_template("auth/login.html", form=form)


@bp.post("/uitloggen")
def logout() -> Response:
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(_("Je bent uitgelogd."), "success")
    return redirect(url_for("auth.login"))
