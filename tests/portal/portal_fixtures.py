"""The portal tests' fixtures: the reference portal under Flask's test client.

The demo data is seeded once per session into a template home (SQLite file, archive
folders, secret key); each test gets a copy of it, so every test starts from the same
fresh demo, and the app is made by the portal's own ``create_app`` in demo mode.

Kept apart from conftest.py so that other test folders (tests/security) use the same fixtures:
their conftest imports them from here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from portal_support import PLAIN_USER, RUNTIME_KEY, Scene, dump, make_app, signed_in_client

from migrationkit.bootstrap import Runtime
from migrationkit.services import Dependencies
from migrationkit.workers.inprocess import InProcessQueue


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo seeded, copied by each test."""
    home = tmp_path_factory.mktemp("seeded")
    close_app(make_app(home))
    return home


def close_app(app: Flask) -> None:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    if isinstance(runtime.queue, InProcessQueue):
        runtime.queue.stop(timeout=5)


def _link_or_copy(source: str, target: str) -> None:
    """Archive blobs are immutable and named by their content: a hard link copies them."""
    if f"{os.sep}archive{os.sep}" in source:
        os.link(source, target)
    else:
        shutil.copy2(source, target)


@pytest.fixture
def home(seeded_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(seeded_home, copy, copy_function=_link_or_copy)
    return copy


@pytest.fixture
def app(home: Path) -> Iterator[Flask]:
    app = make_app(home)
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def deps(app: Flask) -> Dependencies:
    """The use cases' dependencies of the running app: to set a scene through the library."""
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    return runtime.deps


@pytest.fixture
def signed_in(app: Flask, scene: Scene) -> Callable[[str], FlaskClient]:
    """A test client signed in as the demo user with this address (its session set as the
    login page sets it; the login itself is tested in test_auth.py)."""

    def sign_in(email: str) -> FlaskClient:
        return signed_in_client(app, scene.user(email))

    return sign_in


@pytest.fixture
def noord(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return signed_in("noord@example.nl")


@pytest.fixture
def zuid(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return signed_in("zuid@example.nl")


@pytest.fixture
def medewerker(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return signed_in(PLAIN_USER)


@pytest.fixture
def database_dump(app: Flask) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    return lambda: dump(runtime.settings.database_url)


@pytest.fixture
def scene(deps: Dependencies) -> Scene:
    return Scene(deps)


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], None]:
    """Runs the embedded queue's waiting jobs in this thread, until none waits: the moves
    the test started, by the engine itself."""
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    queue = runtime.queue
    assert isinstance(queue, InProcessQueue)
    return lambda: queue.work(runtime.deps, runtime.archives, sweep_every=None, burst=True)
