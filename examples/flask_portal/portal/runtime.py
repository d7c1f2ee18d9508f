"""The running app's migrationkit runtime, as the views reach it."""

from __future__ import annotations

import attrs
from flask import current_app, g, request

from migrationkit.bootstrap import Runtime
from migrationkit.domain.audit import Origin
from migrationkit.services import Dependencies, PackageListings

RUNTIME_KEY = "migrationkit"


def runtime() -> Runtime:
    """The runtime that ``create_app`` built."""
    found: Runtime = current_app.extensions[RUNTIME_KEY]
    return found


def is_api_request() -> bool:
    """Whether this request is for the JSON API, which ignores the session cookie."""
    return request.path == "/api" or request.path.startswith("/api/")


def deps() -> Dependencies:
    """The use cases' dependencies, with this request's origin for the audit trail: the
    channel ("api" under /api/, else "portal") and the client's address; and listings of
    its own, so the request asks each connection's package once."""
    found: Dependencies | None = g.get("deps")
    if found is None:
        channel = "api" if is_api_request() else "portal"
        found = attrs.evolve(
            runtime().deps,
            origin=Origin(channel, request.remote_addr),
            listings=PackageListings(),
        )
        g.deps = found
    return found
