"""Operator commands: worker, sweep, dispatch-mail, follow, status, verify-report, db upgrade
and demo. Every setting comes from the MIGRATIONKIT_* environment variables
(migrationkit.config), so every machine runs them with the same environment."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from migrationkit import __version__, services
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.logs import configure_logging
from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.adapters.sqlalchemy.status import (
    DatabaseCheck,
    SqlStatusReader,
    check_database,
    sqlite_file,
)
from migrationkit.bootstrap import REDIS_TIMEOUT_SECONDS, build_runtime, database
from migrationkit.config import ConfigError, Settings, masked_url
from migrationkit.demo import PRACTICE, DemoData, practice_administrations, seed
from migrationkit.domain.dates import show_date
from migrationkit.domain.errors import MigrationError, NotFound, Unavailable
from migrationkit.domain.matching import Match
from migrationkit.domain.model import AccountingPackage, ItemStatus, Migration
from migrationkit.ports import QueueInspector
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.outbox import dispatch_outbox
from migrationkit.services.status import (
    MOVE_STATUSES,
    OperatorStatus,
    operator_status,
    status_json,
)
from migrationkit.services.sweeping import sweep
from migrationkit.workers.inprocess import InProcessQueue

if TYPE_CHECKING:
    from redis import Redis

#: What ``follow`` waits for.
FINAL_STATUSES = (ItemStatus.COMPLETED, ItemStatus.FAILED)
BAR_WIDTH = 30

#: Every command's exit codes; ``follow`` says with 0 and 1 how the move ended.
EXIT_OK = EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOST_CONTACT = 3
EXITS = f"""exit codes:
  {EXIT_OK}  done
  {EXIT_FAILED}  the command (or the last round of --every) failed; the message says why
  {EXIT_USAGE}  usage or configuration, said in one line on stderr before anything is made: a bad
     option or MIGRATIONKIT_* setting, a database that is not there, does not answer or has
     not the newest schema (run migrationkit db upgrade), a Redis that does not answer"""
FOLLOW_EXITS = f"""exit codes:
  {EXIT_COMPLETED}  Voltooid: the move completed
  {EXIT_FAILED}  Mislukt: the move failed (the reason is shown)
  {EXIT_USAGE}  usage or configuration: a bad option or MIGRATIONKIT_* setting, an unknown
     migration, a database that is not there, does not answer or has not the newest schema
  {EXIT_LOST_CONTACT}  lost contact: the database did not answer for --lost-contact-after seconds
     (or answered with an error) after follow began, so how the move ends is not known; the
     move goes on"""
#: ``migrationkit verify-report``'s exit codes.
VERIFY_EXITS = f"""exit codes:
  {EXIT_COMPLETED}  the signature holds, the manifest is the one signed (and with --archive every
     document is in the store, byte for byte)
  {EXIT_FAILED}  something differs: each difference is named
  {EXIT_USAGE}  usage or configuration: a file that cannot be read or holds no signed statement,
     a bad public key or MIGRATIONKIT_* setting"""
#: How long ``follow`` keeps trying to reach the database before it gives up (exit 3).
LOST_CONTACT_AFTER_SECONDS = 120.0
#: The longest wait between two tries to reach the database again.
RETRY_CAP_SECONDS = 10.0


def _say(title: str, *lines: str) -> None:
    print(f"\n== {title}")
    for line in lines:
        print(f"   {line}")


def _refused(what: str, action: Callable[[], object]) -> None:
    """Runs an action that the rules must refuse, and shows the refusal."""
    try:
        action()
    except MigrationError as error:
        _say(f"Geweigerd: {what}", f"[{error.code}] {error.message('nl')}")
    else:  # the demo shows the rules at work; a missing refusal is a bug worth shouting
        raise SystemExit(f"demo: expected a refusal for {what}")


def run_demo(home: Path, *, practice: int = 0) -> None:
    """Offers, redeems and starts a migration of the demo data, printing each step; with
    ``practice``, then Zuid's takeover of Kantoor Praktijk's Exact Online administrations."""
    settings = Settings.from_environ({"MIGRATIONKIT_HOME": str(home)})
    upgrade(settings.database_url)
    connectors = InMemoryConnectorRegistry()
    runtime = build_runtime(settings, connectors=connectors)
    deps, queue = runtime.deps, runtime.queue
    assert isinstance(queue, InProcessQueue)  # the demo's settings name no Redis
    with deps.uow() as uow:
        if uow.environments.list():  # the demo's fixed users would clash with the old ones
            raise SystemExit(f"demo: {home} holds demo data already; choose a new --home")
        data = seed(uow, connectors, runtime.archives, practice=practice)
    noord, zuid, west = (data.users[f"{n}@example.nl"] for n in ("noord", "zuid", "west"))
    exact = AccountingPackage.EXACT_ONLINE_NL
    noord_exact = data.connections[("Kantoor Noord", exact)]
    _say("Demo-gegevens", f"database: {settings.database_url}", "wachtwoord: demo")

    _refused(
        "1003 heeft een autorisator in een autorisatieflow",
        lambda: services.offer_administrations(
            deps,
            actor_id=noord,
            connection_id=noord_exact,
            administration_ids=[data.administrations["1003"]],
            recipients=["zuid@example.nl"],
            accepted_terms=True,
        ),
    )
    receipt = services.offer_administrations(
        deps,
        actor_id=noord,
        connection_id=noord_exact,
        administration_ids=[data.administrations["1001"], data.administrations["1002"]],
        recipients=["noord@example.nl", "zuid@example.nl"],
        accepted_terms=True,
    )
    _say(
        "Kantoor Noord biedt 1001 en 1002 (Exact Online) aan",
        f"overdrachtscode (eenmalig getoond): {receipt.code}",
        f"verloopt op: {show_date(receipt.offer.expires_at)}",
    )
    _say(
        "Migratie overzicht van Kantoor Noord",
        *(
            f"{row.administration_name:<28} {row.masked_code}  {row.status.label_nl}"
            for row in services.outgoing_overview(deps, actor_id=noord).rows
        ),
    )
    _refused(
        "Kantoor West heeft geen abonnement",
        lambda: services.redeem_code(
            deps, actor_id=west, code=receipt.code, accepted_terms=True, accepted_costs=True
        ),
    )
    redeemed = services.redeem_code(
        deps, actor_id=zuid, code=receipt.code, accepted_terms=True, accepted_costs=True
    )
    _say(
        "Kantoor Zuid vult de code in",
        *(f"{item.code} {item.name}: {item.status.label_nl}" for item in redeemed.items),
    )
    zuid_exact = data.connections[("Kantoor Zuid", exact)]
    available = services.available_package_administrations(
        deps, actor_id=zuid, connection_id=zuid_exact
    )
    by_name = {pa.name: pa for pa in available}
    _refused(
        "een Twinfield-koppeling voor een Exact Online-administratie",
        lambda: services.start_migrations(
            deps,
            actor_id=zuid,
            offer_id=redeemed.offer.id,
            choices=[
                services.TargetChoice(
                    redeemed.items[0].id,
                    data.connections[("Kantoor Zuid", AccountingPackage.TWINFIELD)],
                    by_name[redeemed.items[0].name].package_admin_id,
                )
            ],
        ),
    )
    migrations = services.start_migrations(
        deps,
        actor_id=zuid,
        offer_id=redeemed.offer.id,
        choices=[
            services.TargetChoice(item.id, zuid_exact, by_name[item.name].package_admin_id)
            for item in redeemed.items
        ],
    )
    offered_codes = {item.id: item.code for item in redeemed.items}
    _say(
        "Kantoor Zuid start de migratie",
        *(
            f"migratie {m.id}: {m.target.code} {m.target.name}"
            + (
                f" (in het pakket gewijzigd van {offered_codes[m.item_id]})"
                if m.target.code != offered_codes[m.item_id]
                else ""
            )
            for m in migrations
        ),
        f"in de wachtrij voor de achtergrondverwerking: {list(queue.pending)}",
    )
    _say(
        "Overzicht van Kantoor Zuid",
        *(
            f"{row.administration_name:<28} {row.package.label:<18} {row.status.label_nl}"
            for row in services.incoming_overview(deps, actor_id=zuid).rows
        ),
    )
    with deps.uow() as uow:
        outbox = uow.outbox.list_recent()
    _say(
        "Uitgaande e-mail (outbox)",
        *(f"{', '.join(m.email.to)}: {m.email.subject}" for m in reversed(outbox)),
    )
    if practice:
        _takeover(deps, data, queue)


def _takeover(deps: Dependencies, data: DemoData, queue: InProcessQueue) -> None:
    """Zuid takes over Kantoor Praktijk: every administration of its Exact Online connection
    in one offer, the proposals accepted, the two the matching cannot find chosen by code."""
    exact = AccountingPackage.EXACT_ONLINE_NL
    seller, buyer = data.users[PRACTICE[3]], data.users["zuid@example.nl"]
    connection_id = data.connections[(PRACTICE[0], exact)]
    offerable = services.offerable_administrations(
        deps, actor_id=seller, connection_id=connection_id
    )
    receipt = services.offer_administrations(
        deps,
        actor_id=seller,
        connection_id=connection_id,
        administration_ids=[a.id for a in offerable],
        recipients=["zuid@example.nl"],
        accepted_terms=True,
    )
    redeemed = services.redeem_code(
        deps, actor_id=buyer, code=receipt.code, accepted_terms=True, accepted_costs=True
    )
    proposals = services.propose_targets(
        deps,
        actor_id=buyer,
        offer_id=redeemed.offer.id,
        item_ids=[item.id for item in redeemed.selectable],
        connection_id=data.connections[("Kantoor Zuid", exact)],
    )
    unmatched = [p.item for p in proposals.proposals if p.match is Match.NONE]
    _say(
        f"Overname: Kantoor Praktijk biedt {len(offerable)} administraties aan, Zuid koppelt ze",
        f"zelfde code: {proposals.count(Match.CODE)}, zelfde naam: "
        f"{proposals.count(Match.NAME)}, geen voorstel: {len(unmatched)}",
        *(f"geen voorstel: {item.code} {item.name}" for item in unmatched),
    )
    counterparts = {e.code: e.counterpart_code for e in practice_administrations(len(offerable))}
    choices, _refusals = proposals.choices(
        {item.id: counterparts[item.code] for item in unmatched}, proposals.fingerprint
    )
    migrations = services.start_migrations(
        deps, actor_id=buyer, offer_id=redeemed.offer.id, choices=choices
    )
    _say(
        "Kantoor Zuid start de migratie van alle administraties",
        f"{len(migrations)} migraties, {len(queue.pending)} in de wachtrij",
    )


def _worker(args: argparse.Namespace) -> int:
    settings = checked_settings(redis=True)
    if args.metrics_port is not None:
        # Before prometheus-client is first imported: RQ's work-horses count into files.
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="migrationkit-metrics-")
        )
    runtime = build_runtime(settings)  # refuses bad settings before any job is taken
    if args.metrics_port is not None:
        try:
            from migrationkit.adapters.metrics import serve
        except ImportError:
            raise ConfigError(
                "--metrics-port needs prometheus-client: pip install 'migrationkit[metrics]'"
            ) from None
        serve(args.metrics_port, runtime.metrics_collector())
    if isinstance(runtime.queue, InProcessQueue):
        print("no MIGRATIONKIT_REDIS_URL: jobs run in this process (embedded mode)", flush=True)
        runtime.queue.work(runtime.deps, runtime.archives, burst=args.burst)
        return 0
    from redis import Redis

    from migrationkit.workers.jobs import WorkerContext
    from migrationkit.workers.rq_worker import run_worker

    assert settings.redis_url is not None
    # One wiring for the worker and its work-horses (with --fork): each horse only opens its
    # connections. Without, the jobs share the worker's connections and statement cache.
    wiring = runtime.deps, runtime.archives
    context = WorkerContext(
        lambda: wiring, after_fork=lambda: runtime.database.dispose(close=False)
    )
    run_worker(
        Redis.from_url(settings.redis_url),
        settings.queue_name,
        context,
        burst=args.burst,
        fork=args.fork,
    )
    return 0


def checked_settings(*, redis: bool = False) -> Settings:
    """The settings from the environment, once the database they name is there, answers
    and has the newest schema, and (with ``redis``) the Redis they name answers. Else a
    ``ConfigError`` that says what is wrong and what to do, raised before anything is made
    (no folder, no SQLite file, no secret key)."""
    settings = Settings.from_environ()
    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        raise ConfigError(
            f"no database at {file}: set MIGRATIONKIT_HOME (or MIGRATIONKIT_DATABASE_URL)"
            " to the one to use, or make it with 'migrationkit db upgrade'"
        )
    check = _check_answers(settings)
    shown = masked_url(settings.database_url)
    if check.revision is None:
        raise ConfigError(
            f"the database {shown} has no migrationkit schema: make it with 'migrationkit db"
            " upgrade', or set MIGRATIONKIT_DATABASE_URL to the database that has it"
        )
    if not check.current:
        raise ConfigError(
            f"the database {shown} has schema revision {check.revision}, this migrationkit"
            f" needs {check.head}: run 'migrationkit db upgrade' with this version"
        )
    if redis and settings.redis_url is not None:
        from migrationkit.adapters.rq.status import check_redis

        problem = check_redis(_redis(settings.redis_url))
        if problem is not None:
            raise ConfigError(
                f"Redis {masked_url(settings.redis_url)} does not answer ({problem}):"
                " check MIGRATIONKIT_REDIS_URL and that the server runs"
            )
    return settings


def _check_answers(settings: Settings) -> DatabaseCheck:
    """The database's check; a ``ConfigError`` when it does not answer."""
    engine = database(settings)
    try:
        check = check_database(engine)
    finally:
        engine.dispose()
    if check.unreachable is not None:
        raise ConfigError(
            f"the database {masked_url(settings.database_url)} does not answer"
            f" ({check.unreachable}): check MIGRATIONKIT_DATABASE_URL and that the server runs"
        )
    return check


