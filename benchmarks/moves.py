"""Moves of administrations of N documents (small real files) by `migrationkit worker`
processes on PostgreSQL and Redis, measured in one run; prints a table of the results and
their ratios against the targets of docs/performance.md.

Usage: python benchmarks/moves.py [--smoke] [--sizes 1000 10000 100000] [--scale-out N]
           [--across-filesystems 10000] [--other-dir /dev/shm] [--takeover 300 50]
           [--file-size 10000] [--repeat 3] [--batch-size 500] [--batches-per-job N]
           [--database-url URL] [--redis-url URL] [--redis-db 10] [--workdir DIR]

For each size N it builds, in a new database ``mk_bench_<random>`` on the PostgreSQL server
(dropped at the end) and in archive stores in folders under ``--workdir`` (one disk):
- an administration of N documents of about ``--file-size`` bytes each, in a store of its
  own, moved to another office on another store (the copy path), by one worker;
- ``--repeat`` administrations of N documents on that same store, each moved to an office
  on the same store (nothing per document is written);
and for ``--scale-out`` documents (the largest size unless given) a second copy-path
administration, moved by two workers; for ``--across-filesystems`` documents one moved to a
store under ``--other-dir`` (another filesystem: a tmpfs); and a takeover of ``--takeover``
administrations of a few documents each, in one offer, started at once, moved by two
workers. The same files are copied with ``cp -r`` and linked with ``cp -al`` onto the same
disk (``cp -r`` onto the other filesystem for the move there), and by the target store's
``copy_from`` alone (no database, no worker), best of three each.

A move's time runs from Start migratie (``start_migrations`` called) until Voltooid is
visible to a reader of the database (committed), polled every few milliseconds; the
workers wait in the queue before the move starts, so their start is left out. A worker's
peak memory is the high-water mark of its resident set, over the RQ worker and every
work-horse it forked (``wait4``'s ``ru_maxrss``, see peak_rss.py). ``--smoke`` runs tiny
sizes in seconds, for CI: its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import attrs
from archive_copy import best_of, fill, time_copy_from, time_cp
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import Engine, func, insert, select, text

from migrationkit import services
from migrationkit.adapters.archive import LocalArchiveStore
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy import make_engine, upgrade
from migrationkit.adapters.sqlalchemy.tables import documents, offer_items
from migrationkit.bootstrap import Runtime, build_runtime
from migrationkit.config import Settings
from migrationkit.domain.model import AccountingPackage, ItemStatus, PackageAdministration, Role
from migrationkit.ports import StoredBlob
from migrationkit.testing._databases import throwaway_database

EXACT = AccountingPackage.EXACT_ONLINE_NL
SMOKE_SIZES = (20, 200)
#: The smoke run's takeover: administrations, documents each.
SMOKE_TAKEOVER = (6, 5)
#: How often the benchmark looks whether the move is Voltooid.
POLL_SECONDS = 0.005
#: How long one move may take before the benchmark gives up on it.
MOVE_TIMEOUT_SECONDS = 3600
#: What runs each worker and tells its peak memory.
PEAK_RSS = Path(__file__).with_name("peak_rss.py")
#: ``cp -r`` and the store's own copy run this often each; the best time counts (the
#: disk's speed varies from run to run more than either).
COPY_ROUNDS = 3
#: Rows per INSERT statement while building an archive.
INSERT_ROWS = 5000
#: How long the database's statistics are given to take in the counts of the sessions
#: that ended with the workers.
STATISTICS_SECONDS = 1.0


@attrs.frozen
class Move:
    """Offered and redeemed administrations, ready to start in the target at once."""

    label: str
    documents: int
    bytes: int
    recipient_id: int
    offer_id: int
    choices: tuple[services.TargetChoice, ...]

    @property
    def item_ids(self) -> list[int]:
        return [choice.item_id for choice in self.choices]


@attrs.frozen
class DatabaseWork:
    """What the benchmark's database did: the seconds its sessions spent running statements
    (``active_time``) and the rows they inserted, updated or deleted, from
    ``pg_stat_database``."""

    seconds: float
    rows: int

    def __sub__(self, other: DatabaseWork) -> DatabaseWork:
        return DatabaseWork(self.seconds - other.seconds, self.rows - other.rows)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class Result:
    """How one move went: seconds from Start migratie until Voltooid is visible, each
    worker's peak memory, and the database's work from the start until the workers
    stopped."""

    seconds: float
    peak_mb: tuple[float, ...]
    database: DatabaseWork


class Bench:
    """The benchmark's offices, stores and workers, on one database and Redis database."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        workdir: Path,
        batch_size: int,
        batches_per_job: int | None,
    ):
        self.workdir = workdir
        self.stores: dict[str, Path] = {}
        self.environment = {
            "MIGRATIONKIT_HOME": str(workdir / "home"),
            "MIGRATIONKIT_DATABASE_URL": database_url,
            "MIGRATIONKIT_SECRET_KEY": secrets.token_urlsafe(32),
            "MIGRATIONKIT_REDIS_URL": redis_url,
            "MIGRATIONKIT_QUEUE": f"mk-bench-{secrets.token_hex(4)}",
            "MIGRATIONKIT_BATCH_SIZE": str(batch_size),
            # Demo mode: no package credentials, the in-memory packages serve.
            "MIGRATIONKIT_DEMO": "1",
        }
        if batches_per_job is not None:
            self.environment["MIGRATIONKIT_BATCHES_PER_JOB"] = str(batches_per_job)
        self.connectors = InMemoryConnectorRegistry()
        self.engine: Engine = make_engine(database_url)
        self.runtime: Runtime = self._runtime()
        self._offices = 0

    def _runtime(self) -> Runtime:
        self.environment["MIGRATIONKIT_ARCHIVE_STORES"] = ",".join(
            f"{name}=file://{root}" for name, root in self.stores.items()
        )
        return build_runtime(Settings.from_environ(self.environment), connectors=self.connectors)

    def store(self, name: str, *, new: bool = True, under: Path | None = None) -> LocalArchiveStore:
        """A store in a folder of the work directory (or of ``under``); a new one becomes
        known to every process started after."""
        if new:
            self.stores[name] = (under or self.workdir) / name
            self.runtime = self._runtime()
        store = self.runtime.archives.store(name)
        assert isinstance(store, LocalArchiveStore)
        return store

    def office(self, store: str) -> tuple[int, int, int]:
        """A new office on ``store`` with a subscription: its id, super user, connection."""
        self._offices += 1
        number = self._offices
        with self.runtime.deps.uow() as uow:
            office = uow.environments.add(
                f"Kantoor {number}", has_subscription=True, archive_store=store
            )
            user = uow.users.add(
                office.id, f"baas{number}@kantoor.example", f"Baas {number}", Role.SUPER_USER
            )
            connection = uow.connections.add(office.id, EXACT, f"Exact {number}")
            uow.commit()
        return office.id, user.id, connection.id

    def administration(
        self, office: tuple[int, int, int], store: str, blobs: Sequence[StoredBlob], code: str
    ) -> int:
        """An administration of the office whose archive holds a document per blob."""
        office_id, _, connection_id = office
        with self.runtime.deps.uow() as uow:
            administration = uow.administrations.add(
                office_id,
                connection_id,
                code,
                f"Administratie {code}",
                f"{code}@inbox.example",
                code,
            )
            uow.commit()
        received = datetime.datetime.now(datetime.UTC)
        with self.engine.begin() as connection:
            for start in range(0, len(blobs), INSERT_ROWS):
                connection.execute(
                    insert(documents),
                    [
                        {
                            "administration_id": administration.id,
                            "filename": f"document-{start + number}.pdf",
                            "content_type": "application/pdf",
                            "size": blob.size,
                            "sha256": blob.sha256,
                            "archive_store": store,
                            "blob_key": blob.key,
                            "received_at": received,
                        }
                        for number, blob in enumerate(blobs[start : start + INSERT_ROWS])
                    ],
                )
        return administration.id

    def offered(
        self,
        label: str,
        source: tuple[int, int, int],
        administration_ids: Sequence[int],
        target: tuple[int, int, int],
        blobs: Sequence[StoredBlob],
    ) -> Move:
        """Offers the administrations (each holding ``blobs``) to the target office in one
        offer, which the target redeems."""
        deps = self.runtime.deps
        _, sender_id, source_connection = source
        _, recipient_id, target_connection = target
        with deps.uow() as uow:
            administrations = [uow.administrations.get(a) for a in administration_ids]
            recipient = uow.users.get(recipient_id)
        assert recipient is not None
        targets = {}
        for administration in administrations:
            assert administration is not None
            targets[administration.id] = f"doel-{administration.code}"
            self.connectors.connector(EXACT).add_package_administration(
                target_connection,
                PackageAdministration(
                    targets[administration.id], administration.code, administration.name
                ),
            )
        receipt = services.offer_administrations(
            deps,
            actor_id=sender_id,
            connection_id=source_connection,
            administration_ids=list(administration_ids),
            recipients=[recipient.email],
            accepted_terms=True,
        )
        services.redeem_code(
            deps, actor_id=recipient_id, code=receipt.code, accepted_terms=True, accepted_costs=True
        )
        return Move(
            label,
            len(blobs) * len(administration_ids),
            sum(blob.size for blob in blobs) * len(administration_ids),
            recipient_id,
            receipt.offer.id,
            tuple(
                services.TargetChoice(item.id, target_connection, targets[item.administration_id])
                for item in receipt.items
            ),
        )

    def run(self, move: Move, workers: int = 1) -> Result:
        """Starts the move with ``workers`` worker processes waiting for it; waits until it
        is Voltooid, stops the workers (SIGTERM: each ends its job first) and reads their
        peak memory."""
        processes = [self._worker(f"peak-{n}") for n in range(workers)]
        try:
            self._wait_until_listening(workers)
            before = self.database_work()
            started = time.perf_counter()
            services.start_migrations(
                self.runtime.deps,
                actor_id=move.recipient_id,
                offer_id=move.offer_id,
                choices=list(move.choices),
            )
            self._wait_until_completed(move)
            seconds = time.perf_counter() - started
        finally:
            peaks = tuple(_stopped(*process) for process in processes)
        # A session's counts reach the statistics when it ends: the work-horses' have.
        time.sleep(STATISTICS_SECONDS)
        return Result(seconds, peaks, self.database_work() - before)

    def database_work(self) -> DatabaseWork:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            milliseconds, rows = connection.execute(
                text(
                    "SELECT active_time, tup_inserted + tup_updated + tup_deleted"
                    " FROM pg_stat_database WHERE datname = current_database()"
                )
            ).one()
        return DatabaseWork(milliseconds / 1000, rows)

    def _worker(self, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        """A worker process, through ``peak_rss.py``; the file its peak memory goes to."""
        variables = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
        peak = self.workdir / name
        command = [sys.executable, "-m", "migrationkit.cli", "worker"]
        process = subprocess.Popen(  # noqa: S603 (this Python, this package)
            [sys.executable, str(PEAK_RSS), str(peak), *command],
            env=variables | self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return process, peak

    def _wait_until_listening(self, workers: int) -> None:
        """Until ``workers`` workers wait on the queue: their start is not the move's time."""
        with Redis.from_url(self.environment["MIGRATIONKIT_REDIS_URL"]) as connection:
            queue = Queue(self.environment["MIGRATIONKIT_QUEUE"], connection=connection)
            while Worker.count(queue=queue) < workers:
                time.sleep(0.05)

    def _wait_until_completed(self, move: Move) -> None:
        """Until every item of the move reads Voltooid in the database."""
        status = offer_items.c.status
        counted = select(
            func.count().filter(status == ItemStatus.COMPLETED.value),
            func.count().filter(status == ItemStatus.FAILED.value),
        ).where(offer_items.c.id.in_(move.item_ids))
        deadline = time.monotonic() + MOVE_TIMEOUT_SECONDS
        while True:
            with self.engine.connect() as connection:
                completed, failed = connection.execute(counted).one()
            if completed == len(move.item_ids):
                return
            if failed or time.monotonic() > deadline:
                raise SystemExit(
                    f"benchmark: the move {move.label} did not complete: {completed} Voltooid,"
                    f" {failed} Mislukt of {len(move.item_ids)}"
                )
            time.sleep(POLL_SECONDS)


def _stopped(process: subprocess.Popen[bytes], peak: Path) -> float:
    """Stops a worker with SIGTERM; its peak resident set in MB, over its work-horses too."""
    process.send_signal(signal.SIGTERM)
    process.wait(MOVE_TIMEOUT_SECONDS)
    kilobytes = int(peak.read_text())
    peak.unlink()
    return kilobytes / 1024


def written(store: LocalArchiveStore, files: int, size: int) -> list[StoredBlob]:
    """``files`` new random files in the store, written by a few threads at once (each is
    synced to disk before it is linked into place)."""
    shares = [files // 8 + (1 if n < files % 8 else 0) for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        return [blob for part in pool.map(lambda n: fill(store, n, size), shares) for blob in part]


@contextlib.contextmanager
def migrated_database(server_url: str) -> Iterator[str]:
    """A throwaway database with the schema."""
    with throwaway_database(server_url, prefix="mk_bench") as url:
        upgrade(url)
        yield url


@contextlib.contextmanager
def redis_database(server_url: str, number: int) -> Iterator[str]:
    """Database ``number`` of the Redis server, emptied before and after."""
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{number}"))
    with Redis.from_url(url) as connection:
        connection.flushdb()
    try:
        yield url
    finally:
        with Redis.from_url(url) as connection:
            connection.flushdb()


def machine(bench: Bench, workdir: Path, other: Path) -> list[str]:
    with bench.engine.connect() as connection:
        postgres = connection.execute(text("SHOW server_version")).scalar_one()
    return [
        f"date        {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine     {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        f"disk        {' '.join(_filesystem(workdir))} (the stores and cp, in {workdir})",
        f"elsewhere   {' '.join(_filesystem(other))} (the other filesystem, in {other})",
        f"python      {platform.python_version()}, PostgreSQL {postgres}",
    ]


def _filesystem(folder: Path) -> list[str]:
    return subprocess.run(  # noqa: S603
        ["df", "--output=source,fstype", str(folder)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()[-2:]


def row(name: str, values: Sequence[str], target: str = "", verdict: str = "") -> str:
    return f"{name:<44}" + "".join(f"{v:>10}" for v in values) + f"  {target:<18}{verdict}"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


@attrs.frozen
class Plan:
    """What one run measures."""

    sizes: Sequence[int]
    scale_out: int
    across_filesystems: int
    other_dir: Path
    takeover: tuple[int, int]
    file_size: int
    repeat: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help=f"sizes {SMOKE_SIZES}, for CI")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument(
        "--scale-out", type=int, default=None, help="documents moved by 2 (the largest size)"
    )
    parser.add_argument(
        "--across-filesystems", type=int, default=10_000, help="documents moved to --other-dir"
    )
    parser.add_argument(
        "--other-dir",
        type=Path,
        default=Path("/dev/shm"),  # noqa: S108 (a tmpfs; the run makes a folder of its own)
        help="a folder on another filesystem",
    )
    parser.add_argument(
        "--takeover",
        type=int,
        nargs=2,
        default=[300, 50],
        metavar=("ADMINISTRATIONS", "DOCUMENTS"),
        help="one offer of this many administrations of this many documents, by 2 workers",
    )
    parser.add_argument("--file-size", type=int, default=10_000, help="bytes per file, about")
    parser.add_argument("--repeat", type=int, default=3, help="same-store moves per size")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--batches-per-job", type=int, default=None, help="the product's default if not given"
    )
    parser.add_argument("--database-url", default=os.environ.get("MIGRATIONKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("MIGRATIONKIT_TEST_REDIS_URL"))
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    arguments = parser.parse_args()
    if not (arguments.database_url and arguments.redis_url):
        parser.error("give --database-url and --redis-url (or MIGRATIONKIT_TEST_*_URL)")
    sizes = sorted(SMOKE_SIZES if arguments.smoke else set(arguments.sizes))
    plan = Plan(
        sizes=sizes,
        scale_out=sizes[-1] if arguments.smoke else (arguments.scale_out or sizes[-1]),
        across_filesystems=sizes[-1] if arguments.smoke else arguments.across_filesystems,
        other_dir=arguments.other_dir,
        takeover=SMOKE_TAKEOVER if arguments.smoke else tuple(arguments.takeover),
        file_size=arguments.file_size,
        repeat=1 if arguments.smoke else arguments.repeat,
    )
    if plan.scale_out not in sizes:
        parser.error(f"--scale-out must be one of the sizes {sizes}")
    workdir = Path(tempfile.mkdtemp(dir=arguments.workdir, prefix="mk-bench-"))
    other = Path(tempfile.mkdtemp(dir=arguments.other_dir, prefix="mk-bench-"))
    with (
        migrated_database(arguments.database_url) as database_url,
        redis_database(arguments.redis_url, arguments.redis_db) as redis_url,
    ):
        try:
            bench = Bench(
                database_url,
                redis_url,
                workdir,
                arguments.batch_size,
                arguments.batches_per_job,
            )
            lines = measure(bench, attrs.evolve(plan, other_dir=other))
            print("\n".join([*machine(bench, workdir, other), "", *lines]))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(other, ignore_errors=True)


def measure(bench: Bench, plan: Plan) -> list[str]:
    """Builds every administration, runs every move, ``cp -r`` and ``cp -al``; the
    table's lines."""
    started = time.perf_counter()
    across: dict[int, Move] = {}
    alike: dict[int, list[Move]] = {}
    blobs_of: dict[int, list[StoredBlob]] = {}
    for size in plan.sizes:
        source_store, target_store = f"bron-{size}", f"doel-{size}"
        blobs = blobs_of[size] = written(bench.store(source_store), size, plan.file_size)
        bench.store(target_store)
        source = bench.office(source_store)
        administration = bench.administration(source, source_store, blobs, f"x{size}")
        across[size] = bench.offered(
            f"across {size}", source, [administration], bench.office(target_store), blobs
        )
        alike[size] = []
        for number in range(plan.repeat):
            # The same files, kept by other administrations of the office.
            administration = bench.administration(source, source_store, blobs, f"s{size}-{number}")
            alike[size].append(
                bench.offered(
                    f"same store {size}",
                    source,
                    [administration],
                    bench.office(source_store),
                    blobs,
                )
            )
    scaled = _copy_path(bench, "2", plan.scale_out, plan.file_size)
    elsewhere = _copy_path(bench, "fs", plan.across_filesystems, plan.file_size, plan.other_dir)
    takeover = _takeover(bench, *plan.takeover, plan.file_size)
    built = time.perf_counter() - started

    same_store = {size: [bench.run(move) for move in alike[size]] for size in plan.sizes}
    cross_store = {size: bench.run(across[size]) for size in plan.sizes}
    by_two = bench.run(scaled, workers=2)
    other_filesystem = bench.run(elsewhere)
    taken_over = bench.run(takeover, workers=2)
    cp, cp_links, store_copy = {}, {}, {}
    for size in plan.sizes:
        files = bench.store(f"bron-{size}", new=False)
        cp[size] = best_of(COPY_ROUNDS, bench.workdir, functools.partial(time_cp, files))
        cp_links[size] = best_of(
            COPY_ROUNDS, bench.workdir, functools.partial(time_cp, files, option="-al")
        )
        store_copy[size] = best_of(
            COPY_ROUNDS, bench.workdir, functools.partial(time_copy_from, files, blobs_of[size])
        )
    files = bench.store(f"bron-{plan.across_filesystems}-fs", new=False)
    cp_elsewhere = best_of(COPY_ROUNDS, plan.other_dir, functools.partial(time_cp, files))
    measured = Measured(
        same_store=same_store,
        cross_store=cross_store,
        by_two=by_two,
        other_filesystem=other_filesystem,
        takeover=taken_over,
        cp=cp,
        cp_links=cp_links,
        cp_elsewhere=cp_elsewhere,
        store_copy=store_copy,
        across=across,
        takeover_move=takeover,
        built=built,
    )
    return table(plan, measured)


def _copy_path(
    bench: Bench, label: str, size: int, file_size: int, under: Path | None = None
) -> Move:
    """An administration of ``size`` documents in a store of its own, offered to an office
    on another store (in a folder under ``under``: another filesystem)."""
    source_store, target_store = f"bron-{size}-{label}", f"doel-{size}-{label}"
    blobs = written(bench.store(source_store), size, file_size)
    bench.store(target_store, under=under)
    source = bench.office(source_store)
    administration = bench.administration(source, source_store, blobs, f"x{size}-{label}")
    return bench.offered(
        f"across {size} ({label})", source, [administration], bench.office(target_store), blobs
    )


def _takeover(bench: Bench, administrations: int, size: int, file_size: int) -> Move:
    """One offer of ``administrations`` administrations of ``size`` documents each (the same
    files), from an office on a store of its own to one on another store."""
    source_store, target_store = "bron-overname", "doel-overname"
    blobs = written(bench.store(source_store), size, file_size)
    bench.store(target_store)
    source = bench.office(source_store)
    ids = [
        bench.administration(source, source_store, blobs, f"o{number}")
        for number in range(administrations)
    ]
    return bench.offered("takeover", source, ids, bench.office(target_store), blobs)


@attrs.frozen
class Measured:
    """Every move's result and every copy's time of one run."""

    same_store: dict[int, list[Result]]
    cross_store: dict[int, Result]
    by_two: Result
    other_filesystem: Result
    takeover: Result
    cp: dict[int, float]
    cp_links: dict[int, float]
    cp_elsewhere: float
    store_copy: dict[int, float]
    across: dict[int, Move]
    takeover_move: Move
    built: float


def table(plan: Plan, m: Measured) -> list[str]:
    sizes = plan.sizes
    same = {size: statistics.median(r.seconds for r in m.same_store[size]) for size in sizes}
    ratio = same[sizes[-1]] / same[sizes[0]]
    seconds = {size: m.cross_store[size].seconds for size in sizes}
    against_cp = {size: m.cp[size] / seconds[size] for size in sizes}
    against_links = {size: m.cp_links[size] / seconds[size] for size in sizes}
    per_second = {size: size / seconds[size] for size in sizes}
    database = {size: m.cross_store[size].database for size in sizes}
    peak = {size: m.cross_store[size].peak_mb[0] for size in sizes}
    flat = peak[sizes[-1]] <= 1.1 * peak[sizes[0]]
    peak_same = {size: max(r.peak_mb[0] for r in m.same_store[size]) for size in sizes}
    one, two = m.cross_store[plan.scale_out].seconds, m.by_two.seconds
    by_two_per_second = plan.scale_out / two
    elsewhere = m.cp_elsewhere / m.other_filesystem.seconds
    administrations, each = plan.takeover
    taken_per_second = m.takeover_move.documents / m.takeover.seconds
    file_mb = {size: m.across[size].bytes / 1e6 for size in sizes}
    n = plan.across_filesystems
    return [
        row("documents (N)", [f"{size:,}" for size in sizes], "target", "verdict"),
        row("archive size (MB)", [f"{file_mb[size]:.1f}" for size in sizes]),
        row("(a) same-store move, median (s)", [f"{same[size]:.3f}" for size in sizes]),
        row(
            f"    time(N={sizes[-1]:,}) / time(N={sizes[0]:,})",
            [f"{ratio:.2f}"],
            "<= 2",
            verdict(ratio <= 2),
        ),
        row("(b) cross-store move, one disk (s)", [f"{seconds[size]:.2f}" for size in sizes]),
        row("    cp -r of the same files (s)", [f"{m.cp[size]:.2f}" for size in sizes]),
        row("    cp -al of the same files (s)", [f"{m.cp_links[size]:.2f}" for size in sizes]),
        row(
            "    throughput against cp -r",
            [f"{against_cp[size]:.2f}" for size in sizes],
            ">= 0.7",
            verdict(min(against_cp.values()) >= 0.7),
        ),
        row(
            "    throughput against cp -al",
            [f"{against_links[size]:.2f}" for size in sizes],
            ">= 0.35",
            verdict(min(against_links.values()) >= 0.35),
        ),
        row(
            "    the store's copy alone, against cp -r",
            [f"{m.cp[size] / m.store_copy[size]:.2f}" for size in sizes],
        ),
        row("    documents per second", [f"{per_second[size]:,.0f}" for size in sizes]),
        row("    database: rows written", [f"{database[size].rows:,}" for size in sizes]),
        row(
            "    database: time in statements (s)",
            [f"{database[size].seconds:.2f}" for size in sizes],
        ),
        row(
            "    database: rows written per second of it",
            [f"{database[size].rows_per_second:,.0f}" for size in sizes],
        ),
        row(
            "(c) worker peak RSS, cross-store (MB)",
            [f"{peak[size]:.0f}" for size in sizes],
            "< 200, flat",
            verdict(max(peak.values()) < 200 and flat),
        ),
        row("    worker peak RSS, same-store (MB)", [f"{peak_same[size]:.0f}" for size in sizes]),
        row(f"(d) cross-store move of {plan.scale_out:,}: 1 worker (s)", [f"{one:.2f}"]),
        row("    2 workers (s)", [f"{two:.2f}"]),
        row(
            "    speed-up, 1 worker / 2 workers",
            [f"{one / two:.2f}"],
            ">= 1.7",
            verdict(one / two >= 1.7),
        ),
        row(
            "    documents per second, 2 workers",
            [f"{by_two_per_second:,.0f}"],
            ">= 10,000",
            verdict(by_two_per_second >= 10_000),
        ),
        row("    peak RSS of each of the 2 workers (MB)", [f"{p:.0f}" for p in m.by_two.peak_mb]),
        row(f"(e) move of {n:,} to another filesystem (s)", [f"{m.other_filesystem.seconds:.2f}"]),
        row("    cp -r to that filesystem (s)", [f"{m.cp_elsewhere:.2f}"]),
        row(
            "    throughput against cp -r",
            [f"{elsewhere:.2f}"],
            ">= 0.7",
            verdict(elsewhere >= 0.7),
        ),
        row(
            f"(f) takeover of {administrations} x {each}, 2 workers (s)",
            [f"{m.takeover.seconds:.2f}"],
        ),
        row(
            "    documents per second",
            [f"{taken_per_second:,.0f}"],
            ">= 2,000",
            verdict(taken_per_second >= 2_000),
        ),
        row(
            "    worker-seconds per administration",
            [f"{2 * m.takeover.seconds / administrations:.3f}"],
        ),
        "",
        f"building the archives and offers took {m.built:.0f} s",
    ]


if __name__ == "__main__":
    main()
