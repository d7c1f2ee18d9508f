"""How long the Migratieverslag of a big migration takes, and how much memory: a Voltooid
move across stores of N documents is written straight into a new database (its documents
and verified copies, as the engine records them), then the manifest is streamed as JSON
Lines and as CSV to files and the signed report and its PDF are made, each timed, with the
peak of Python's allocations (``tracemalloc``) during each step. Two sizes, a tenth and the
whole, show whether the memory stays flat.

Usage: python benchmarks/report.py [--documents 100000] [--database-url URL] [--smoke]

Without ``--database-url`` a new SQLite file in a temporary folder; a PostgreSQL URL names a
server where a database of its own is made and dropped (``throwaway_database``).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.report_pdf import migration_report_pdf
from migrationkit.adapters.signing import report_key
from migrationkit.adapters.sqlalchemy import tables, upgrade
from migrationkit.bootstrap import bootstrap
from migrationkit.config import Settings
from migrationkit.domain.manifest import CSV_HEADER, csv_line, json_line
from migrationkit.services import migration_manifest, migration_report
from migrationkit.services.dependencies import Dependencies
from migrationkit.testing._databases import throwaway_database
from migrationkit.workers.inprocess import InProcessQueue

SECRET = "benchmark-secret-key-of-at-least-32-bytes"  # noqa: S105 (a throwaway database)
CHUNK = 10_000


def seed(database_url: str, documents: int) -> tuple[int, int]:
    """A Voltooid move of ``documents`` documents from store noord to zuid; the migration's
    id and the recipient's id."""
    engine = create_engine(database_url)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as db:

        def add(table: object, **values: object) -> int:
            return int(db.execute(insert(table).values(**values)).inserted_primary_key[0])  # type: ignore[arg-type]

        noord = add(tables.environments, name="Noord", has_subscription=True, archive_store="noord")
        zuid = add(tables.environments, name="Zuid", has_subscription=True, archive_store="zuid")
        users = []
        for environment, email in ((noord, "noord@example.nl"), (zuid, "zuid@example.nl")):
            users.append(
                add(
                    tables.users,
                    environment_id=environment,
                    email=email,
                    email_key=email,
                    name=email,
                    role="SUPER_USER",
                    password_hash="-",  # noqa: S106 (nobody signs in)
                )
            )
        source = add(tables.connections, environment_id=noord, package="XERO", name="Xero")
        target = add(tables.connections, environment_id=zuid, package="XERO", name="Xero")
        administration = add(
            tables.administrations,
            environment_id=zuid,
            connection_id=target,
            code="1001",
            name="Groot archief BV",
            email="1001@inbox.example.nl",
            package_admin_id="zuid-1001",
        )
        offer = add(
            tables.transfer_offers,
            source_environment_id=noord,
            source_connection_id=source,
            package="XERO",
            sender_user_id=users[0],
            sender_email="noord@example.nl",
            recipients='["zuid@example.nl"]',
            code_digest="0" * 64,
            code_hint="ABCD",
            created_at=now,
            expires_at=now + timedelta(days=15),
            target_environment_id=zuid,
            redeemed_by_user_id=users[1],
            redeemed_at=now,
        )
        item = add(
            tables.offer_items,
            offer_id=offer,
            administration_id=administration,
            code="1001",
            name="Groot archief BV",
            email="1001@inbox.example.nl",
            status="COMPLETED",
            status_changed_at=now,
        )
        size = 10_000
        migration = add(
            tables.migrations,
            item_id=item,
            administration_id=administration,
            target_environment_id=zuid,
            target_connection_id=target,
            target_package_admin_id="zuid-1001",
            target_code="1001",
            target_name="Groot archief BV",
            attempts=1,
            documents_total=documents,
            documents_done=documents,
            bytes_total=documents * size,
            bytes_done=documents * size,
            links_attempts=0,
            started_at=now,
            finished_at=now + timedelta(hours=1),
        )
        for status, event, actor in (
            ("OFFERED", "offer", users[0]),
            ("QUEUED", "start", users[1]),
            ("PROCESSING", "claim", None),
            ("COMPLETED", "complete", None),
        ):
            add(
                tables.status_changes,
                item_id=item,
                to_status=status,
                event=event,
                actor_user_id=actor,
                at=now,
            )
        for first in range(0, documents, CHUNK):
            rows = [
                {
                    "administration_id": administration,
                    "filename": f"factuur-{n:06d}.pdf",
                    "content_type": "application/pdf",
                    "size": size,
                    "sha256": f"{n:064x}",
                    "archive_store": "zuid",
                    "blob_key": f"{n:064x}",
                    "received_at": now,
                }
                for n in range(first, min(first + CHUNK, documents))
            ]
            db.execute(insert(tables.documents), rows)
        ids = [row.id for row in db.execute(tables.documents.select().order_by("id"))]
        for first in range(0, documents, CHUNK):
            db.execute(
                insert(tables.document_copies),
                [
                    {
                        "migration_id": migration,
                        "document_id": document_id,
                        "archive_store": "zuid",
                        "blob_key": f"{n:064x}",
                        "sha256": f"{n:064x}",
                        "size": size,
                        "source_store": "noord",
                        "source_key": f"{n:064x}",
                        "copied_at": now,
                        "verified": True,
                    }
                    for n, document_id in enumerate(ids[first : first + CHUNK], start=first)
                ],
            )
    engine.dispose()
    return migration, users[1]


