"""The API's rate limit, with real HTTP requests at the portal served in a thread: per token
and per client address, 429 api_rate_limited with Retry-After beyond it; counted in the
database, so two portals (two workers, nothing shared but the database) count together and
60 calls at once let exactly the limit through, on SQLite and PostgreSQL. The test clock
stands still, so every call falls in one window; moving it opens the next."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from portal_support import RUNTIME_KEY, Scene, environ, make_app
from security_support import all_at_once, served

from migrationkit import bootstrap, services
from migrationkit.bootstrap import Runtime
from migrationkit.config import Settings
from migrationkit.testing import FakeClock

PER_TOKEN = 20
PER_ADDRESS = 50
#: The start of a minute and some seconds: a Retry-After to check.
START = datetime(2026, 12, 4, 10, 15, 0, tzinfo=UTC) + timedelta(seconds=42)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    return {"MIGRATIONKIT_DATABASE_URL": request.getfixturevalue("throwaway_postgres")}


def portal(home: Path, clock: FakeClock, database: dict[str, str]) -> Flask:
    limits = {
        "MIGRATIONKIT_API_CALLS_PER_MINUTE": str(PER_TOKEN),
        "MIGRATIONKIT_API_CALLS_PER_MINUTE_PER_ADDRESS": str(PER_ADDRESS),
    }
    return make_app(
        home, SERVER_NAME=None, CLOCK=clock, MIGRATIONKIT_ENVIRON=environ(home) | database | limits
    )


@pytest.fixture
def apps(home: Path, clock: FakeClock, database: dict[str, str]) -> Iterator[list[Flask]]:
    """Two portals on the same database, as two worker processes would be."""
    made = [portal(home, clock, database) for _ in range(2)]
    yield made
    for app in made:
        runtime: Runtime = app.extensions[RUNTIME_KEY]
        runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]


@pytest.fixture
def urls(apps: list[Flask]) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(served(app)) for app in apps]


@pytest.fixture
def portal_scene(apps: list[Flask]) -> Scene:
    runtime: Runtime = apps[0].extensions[RUNTIME_KEY]
    return Scene(runtime.deps)


def token(scene: Scene, email: str = "noord@example.nl") -> dict[str, str]:
    issued = services.create_api_token(scene.deps, actor_id=scene.user(email), name="Script")
    return {"Authorization": f"Bearer {issued.secret}"}


def me(url: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(f"{url}/api/v1/me", headers=headers, timeout=30)


def limited(response: requests.Response) -> bool:
    return response.status_code == 429 and response.json()["code"] == "api_rate_limited"


def test_a_token_gets_its_limit_a_minute_then_429_with_retry_after(
    urls: list[str], portal_scene: Scene, clock: FakeClock
) -> None:
    noord = token(portal_scene)
    url = urls[0]

    statuses = [me(url, noord).status_code for _ in range(PER_TOKEN)]
    refused = me(url, noord)

    assert statuses == [200] * PER_TOKEN
    assert limited(refused)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "18"  # the window ends at 10:16:00
    assert "18 seconden" in refused.json()["detail"]
    assert me(url, token(portal_scene, "zuid@example.nl")).status_code == 200  # another token
    clock.advance(timedelta(seconds=18))
    assert me(url, noord).status_code == 200  # the next window


def test_an_address_gets_its_limit_whatever_the_tokens_even_without_one(
    urls: list[str], portal_scene: Scene
) -> None:
    url = urls[0]
    tokens = [token(portal_scene) for _ in range(3)]
    guesses = {"Authorization": "Bearer mkt_geraden"}

    answers = [me(url, tokens[i % 3]) for i in range(PER_ADDRESS - 10)]
    answers += [me(url, guesses) for _ in range(10)]

    assert [a.status_code for a in answers] == [200] * (PER_ADDRESS - 10) + [401] * 10
    assert limited(me(url, token(portal_scene)))
    assert limited(requests.get(f"{url}/api/v1/openapi.json", timeout=30))


def test_two_workers_count_together(urls: list[str], portal_scene: Scene) -> None:
    noord = token(portal_scene)

    answers = [me(urls[i % 2], noord) for i in range(PER_TOKEN + 2)]

    assert [a.status_code for a in answers[:PER_TOKEN]] == [200] * PER_TOKEN
    assert all(limited(a) for a in answers[PER_TOKEN:])


def test_sixty_calls_at_once_let_exactly_the_limit_through(
    urls: list[str], portal_scene: Scene
) -> None:
    noord = token(portal_scene)

    answers = all_at_once([lambda i=i: me(urls[i % 2], noord) for i in range(60)])

    assert sum(a.status_code == 200 for a in answers) == PER_TOKEN
    assert sum(limited(a) for a in answers) == 60 - PER_TOKEN


def test_the_limits_default_to_120_per_token_and_600_per_address() -> None:
    policy = bootstrap.policy(Settings.from_environ({"MIGRATIONKIT_SECRET_KEY": "k" * 32}))

    assert (policy.api_calls_per_token.calls, policy.api_calls_per_address.calls) == (120, 600)
    assert policy.api_calls_per_token.per == timedelta(minutes=1)
