"""The reference portal under Flask's test client.

The demo data is seeded once per session into a template home (SQLite file, archive
folders, secret key); each test gets a copy of it, so every test starts from the same
fresh demo, and the app is made by the portal's own ``create_app`` in demo mode. The
fixtures live in portal_fixtures.py, which tests/security's conftest imports too; fixtures
only the portal tests use may stay here.
"""

from __future__ import annotations

from api_support import api_as, unchanged_dump  # noqa: F401 - fixtures of the API tests
from portal_fixtures import (  # noqa: F401 - fixtures, found by pytest by their names
    app,
    client,
    database_dump,
    deps,
    home,
    medewerker,
    noord,
    run_jobs,
    runner,
    scene,
    seeded_home,
    signed_in,
    zuid,
)
