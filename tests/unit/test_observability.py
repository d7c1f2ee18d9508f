"""The logs and the counts of a move's events: each with its ids, through one chain of
processors (structlog's and the standard library's records alike), as JSON or console
lines; and the metrics port, which counts nothing unless given a collector."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from typing import TYPE_CHECKING

import attrs
import pytest
import structlog

from migrationkit import services
from migrationkit.adapters.logs import carried, configure_logging
from migrationkit.config import ConfigError, Settings
from migrationkit.domain.errors import ArchiveError, MigrationError
from migrationkit.services.dependencies import NoMetrics
from migrationkit.workers.inprocess import InProcessQueue

if TYPE_CHECKING:
    from conftest import Scene

IDS = ("migration_id", "offer_id", "item_id", "environment_id", "attempt")


@attrs.define
class CountedMetrics:
    """A ``Metrics`` that keeps what it was told."""

    told: list[tuple[str, dict[str, object]]] = attrs.Factory(list)

    def move_claimed(self) -> None:
        self.told.append(("move_claimed", {}))

    def batch_committed(self, *, documents: int, bytes_copied: int, seconds: float) -> None:
        self.told.append(("batch_committed", {"documents": documents, "bytes": bytes_copied}))

    def move_ended(self, *, status: str, seconds: float | None, error_code: str | None) -> None:
        self.told.append(("move_ended", {"status": status, "error_code": error_code}))

    def sweep_ran(self, *, requeued: int) -> None:
        self.told.append(("sweep_ran", {"requeued": requeued}))

    def locked_out(self, what: str) -> None:
        self.told.append(("locked_out", {"what": what}))

    def sign_in_refused(self) -> None:
        self.told.append(("sign_in_refused", {}))


@pytest.fixture
def lines() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("json", logging.DEBUG, stream=stream)
    yield stream
    configure_logging("json", logging.WARNING)


def events(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_claim_a_finish_and_a_sweep_are_logged_with_the_moves_ids_and_counted(
    scene: Scene, lines: io.StringIO
) -> None:
    counted = CountedMetrics()
    scene.deps = attrs.evolve(scene.deps, metrics=counted)
    receipt, migration = scene.processing()
    services.complete_migration(scene.deps, migration.id)
    services.sweep(scene.deps)

    logged = {event["event"]: event for event in events(lines)}
    expected = {
        "migration_id": migration.id,
        "offer_id": receipt.offer.id,
        "item_id": migration.item_id,
        "environment_id": migration.target_environment_id,
    }
    for name in ("migration_queued", "migration_claimed", "migration_finished"):
        assert {key: logged[name][key] for key in expected} == expected, name
    assert logged["migration_claimed"]["attempt"] == 1
    assert logged["migration_finished"]["level"] == "info"
    assert "sweep_ran" in logged
    assert [name for name, _ in counted.told] == [
        "move_claimed",
        "move_ended",
        "sweep_ran",
    ]
    assert counted.told[1][1] == {"status": "completed", "error_code": None}


def test_a_failure_is_logged_and_counted_by_its_error_code(
    scene: Scene, lines: io.StringIO
) -> None:
    counted = CountedMetrics()
    scene.deps = attrs.evolve(scene.deps, metrics=counted)
    _, migration = scene.processing()
    services.fail_migration(scene.deps, migration.id, ArchiveError("archive_full", store="zuid"))

    [failed] = [event for event in events(lines) if event["event"] == "migration_failed"]
    assert failed["error_code"] == "archive_full"
    assert failed["level"] == "warning"
    assert set(IDS) <= set(failed)
    assert counted.told[-1] == ("move_ended", {"status": "failed", "error_code": "archive_full"})


def test_a_lockout_and_refused_sign_ins_are_counted(scene: Scene) -> None:
    counted = CountedMetrics()
    deps = attrs.evolve(scene.deps, metrics=counted)
    refusals = deps.policy.sign_in_lockout.max_failures + 1
    for _ in range(refusals):
        with pytest.raises(MigrationError):
            services.sign_in(deps, email="baas@noord.nl", password_matches=lambda _: False)
    told = [name for name, _ in counted.told]
    assert told.count("sign_in_refused") == refusals
    assert ("locked_out", {"what": "sign_in"}) in counted.told


def test_the_use_cases_count_nothing_unless_given_metrics(scene: Scene) -> None:
    assert isinstance(scene.deps.metrics, NoMetrics)


def test_standard_library_and_structlog_lines_go_through_the_same_processors(
    lines: io.StringIO,
) -> None:
    with structlog.contextvars.bound_contextvars(request_id="r-1"):
        logging.getLogger("rq.worker").info("Job %s OK", "migration-3", extra={"queue": "q"})
        structlog.get_logger("migrationkit.x").info("happened", migration_id=3, password="x")
    rq, ours = events(lines)
    assert rq["event"] == "Job migration-3 OK"
    assert (rq["queue"], rq["request_id"], rq["logger"]) == ("q", "r-1", "rq.worker")
    assert "message" not in rq
    assert (ours["migration_id"], ours["request_id"]) == (3, "r-1")
    assert ours["password"] == "***"  # a key that names a secret is masked
    assert all(event["timestamp"] and event["level"] == "info" for event in (rq, ours))


def test_a_logged_exception_shows_no_local_variable(lines: io.StringIO) -> None:
    secret_in_a_frame = "Geheim-in-een-frame"
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("migrationkit.y").exception("it failed")
    assert secret_in_a_frame not in lines.getvalue()
    [event] = events(lines)
    assert event["exception"][0]["exc_type"] == "ValueError"  # type: ignore[index]


def test_console_lines_are_readable_not_json() -> None:
    stream = io.StringIO()
    configure_logging("console", stream=stream)
    try:
        logging.getLogger("migrationkit.z").warning("plain", extra={"migration_id": 7})
    finally:
        configure_logging("json", logging.WARNING)
    line = stream.getvalue()
    assert "plain" in line
    assert "migration_id=7" in line
    assert not line.startswith("{")
    assert "\x1b[" not in line  # no colours off a terminal


def test_the_log_format_and_level_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = {"MIGRATIONKIT_LOG_FORMAT": "console", "MIGRATIONKIT_LOG_LEVEL": "debug"}
    given = Settings.from_environ(environ)
    assert (given.log_format, given.log_level) == ("console", "DEBUG")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert Settings.from_environ({}).log_format == "json"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert Settings.from_environ({}).log_format == "console"
    for name, bad in (("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")):
        with pytest.raises(ConfigError, match=f"MIGRATIONKIT_{name}"):
            Settings.from_environ({f"MIGRATIONKIT_{name}": bad})


def test_an_in_process_job_carries_the_request_id_of_its_enqueueing() -> None:
    queue = InProcessQueue()
    with structlog.contextvars.bound_contextvars(request_id="req-42", user="not carried"):
        assert carried() == {"request_id": "req-42"}
        queue.enqueue_migration(5)
    queue.enqueue_migration(5)  # the same job: not added twice
    assert queue.pending == (5,)
    assert queue._jobs[0].carried == {"request_id": "req-42"}


def test_the_library_runs_without_prometheus_client() -> None:
    script = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from migrationkit.bootstrap import build_runtime\n"
        "from migrationkit.config import Settings\n"
        "import tempfile\n"
        "home = tempfile.mkdtemp()\n"
        "environ = {'MIGRATIONKIT_HOME': home, 'MIGRATIONKIT_DEMO': '1'}\n"
        "runtime = build_runtime(Settings.from_environ(environ))\n"
        "print(type(runtime.deps.metrics).__name__)\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "NoMetrics"
