"""The reference portal under Flask's test client.

The demo data is seeded once per session into a template home (SQLite file, archive
folders, secret key); each test gets a copy of it, so every test starts from the same
fresh demo, and the app is made by the portal's own ``create_app`` in demo mode.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from migrationkit.adapters.sqlalchemy import make_engine, metadata
from migrationkit.bootstrap import Runtime
from migrationkit.services import Dependencies

PORTAL = Path(__file__).resolve().parents[2] / "examples" / "flask_portal"
if str(PORTAL) not in sys.path:
    sys.path.insert(0, str(PORTAL))

from portal.runtime import RUNTIME_KEY  # noqa: E402

from portal import create_app  # noqa: E402

SECRET = "portal-tests-secret-key-of-forty-bytes!!"
SUPER_USERS = ("noord@example.nl", "zuid@example.nl", "oost@example.nl", "west@example.nl")
PLAIN_USER = "medewerker@example.nl"


def environ(home: Path) -> dict[str, str]:
    return {
        "MIGRATIONKIT_HOME": str(home),
        "MIGRATIONKIT_DEMO": "1",
        "MIGRATIONKIT_SECRET_KEY": SECRET,
    }


def make_app(home: Path, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "portal.test",
            "MIGRATIONKIT_ENVIRON": environ(home),
            **config,
        }
    )


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo seeded, copied by each test."""
    home = tmp_path_factory.mktemp("seeded")
    app = make_app(home)
    app.extensions[RUNTIME_KEY].deps  # noqa: B018 - built, seeded
    _close(app)
    return home


def _close(app: Flask) -> None:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    close = getattr(runtime, "close", None)
    if close is not None:
        close()


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
    _close(app)


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
def user_id(deps: Dependencies) -> Callable[[str], int]:
    def find(email: str) -> int:
        with deps.uow() as uow:
            user = uow.users.get_by_email(email)
        assert user is not None
        return user.id

    return find


@pytest.fixture
def signed_in(app: Flask, user_id: Callable[[str], int]) -> Callable[[str], FlaskClient]:
    """A test client signed in as the demo user with this address (its session set as the
    login page sets it; the login itself is tested in test_auth.py)."""

    def sign_in(email: str) -> FlaskClient:
        client = app.test_client()
        with client.session_transaction() as session:
            session["user_id"] = user_id(email)
            session["seen"] = time.time()
        return client

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


def dump(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(row) for row in connection.execute(select(table))), key=repr
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def database_dump(app: Flask) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    return lambda: dump(runtime.settings.database_url)
