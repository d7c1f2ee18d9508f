"""The reference portal: a thin Flask app over migrationkit's use cases.

``create_app()`` reads the settings from ``MIGRATIONKIT_*`` environment variables, builds
the runtime (database, archive stores, job queue, mailer) through ``migrationkit.bootstrap``
and registers one blueprint per area of the guide. Nothing is built at import.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, redirect, url_for
from flask_wtf import CSRFProtect
from werkzeug.wrappers import Response

from migrationkit.adapters.logs import configure_logging
from migrationkit.bootstrap import build_runtime
from migrationkit.config import Settings
from portal import (
    administrations,
    api,
    archive,
    audit,
    auth,
    connections,
    demo_mode,
    errors,
    i18n,
    layout,
    mailbox,
    migrations,
    operations,
    reports,
    security,
    sessions,
    settings,
    tokens,
)
from portal.runtime import RUNTIME_KEY

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The portal. ``test_config`` overrides Flask settings; its ``MIGRATIONKIT_ENVIRON``
    replaces ``os.environ`` as the source of the ``MIGRATIONKIT_*`` variables, and its
    ``CLOCK`` the system clock of the use cases (a test lets time pass with it)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=security.UPLOAD_MAX_BYTES,
        INBOX_DOMAIN="inbox.example.nl",
        MIGRATIONKIT_ENVIRON=None,
        # Embedded mode runs the moves in a worker thread of this process; tests run the
        # queue themselves instead.
        START_WORKER=True,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    environ: Mapping[str, str] = app.config["MIGRATIONKIT_ENVIRON"] or os.environ

    config = Settings.from_environ(environ)
    configure_logging(config.log_format, config.log_level)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _session_key(config.code_secret())
    app.config["DEMO"] = config.demo
    # The session cookie never goes over plain HTTP, except in demo mode (http://127.0.0.1).
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        app.config["SESSION_COOKIE_SECURE"] = not app.config["DEMO"]
    runtime = build_runtime(config, clock=app.config.get("CLOCK"))
    app.extensions[RUNTIME_KEY] = runtime
    if app.config["DEMO"]:
        demo_mode.prepare(runtime)
    if app.config["START_WORKER"]:
        runtime.start_worker()

    operations.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    layout.init_app(app)
    errors.init_app(app)
    for blueprint in (
        auth.bp,
        administrations.bp,
        settings.bp,
        connections.bp,
        migrations.bp,
        reports.bp,
        archive.bp,
        mailbox.bp,
        tokens.bp,
        sessions.bp,
        audit.bp,
        i18n.bp,
        api.bp,
    ):
        app.register_blueprint(blueprint)
    # The API takes no cookie, only a token, so no other site can forge its calls.
    csrf.exempt(api.bp)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("administrations.index"))

    return app


def _session_key(code_secret: bytes) -> bytes:
    """The key that signs session cookies, derived from the server's one secret so the
    transfer codes' key itself never signs anything else."""
    return hmac.new(code_secret, b"migrationkit portal session", hashlib.sha256).digest()
