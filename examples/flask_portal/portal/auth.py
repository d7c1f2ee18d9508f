"""Signing in and out, the session, and who may open which page.

Passwords are checked against the stored Werkzeug hashes; the user's role comes from the
library (``User.is_super_user``). The sign-in session lives on the server, in the library's
database (``services.open_session``): the cookie ``SESSION_COOKIE`` holds only its random
id, and every request resumes it there, so Uitloggen, Beëindigen, a new password, 8 hours
after the sign-in or 30 minutes without a request end it for every copy of the cookie.
Flask's own signed cookie keeps only what is no one's authority: the language, the flashed
messages, the CSRF token and the OAuth state of a consent under way.
"""

from __future__ import annotations

import functools
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
from portal.errors import show_refusal
from portal.forms import LoginForm, PasswordForm
from portal.i18n import refusal, same_site
from portal.runtime import deps, is_api_request

bp = Blueprint("auth", __name__)

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _decoy_hash() -> str:
    """A hash to check unknown addresses against, so they take as long as known ones."""
    return generate_password_hash("not a password of anyone")


def password_check(password: str) -> Callable[[str | None], bool]:
    """The check the library calls with the stored hash (``None`` for nobody or a locked
    account): against a decoy hash then, so that it takes as long."""

    def matches(stored: str | None) -> bool:
        return check_password_hash(stored or _decoy_hash(), password) and stored is not None

    return matches


def _authenticate(email: str, password: str) -> User | None:
    """The user, when the password matches; an unknown address is checked against a decoy
    hash so that it takes as long. The library records each attempt in the audit trail."""

    def matches(stored: str | None) -> bool:
        return check_password_hash(stored or _decoy_hash(), password) and stored is not None

    try:
        return services.sign_in(deps(), email=email, password_matches=matches)
    except MigrationError:
        return None


#: The cookie that holds the id of the signed-in session, and nothing else.
SESSION_COOKIE = "migrationkit_session"


@bp.before_app_request
def load_signed_in_user() -> Response | None:
    """Puts the signed-in user in ``g.user`` and their session in ``g.session``, from the
    session id in the cookie; a session that has ended sends the browser to sign in again.
    The API ignores the cookie: its token alone says who calls."""
    g.user = g.session = None
    secret = request.cookies.get(SESSION_COOKIE)
    if is_api_request() or request.endpoint == "static" or not secret:
        return None
    try:
        resumed = services.resume_session(deps(), secret=secret)
    except MigrationError:
        g.forget_session = True
        if request.endpoint == "auth.login":
            return None
        flash(_("Je sessie is verlopen. Log opnieuw in."), "error")
        return redirect(url_for("auth.login"))
    g.user, g.session = resumed.user, resumed.session
    return None


@bp.after_app_request
def keep_session_cookie(response: Response) -> Response:
    """Sets the cookie of a session opened by this request, or removes one that ended.
    Its flags are those of Flask's own cookie (HttpOnly, SameSite=Lax, Secure outside demo
    mode); it expires with the session's lifetime."""
    config = current_app.config
    flags = {
        "path": config["SESSION_COOKIE_PATH"] or "/",
        "domain": config["SESSION_COOKIE_DOMAIN"] or None,
        "secure": config["SESSION_COOKIE_SECURE"],
        "httponly": True,
        "samesite": config["SESSION_COOKIE_SAMESITE"],
    }
    opened: str | None = g.get("opened_session")
    if opened is not None:
        lifetime = deps().policy.sessions.lifetime
        response.set_cookie(SESSION_COOKIE, opened, max_age=lifetime, **flags)
        response.vary.add("Cookie")
    elif g.get("forget_session"):
        response.delete_cookie(SESSION_COOKIE, **flags)
    return response


def _fresh_ui_session() -> None:
    """Starts Flask's cookie afresh (new CSRF token, no old messages), keeping only the
    language."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def _carry_language(user: User) -> None:
    """The portal speaks the language the user chose before; a language chosen on the login
    page by someone who never chose one becomes theirs (their e-mails follow it)."""
    if user.language is not None:
        session["language"] = user.language
    elif session.get("language") is not None:
        services.choose_language(deps(), user.id, session["language"])


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
            if g.user is not None and g.session is not None:
                # This browser's earlier session ends: it gets a new id, never the old one.
                services.sign_out(deps(), actor_id=g.user.id, session_id=g.session.id)
            issued = services.open_session(
                deps(), actor_id=user.id, user_agent=request.headers.get("User-Agent")
            )
            g.opened_session = issued.secret
            _fresh_ui_session()
            _carry_language(user)
            return redirect(same_site(request.args.get("next", "")) or url_for("index"))
        # The library's one refusal for an unknown address, a wrong password and a locked
        # account alike: the page tells no more than it.
        form.password.errors.append(refusal(NotAllowed("sign_in_failed")))
    return render_template("auth/login.html", form=form)


@bp.post("/uitloggen")
def logout() -> Response:
    """Ends the session on the server: no copy of its cookie opens anything after this."""
    if g.user is not None and g.session is not None:
        services.sign_out(deps(), actor_id=g.user.id, session_id=g.session.id)
    g.forget_session = True
    _fresh_ui_session()
    flash(_("Je bent uitgelogd."), "success")
    return redirect(url_for("auth.login"))


#: Which field a refusal of a new password belongs to.
PASSWORD_FIELDS = {
    "password_wrong": "huidig",
    "password_too_short": "nieuw",
    "password_too_long": "nieuw",
    "invisible_characters": "nieuw",
}


@bp.route("/instellingen/wachtwoord", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    """Instellingen > Wachtwoord: a new password ends every session of the user, this one
    too: each browser signs in again with the new password."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                deps(),
                actor_id=g.user.id,
                password_matches=password_check(form.huidig.data or ""),
                new_password=form.nieuw.data or "",
                hash_password=generate_password_hash,
            )
        except MigrationError as error:
            show_refusal(form, PASSWORD_FIELDS, error)
        else:
            g.forget_session = True
            _fresh_ui_session()
            flash(
                _("Je wachtwoord is gewijzigd. Log opnieuw in met je nieuwe wachtwoord."), "success"
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)