def _redis(url: str) -> Redis:
    from redis import Redis  # the ``worker`` extra: embedded mode runs without it

    return Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def _show_status(args: argparse.Namespace) -> int:
    settings = checked_settings(redis=True)
    queues: QueueInspector | None = None
    if settings.redis_url is not None:
        from migrationkit.adapters.rq.status import RQQueueInspector

        queues = RQQueueInspector(_redis(settings.redis_url), settings.queue_name)
    engine = database(settings)
    try:
        status = operator_status(SqlStatusReader(engine), queues)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(status_json(status), indent=2))
    else:
        print("\n".join(status_lines(status)))
    return EXIT_OK


def status_lines(status: OperatorStatus) -> list[str]:
    """``migrationkit status`` for a person: one line per subject, ages by the database's
    clock."""
    shown = status_json(status)
    moves = ", ".join(f"{s.label_nl} {status.database.moves.get(s, 0)}" for s in MOVE_STATUSES)
    lines = [
        f"migrationkit status at {shown['at']} (the database's clock)",
        f"{'moves':<16}{moves}",
    ]
    if status.queues is None:
        lines.append(f"{'queues':<16}none: jobs run in the process (no MIGRATIONKIT_REDIS_URL)")
    for depth in status.queues or ():
        lines.append(
            f"{'queue':<16}{depth.name}: {depth.queued} waiting, {depth.started} running,"
            f" {depth.deferred} deferred, {depth.scheduled} scheduled, {depth.failed} failed"
        )
    stale = shown["stale_leases"]
    lines.append(
        f"{'stale leases':<16}{stale['count']}"
        + (
            ""
            if stale["oldest"] is None
            else f"; the oldest: migration {stale['oldest']['migration_id']},"
            f" ran out {_duration(stale['oldest']['seconds'])} ago"
        )
    )
    outbox = shown["outbox"]
    lines.append(
        f"{'outbox':<16}{outbox['unsent']} unsent"
        + (
            ""
            if outbox["oldest_unsent_seconds"] is None
            else f"; the oldest waits {_duration(outbox['oldest_unsent_seconds'])}"
        )
    )
    failure = shown["oldest_failure"]
    lines.append(
        f"{'oldest failure':<16}"
        + (
            "none"
            if failure is None
            else f"migration {failure['migration_id']}, {ItemStatus.FAILED.label_nl}"
            f" {_duration(failure['seconds'])} ago: {failure['error_code'] or 'no code'}"
        )
    )
    return lines


