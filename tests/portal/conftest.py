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

from migrationkit import services
from migrationkit.adapters.inprocess import InProcessQueue
from migrationkit.adapters.sqlalchemy import make_engine, metadata
from migrationkit.bootstrap import Runtime
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Connection,
    Document,
    Environment,
    Migration,
)
from migrationkit.services import Dependencies, OfferReceipt, RedeemedOffer

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
            "START_WORKER": False,
            "MIGRATIONKIT_ENVIRON": environ(home),
            **config,
        }
    )


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo seeded, copied by each test."""
    home = tmp_path_factory.mktemp("seeded")
    _close(make_app(home))
    return home


def _close(app: Flask) -> None:
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
def signed_in(app: Flask, scene: Scene) -> Callable[[str], FlaskClient]:
    """A test client signed in as the demo user with this address (its session set as the
    login page sets it; the login itself is tested in test_auth.py)."""

    def sign_in(email: str) -> FlaskClient:
        client = app.test_client()
        with client.session_transaction() as session:
            session["user_id"] = scene.user(email)
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


class Scene:
    """The demo's objects by their names, and the library's use cases to set a scene."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def user(self, email: str) -> int:
        with self.deps.uow() as uow:
            user = uow.users.get_by_email(email)
        assert user is not None
        return user.id

    def environment(self, name: str) -> Environment:
        with self.deps.uow() as uow:
            return next(e for e in uow.environments.list() if e.name == f"Kantoor {name}")

    def connection(
        self, office: str, package: AccountingPackage = AccountingPackage.EXACT_ONLINE_NL
    ) -> Connection:
        environment = self.environment(office)
        with self.deps.uow() as uow:
            return next(
                c
                for c in uow.connections.list_for_environment(environment.id)
                if c.package is package
            )

    def administration(self, code: str) -> Administration:
        with self.deps.uow() as uow:
            for environment in uow.environments.list():
                for administration in uow.administrations.list_for_environment(environment.id):
                    if administration.code == code:
                        return administration
        raise LookupError(code)

    def documents(self, code: str) -> list[Document]:
        """The archive of the administration with this code, in order of id."""
        administration = self.administration(code)
        with self.deps.uow() as uow:
            return list(uow.documents.list_for_administration(administration.id))

    def offer(self, *codes: str, to: str = "zuid@example.nl") -> OfferReceipt:
        """Noord offers its administrations (of one connection) to ``to``."""
        chosen = [self.administration(code) for code in codes]
        return services.offer_administrations(
            self.deps,
            actor_id=self.user("noord@example.nl"),
            connection_id=chosen[0].connection_id,
            administration_ids=[a.id for a in chosen],
            recipients=[to],
            accepted_terms=True,
        )

    def redeem(self, receipt: OfferReceipt, office: str = "zuid") -> RedeemedOffer:
        return services.redeem_code(
            self.deps,
            actor_id=self.user(f"{office}@example.nl"),
            code=receipt.code,
            accepted_terms=True,
            accepted_costs=True,
        )

    def start(self, receipt: OfferReceipt, office: str = "zuid") -> tuple[Migration, ...]:
        """Redeems and starts every item, each on its counterpart in the office's package."""
        redeemed = self.redeem(receipt, office)
        actor = self.user(f"{office}@example.nl")
        connection = self.connection(office.capitalize(), receipt.offer.package)
        available = {
            pa.name: pa.package_admin_id
            for pa in services.available_package_administrations(
                self.deps, actor_id=actor, connection_id=connection.id
            )
        }
        return services.start_migrations(
            self.deps,
            actor_id=actor,
            offer_id=redeemed.offer.id,
            choices=[
                services.TargetChoice(item.id, connection.id, available[item.name])
                for item in redeemed.items
            ],
        )


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
