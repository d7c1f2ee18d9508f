"""Schemathesis against the API's own OpenAPI document, on the WSGI app (issue 4d): every
operation, with examples, boundary values and generated input (valid and invalid), as a
super user of the seeded demo data. Each answer must not be a server error, must have a
documented status and content type, and must match its schema.

Bounded and deterministic: a few examples per operation, derandomized, no example database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from api_support import token_for
from flask import Flask
from hypothesis import HealthCheck, settings
from portal_fixtures import close_app
from portal_support import Scene, environ, make_app
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from migrationkit import services

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


#: Calls a minute this test's app takes: every generated call must reach its operation, and
#: the rate limit has tests of its own (tests/security/test_rate_limit.py).
CALLS_PER_MINUTE = "100000"


@pytest.fixture
def app(home: Path) -> Iterator[Flask]:
    """The portal of the other API tests, with room for the generated calls of a minute."""
    limits = {
        "MIGRATIONKIT_API_CALLS_PER_MINUTE": CALLS_PER_MINUTE,
        "MIGRATIONKIT_API_CALLS_PER_MINUTE_PER_ADDRESS": CALLS_PER_MINUTE,
    }
    app = make_app(home, MIGRATIONKIT_ENVIRON=environ(home) | limits)
    yield app
    close_app(app)


@pytest.fixture
def token(scene: Scene, run_jobs: Callable[[], None]) -> str:
    """Kantoor Noord's super user, with the demo's administrations, archives and connections,
    a completed move to Zuid (1002, now 7002 there), a failed one (2001), and 7002 offered
    back by Zuid and taken in by Noord: every kind of object for the generated calls."""
    scene.start(scene.offer("1002"))
    run_jobs()
    (failed,) = scene.start(scene.offer("2001"))
    services.claim_migration(scene.deps, failed.id)
    services.fail_migration(scene.deps, failed.id, "De test laat deze migratie mislukken.")
    moved = scene.administration("7002")
    back = services.offer_administrations(
        scene.deps,
        actor_id=scene.user("zuid@example.nl"),
        connection_id=moved.connection_id,
        administration_ids=[moved.id],
        recipients=["noord@example.nl"],
        accepted_terms=True,
    )
    scene.redeem(back, "noord")
    return token_for(scene, "noord@example.nl")


@pytest.fixture
def api_schema(app: Flask) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32 renames the running test through ``node._nodeid``, which pytest 9.2
    no longer has: give it one (it only changes the reported name)."""
    request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_the_promises_of_its_openapi_document(
    case: schemathesis.Case, token: str
) -> None:
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    # The operation answered, not the rate limit.
    assert response.status_code != 429 or response.json()["code"] != "api_rate_limited"