def _duration(seconds: int | None) -> str:
    """``45s``, ``3m 12s``, ``2h 3m``, ``4d 2h``; ``?`` when not known."""
    if seconds is None:
        return "?"
    for unit, size, smaller, smaller_size in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "m", 60),
        ("m", 60, "s", 1),
    ):
        if seconds >= size:
            return f"{seconds // size}{unit} {seconds % size // smaller_size}{smaller}"
    return f"{seconds}s"


def _sweep(args: argparse.Namespace) -> int:
    # Repeating, it outlives a Redis outage at its start too: Redis only carries wake-ups,
    # and each round says what failed and sends them again.
    deps = build_runtime(checked_settings(redis=args.every is None)).deps

    def once() -> tuple[bool, str]:
        report = sweep(deps)
        requeued = ", ".join(map(str, report.requeued)) or "none"
        after_finish = ", ".join(map(str, report.after_finish)) or "none"
        return True, (
            f"expired items: {report.expired_items}, reminders: {report.reminded_offers},"
            f" migrations woken again: {requeued}, after the finish: {after_finish}"
        )

    return _repeat("sweep", once, args.every)


def _dispatch_mail(args: argparse.Namespace) -> int:
    if Settings.from_environ().smtp is None:
        raise ConfigError(
            "MIGRATIONKIT_SMTP_URL is not set: e-mail waits in the outbox;"
            " set it to smtp://USER:PASSWORD@HOST:PORT to send it"
        )
    runtime = build_runtime(checked_settings())
    mailer = runtime.mailer
    assert mailer is not None  # the settings name an SMTP server

    def once() -> tuple[bool, str]:
        sent = 0
        while True:  # the whole backlog, a limit at a time, unless a send fails
            report = dispatch_outbox(runtime.deps, mailer, limit=args.limit)
            sent += report.sent
            if report.failed or report.sent < args.limit:
                break
        if report.failed:
            return False, f"e-mails sent: {sent}; not sent, kept for the next run: {report.failed}"
        return True, f"e-mails sent: {sent}"

    return _repeat("dispatch-mail", once, args.every)


