"""The Migratie overzicht at office scale: N offers made by one environment through the use
cases and redeemed by another, then the overviews' use cases and the portal's page
(``GET /migraties``, through Flask's test client) timed, without a search term, with a
rare one and with a common one, on SQLite and PostgreSQL; prints p50 and p95 of each and
their ratio to the target of docs/performance.md.

Usage: python benchmarks/overviews.py [--offers 10000] [--rounds 100] [--database-url URL]
           [--smoke]

SQLite is a new file in a temporary folder; PostgreSQL is a database of its own on the
server of ``--database-url`` (or ``MIGRATIONKIT_TEST_POSTGRES_URL``), dropped at the end;
without either URL only SQLite runs. Each offer holds one administration and is made with
``offer_administrations`` and redeemed with ``redeem_code``, as a sender and a recipient do;
every tenth is started, its migration written straight into the database (the benchmark
has no package to ask). ``--smoke`` makes 60 offers and times 5 rounds: its numbers mean
nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from flask import Flask
from flask.testing import FlaskClient

from migrationkit import services
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.domain.machine import Event
from migrationkit.domain.model import AccountingPackage, ItemStatus, MigrationTarget, Role
from migrationkit.services import Dependencies
from migrationkit.testing import FakeClock
from migrationkit.testing._databases import throwaway_database

PORTAL = Path(__file__).resolve().parents[1] / "examples" / "flask_portal"
sys.path.insert(0, str(PORTAL))

from portal.auth import SESSION_COOKIE  # noqa: E402
from portal.runtime import RUNTIME_KEY  # noqa: E402

from portal import create_app  # noqa: E402

SECRET = "benchmark-secret-key-of-at-least-32-bytes"  # noqa: S105 (a throwaway database)
EXACT = AccountingPackage.EXACT_ONLINE_NL
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
#: Targets of issue 17: p95 in milliseconds.
USE_CASE_TARGET_MS = 50
PAGE_TARGET_MS = 100
#: Words of the administrations' names: "Bakkerij 4711 Zwolle".
TRADES = ("Bakkerij", "Slagerij", "Kapsalon", "Garage", "Fietsenmaker", "Café", "Drukkerij")
PLACES = ("Zwolle", "Deventer", "Utrecht", "Groningen", "Leeuwarden", "Tilburg", "Nijmegen")
#: The searches: none, one that finds a single row, one that finds a seventh of them.
SEARCHES = {"no search": None, "rare search": "bakkerij 4711", "common search": "café"}


@attrs.frozen
class Scene:
    app: Flask
    deps: Dependencies
    sender: int
    recipient: int


def name_of(n: int) -> str:
    return f"{TRADES[n % len(TRADES)]} {n:04d} {PLACES[n // len(TRADES) % len(PLACES)]}"


def build(database_url: str, home: Path, offers: int) -> Scene:
    """The portal on ``database_url`` and N offers from Noord, redeemed by Zuid."""
    upgrade(database_url)
    clock = FakeClock(START)
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "portal.test",
            "START_WORKER": False,
            "CLOCK": clock,
            "MIGRATIONKIT_ENVIRON": {
                "MIGRATIONKIT_HOME": str(home),
                "MIGRATIONKIT_DATABASE_URL": database_url,
                "MIGRATIONKIT_SECRET_KEY": SECRET,
                "MIGRATIONKIT_LOG_LEVEL": "WARNING",
                # Set up, never called: the benchmark asks no package anything.
                "MIGRATIONKIT_EXACT_ONLINE_NL_CLIENT_ID": "benchmark",
                "MIGRATIONKIT_EXACT_ONLINE_NL_CLIENT_SECRET": "benchmark",
            },
        }
    )
    deps: Dependencies = app.extensions[RUNTIME_KEY].deps
    with deps.uow() as uow:
        noord = uow.environments.add("Kantoor Noord", has_subscription=True, archive_store="n")
        zuid = uow.environments.add("Kantoor Zuid", has_subscription=True, archive_store="z")
        sender = uow.users.add(noord.id, "noord@example.nl", "Noord", Role.SUPER_USER)
        recipient = uow.users.add(zuid.id, "zuid@example.nl", "Zuid", Role.SUPER_USER)
        source = uow.connections.add(noord.id, EXACT, "Exact Noord")
        target = uow.connections.add(zuid.id, EXACT, "Exact Zuid")
        administrations = [
            uow.administrations.add(
                noord.id, source.id, f"{n:05d}", name_of(n), f"{n:05d}@inbox.example.nl", f"n{n}"
            ).id
            for n in range(offers)
        ]
        uow.commit()
    for n, administration in enumerate(administrations):
        clock.advance(timedelta(seconds=30))
        receipt = services.offer_administrations(
            deps,
            actor_id=sender.id,
            connection_id=source.id,
            administration_ids=[administration],
            recipients=["zuid@example.nl", "boekhouding@zuid.nl"],
            accepted_terms=True,
        )
        services.redeem_code(
            deps,
            actor_id=recipient.id,
            code=receipt.code,
            accepted_terms=True,
            accepted_costs=True,
        )
        if n % 10 == 0:
            _started(deps, receipt.items[0].id, zuid.id, target.id, clock.now())
    if database_url.startswith("postgresql"):
        # What autovacuum does after so many new rows, before the planner is judged.
        with app.extensions[RUNTIME_KEY].database.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return Scene(app, deps, sender.id, recipient.id)


def _started(
    deps: Dependencies, item_id: int, environment_id: int, connection_id: int, at: datetime
) -> None:
    """A start as ``start_migrations`` records it, without asking a package."""
    with deps.uow() as uow:
        item = uow.items.get(item_id)
        assert item is not None
        uow.items.compare_and_set(item, ItemStatus.QUEUED, event=Event.START, at=at)
        uow.migrations.add(
            item,
            target_environment_id=environment_id,
            target=MigrationTarget(connection_id, f"z{item_id}", item.code, item.name),
            at=at,
        )
        uow.commit()


def signed_in(scene: Scene, user_id: int) -> FlaskClient:
    issued = services.open_session(scene.deps, actor_id=user_id, user_agent="benchmark")
    client = scene.app.test_client()
    client.set_cookie(SESSION_COOKIE, issued.secret, domain="portal.test")
    return client


def percentiles(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """p50 and p95 of ``call`` in milliseconds, after one call to warm up."""
    call()
    times = []
    for _ in range(rounds):
        begin = time.perf_counter()
        call()
        times.append((time.perf_counter() - begin) * 1000)
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18]


def open_page(client: FlaskClient, query: dict[str, str]) -> None:
    answer = client.get("/migraties", query_string=query)
    assert answer.status_code == 200, answer.status_code


def measure(scene: Scene, rounds: int) -> list[tuple[str, float, float, int]]:
    """(what, p50, p95, target) of each use case and page, with each search."""
    deps = scene.deps
    clients = {
        "sender": signed_in(scene, scene.sender),
        "recipient": signed_in(scene, scene.recipient),
    }
    rows = []
    for label, search in SEARCHES.items():
        use_cases = {
            "sender": functools.partial(
                services.outgoing_overview, deps, actor_id=scene.sender, search=search
            ),
            "recipient": functools.partial(
                services.incoming_overview, deps, actor_id=scene.recipient, search=search
            ),
        }
        for side, use_case in use_cases.items():
            rows.append(
                (f"use case, {side}, {label}", *percentiles(use_case, rounds), USE_CASE_TARGET_MS)
            )
        for side, field in (("sender", "aangeboden"), ("recipient", "ontvangen")):
            query = {} if search is None else {field: search}
            page = functools.partial(open_page, clients[side], query)
            rows.append((f"page, {side}, {label}", *percentiles(page, rounds), PAGE_TARGET_MS))
    next_page = services.outgoing_overview(deps, actor_id=scene.sender).older
    rows.append(
        (
            "use case, sender, second page",
            *percentiles(
                lambda: services.outgoing_overview(deps, actor_id=scene.sender, cursor=next_page),
                rounds,
            ),
            USE_CASE_TARGET_MS,
        )
    )
    return rows


@contextlib.contextmanager
def databases(postgres_url: str | None, folder: Path) -> Iterator[list[tuple[str, str]]]:
    """(name, URL) of each database to measure on."""
    found = [("SQLite", f"sqlite:///{folder / 'overviews.sqlite3'}")]
    if postgres_url is None:
        yield found
        return
    with throwaway_database(postgres_url, prefix="mk_bench") as url:
        yield [*found, ("PostgreSQL", url)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--database-url", default=os.environ.get("MIGRATIONKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--smoke", action="store_true")
    given = parser.parse_args()
    offers, rounds = (60, 5) if given.smoke else (given.offers, given.rounds)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores;",
        f"Python {platform.python_version()}",
    )
    print(f"{offers:,} offers of one administration each; {rounds} rounds per measure")
    print(f"load average at the start: {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        with databases(given.database_url, folder) as found:
            for name, url in found:
                began = time.perf_counter()
                scene = build(url, folder / name, offers)
                built = time.perf_counter() - began
                print(f"{name}: {offers:,} offers made and redeemed in {built:.0f} s")
                print(f"  {'measure':<40} {'p50 ms':>8} {'p95 ms':>8} {'target':>7} p95/target")
                for what, p50, p95, target in measure(scene, rounds):
                    print(f"  {what:<40} {p50:8.1f} {p95:8.1f} {target:7d} {p95 / target:10.2f}")
                print()
                scene.app.extensions[RUNTIME_KEY].database.dispose()


if __name__ == "__main__":
    main()
