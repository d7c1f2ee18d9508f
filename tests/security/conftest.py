"""The security suite runs on the portal tests' own fixtures and helpers (a fresh demo home
per test, the app, signed-in clients, the database dump): tests/portal goes on the import
path, as tests/reliability puts tests/integration there, and its fixtures are imported."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parents[1] / "portal"))

from portal_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    app,
    client,
    database_dump,
    deps,
    home,
    medewerker,
    noord,
    run_jobs,
    scene,
    seeded_home,
    signed_in,
    zuid,
)
