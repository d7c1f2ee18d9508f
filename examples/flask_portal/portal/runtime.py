"""The running app's migrationkit runtime, as the views reach it."""

from __future__ import annotations

from flask import current_app

from migrationkit.bootstrap import Runtime
from migrationkit.services import Dependencies

RUNTIME_KEY = "migrationkit"


def runtime() -> Runtime:
    """The runtime that ``create_app`` built."""
    found: Runtime = current_app.extensions[RUNTIME_KEY]
    return found


def deps() -> Dependencies:
    """The use cases' dependencies."""
    return runtime().deps