def _repeat(name: str, once: Callable[[], tuple[bool, str]], every: float | None) -> int:
    """Runs ``once``, or runs it every ``every`` seconds until interrupted. Each run prints
    its line, to stderr when it failed; when repeating, the next run tries again. Exits 1
    when the (last) run failed."""
    while True:
        moment = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            ok, line = once()
        except Exception as error:  # an operator reads it; the next run tries again
            ok, line = False, f"migrationkit {name}: {_describe(error)}"
        print(f"{moment} {line}", file=sys.stdout if ok else sys.stderr, flush=True)
        if every is None:
            return 0 if ok else 1
        time.sleep(every)


def _follow(args: argparse.Namespace) -> int:
    deps = build_runtime(checked_settings()).deps
    try:
        return follow(
            deps,
            args.migration_id,
            out=sys.stdout,
            err=sys.stderr,
            interval=args.interval,
            lost_contact_after=args.lost_contact_after,
        )
    except NotFound as error:
        print(f"migrationkit follow: {_describe(error)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # the database answered with an error: the outcome is unknown
        print(f"migrationkit follow: {_describe(error)}", file=sys.stderr)
        return EXIT_LOST_CONTACT


def follow(
    deps: Dependencies,
    migration_id: int,
    *,
    out: TextIO,
    err: TextIO = sys.stderr,
    interval: float = 1.0,
    lost_contact_after: float = LOST_CONTACT_AFTER_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Shows a migration's progress until it is Voltooid (``EXIT_COMPLETED``) or Mislukt
    (``EXIT_FAILED``, with the reason): a bar redrawn in place on a terminal, a line per
    change otherwise. While the database does not answer (``Unavailable``: a restart, a
    lost connection) it tries again, waiting twice as long each time up to
    ``RETRY_CAP_SECONDS``, and says so on ``err``; after ``lost_contact_after`` seconds
    without an answer it gives up with ``EXIT_LOST_CONTACT``. An unknown migration raises
    ``NotFound``."""
    redraw = out.isatty()
    shown = ""
    lost_since: float | None = None
    wait = interval
    while True:
        try:
            migration, status = _status(deps, migration_id)
        except Unavailable as error:
            now = clock()
            if lost_since is None:
                lost_since = now
                if redraw and shown:  # the message goes below the bar
                    out.write("\n")
                    out.flush()
                    shown = ""
                err.write(
                    f"migrationkit follow: {_describe(error)};"
                    f" trying again for up to {lost_contact_after:g} s\n"
                )
                err.flush()
            left = lost_since + lost_contact_after - now
            if left <= 0:
                err.write(
                    f"migrationkit follow: lost contact: no answer from the database for"
                    f" {now - lost_since:.0f} s; the move goes on without being followed\n"
                )
                err.flush()
                return EXIT_LOST_CONTACT
            sleep(min(wait, left))
            wait = min(wait * 2, max(interval, RETRY_CAP_SECONDS))
            continue
        if lost_since is not None:
            err.write("migrationkit follow: the database answers again\n")
            err.flush()
            lost_since, wait = None, interval
        line = progress_line(migration, status)
        if redraw:
            out.write("\r" + line.ljust(len(shown)))
        elif line != shown:
            out.write(line + "\n")
        shown = line
        if status in FINAL_STATUSES:
            if redraw:
                out.write("\n")
            if status is ItemStatus.FAILED:
                out.write(f"reason: {migration.failure_message()}\n")
            out.flush()
            return EXIT_COMPLETED if status is ItemStatus.COMPLETED else EXIT_FAILED
        out.flush()
        sleep(interval)


def _status(deps: Dependencies, migration_id: int) -> tuple[Migration, ItemStatus]:
    """The migration and its status now."""
    with deps.uow() as uow:
        migration = uow.migrations.get(migration_id)
        item = uow.items.get(migration.item_id) if migration else None
    if migration is None or item is None:
        raise NotFound("unknown_migration")
    return migration, item.status


def progress_line(migration: Migration, status: ItemStatus) -> str:
    """``[#####-----]  50%  1000/2000 documents  1.2/2.4 MB  Aan het verwerken``"""
    total, done = migration.documents_total, migration.documents_done
    if status is ItemStatus.COMPLETED:
        percent = 100
    else:
        percent = min(100, done * 100 // total) if total else 0
    filled = BAR_WIDTH * percent // 100
    return (
        f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {percent:3d}%"
        f"  {done}/{total} documents"
        f"  {_size(migration.bytes_done)}/{_size(migration.bytes_total)}"
        f"  {status.label_nl}"
    )


def _size(count: int) -> str:
    """Bytes in the decimal units a person reads: 999 B, 1.2 kB, 3.4 MB, 5.6 GB."""
    if count < 1000:
        return f"{count} B"
    size, unit = count / 1000, "kB"
    for bigger in ("MB", "GB"):
        if size < 1000:
            break
        size, unit = size / 1000, bigger
    return f"{size:.1f} {unit}"


def _describe(error: BaseException) -> str:
    """What an operator reads: a refusal's English message (with the database's own words
    when the database was busy or away), or the error's type and text."""
    if isinstance(error, Unavailable) and error.__cause__ is not None:
        cause = getattr(error.__cause__, "orig", None) or error.__cause__
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        return f"{error.message('en')} ({type(cause).__name__}: {first_line})"
    if isinstance(error, MigrationError):
        return error.message("en")
    return f"{type(error).__name__}: {error}"


def make_parser() -> argparse.ArgumentParser:
    """The command line: each command, its options and its help."""
    parser = argparse.ArgumentParser(
        prog="migrationkit",
        description=__doc__,
        epilog=EXITS + "\n\nmigrationkit follow has exit codes of its own (its --help).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"migrationkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="run jobs: an RQ worker with MIGRATIONKIT_REDIS_URL, else in this process"
    )
    worker.add_argument("--burst", action="store_true", help="stop when no job waits")
    worker.add_argument(
        "--fork",
        action="store_true",
        help="run each job in a work-horse process of its own (RQ's forking worker)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://0.0.0.0:PORT/metrics (the metrics extra)",
    )
    sweeper = commands.add_parser(
        "sweep", help="expire offers, send reminders, wake workers for what should run"
    )
    sweeper.add_argument("--every", type=_seconds, metavar="SECONDS", help="repeat forever")
    mail = commands.add_parser("dispatch-mail", help="send the outbox's e-mail over SMTP")
    mail.add_argument("--every", type=_seconds, metavar="SECONDS", help="repeat forever")
    mail.add_argument("--limit", type=int, default=100, help="e-mails per round (100)")
    follower = commands.add_parser(
        "follow",
        help="show a migration's progress until it ends",
        description="Shows a migration's progress until it is Voltooid or Mislukt.",
        epilog=FOLLOW_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    follower.add_argument("migration_id", type=int, metavar="MIGRATION_ID")
    follower.add_argument("--interval", type=_seconds, default=1.0, help="seconds (1)")
    follower.add_argument(
        "--lost-contact-after",
        type=_seconds,
        default=LOST_CONTACT_AFTER_SECONDS,
        metavar="SECONDS",
        help="give up (exit 3) when the database does not answer for this long"
        f" ({LOST_CONTACT_AFTER_SECONDS:g})",
    )
    status = commands.add_parser(
        "status",
        help="one screen for an operator: moves, queues, stale leases, outbox, failures",
        description="Moves per status, the depth of each job queue, leases that ran out, the"
        " outbox's backlog and the move Mislukt the longest, by the database's clock.",
        epilog=EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument(
        "--json", action="store_true", help="print JSON (its shape: docs/operations.md)"
    )
    verifier = commands.add_parser(
        "verify-report",
        help="check a Migratieverslag's signature, its manifest and the archive",
        description="Checks a Migratieverslag (its PDF, or its migratieverslag.json) against"
        " its manifest (JSON Lines or CSV) and, with --archive, every document in the archive"
        " stores of the MIGRATIONKIT_* settings.",
        epilog=VERIFY_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verifier.add_argument("report", type=Path, metavar="REPORT")
    verifier.add_argument("manifest", type=Path, metavar="MANIFEST")
    verifier.add_argument(
        "--public-key",
        metavar="KEY",
        help="the server's public key (base64 or PEM, or a file holding it), as served at"
        " /api/v1/report-key; default: this server's own, from MIGRATIONKIT_SECRET_KEY",
    )
    verifier.add_argument(
        "--archive", action="store_true", help="read every document from the archive stores"
    )
    db = commands.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"], help="bring the schema to the newest version")
    demo = commands.add_parser("demo", help="offer, redeem and start a migration of demo data")
    demo.add_argument(
        "--home", type=Path, help="folder for the demo database (default: a new temporary one)"
    )
    demo.add_argument(
        "--practice",
        type=int,
        default=0,
        metavar="N",
        help="seed Kantoor Praktijk with N administrations too, and show Zuid taking it over",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        _configure_logging()
        return _COMMANDS[args.command](args)
    except ConfigError as error:
        print(f"migrationkit: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a database or Redis away, a refusal: said plainly
        logging.getLogger(__name__).debug("migrationkit %s failed", args.command, exc_info=True)
        print(f"migrationkit {args.command}: {_describe(error)}", file=sys.stderr)
        return EXIT_FAILED


def _configure_logging() -> None:
    settings = Settings.from_environ()
    configure_logging(settings.log_format, settings.log_level)


def _seconds(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {raw}")
    return value


def _demo(args: argparse.Namespace) -> int:
    run_demo(
        args.home or Path(tempfile.mkdtemp(prefix="migrationkit-demo-")), practice=args.practice
    )
    return 0


def _verify_report(args: argparse.Namespace) -> int:
    # Imported here: the report's PDF needs the ``report`` extra (fpdf2, pypdf).
    from migrationkit.adapters.archive import archive_stores
    from migrationkit.adapters.report_check import verify_report
    from migrationkit.adapters.signing import public_key_from_text, report_key

    settings = Settings.from_environ()
    try:
        report, manifest = args.report.read_bytes(), args.manifest.read_bytes()
        if args.public_key is None:
            public_key = report_key(settings.code_secret()).public_key
        else:
            given = Path(args.public_key)
            public_key = public_key_from_text(
                given.read_text() if given.is_file() else args.public_key
            )
        archives = None
        if args.archive:
            archives = archive_stores(
                settings.archive_locations, default_root=settings.archive_root
            )
        verification = verify_report(report, manifest, public_key=public_key, archives=archives)
    except (OSError, ValueError) as error:
        print(f"migrationkit verify-report: {error}", file=sys.stderr)
        return EXIT_USAGE
    for difference in verification.differences:
        print(f"DIFFERS: {difference}")
    if not verification.holds:
        return EXIT_FAILED
    checked = f"; {verification.documents_checked} documents read" if args.archive else ""
    print(f"OK: the signature holds and the manifest is the one signed{checked}")
    return EXIT_COMPLETED


def _db(args: argparse.Namespace) -> int:
    settings = Settings.from_environ()
    if sqlite_file(settings.database_url) is None:  # a SQLite file is made by the upgrade
        _check_answers(settings)
    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "worker": _worker,
    "sweep": _sweep,
    "dispatch-mail": _dispatch_mail,
    "follow": _follow,
    "status": _show_status,
    "verify-report": _verify_report,
    "db": _db,
    "demo": _demo,
}


if __name__ == "__main__":
    raise SystemExit(main())
