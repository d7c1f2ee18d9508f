"""What the security tests share besides the portal's fixtures."""

from __future__ import annotations

from flask import Flask, url_for
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
