"""What the security tests share besides the portal's fixtures."""

from __future__ import annotations

import re

from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule


def get_paths(app: Flask) -> list[str]:
    """A path for every GET route of the app, its arguments filled with 1 (an id of the
    demo, or a name of nothing)."""
    paths = []
    rule: Rule
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()):
                continue
            values = dict.fromkeys(rule.arguments, 1)
            if rule.endpoint == "static":
                values = {"filename": "portal.css"}
            paths.append(url_for(rule.endpoint, **values))
    return paths


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token, as any page's forms carry it (read once: it holds for the
    session)."""
    token: str | None = getattr(client, "csrf_token", None)
    if token is None:
        page = client.get("/inloggen").text
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, page
        token = found.group(1)
        client.csrf_token = token  # type: ignore[attr-defined]
    return token