def measured(step: Callable[[], object]) -> tuple[float, float]:
    """Seconds and the peak of Python's allocations in MB while ``step`` runs."""
    tracemalloc.start()
    began = time.perf_counter()
    step()
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1e6


def run(database_url: str, documents: int, workdir: Path) -> list[tuple[str, float, float]]:
    upgrade(database_url)
    migration_id, actor = seed(database_url, documents)
    settings = Settings.from_environ(
        {
            "MIGRATIONKIT_HOME": str(workdir),
            "MIGRATIONKIT_DATABASE_URL": database_url,
            "MIGRATIONKIT_SECRET_KEY": SECRET,
        }
    )
    deps: Dependencies = bootstrap(
        settings, connectors=InMemoryConnectorRegistry(), queue=InProcessQueue()
    )
    signer = report_key(settings.code_secret())

    def manifest(form: str) -> None:
        entries = migration_manifest(deps, actor_id=actor, migration_id=migration_id)
        with (workdir / f"manifest.{form}").open("wb") as out:
            if form == "csv":
                out.write(CSV_HEADER)
            line = csv_line if form == "csv" else json_line
            for entry in entries:
                out.write(line(entry))

    def report() -> None:
        made = migration_report(deps, signer, actor_id=actor, migration_id=migration_id)
        (workdir / "migratieverslag.pdf").write_bytes(migration_report_pdf(made))

    return [
        (name, *measured(step))
        for name, step in (
            ("manifest JSON Lines", lambda: manifest("jsonl")),
            ("manifest CSV", lambda: manifest("csv")),
            ("report (digests, signature, PDF)", report),
        )
    ]


@contextlib.contextmanager
def database(url: str | None, workdir: Path, name: str) -> Iterator[str]:
    if url is None:
        yield f"sqlite:///{workdir / name}.sqlite"
    else:
        with throwaway_database(url, prefix="mk_bench_report") as made:
            yield made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--smoke", action="store_true", help="1,000 documents")
    args = parser.parse_args()
    total = 1_000 if args.smoke else args.documents
    print(f"{'documents':>10}  {'step':<34}  {'seconds':>8}  {'peak MB':>8}")
    for documents in (total // 10, total):
        with tempfile.TemporaryDirectory(prefix="mk-report-") as folder:
            workdir = Path(folder)
            with database(args.database_url, workdir, "report") as url:
                for name, seconds, peak in run(url, documents, workdir):
                    print(f"{documents:>10}  {name:<34}  {seconds:>8.2f}  {peak:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
