"""The operator commands, run as ``migrationkit ...`` would run them: ``demo`` shows each step
of a migration of the demo data, ``db upgrade`` makes the schema, bad settings are refused."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue
from sqlalchemy import inspect, text

from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE
from migrationkit.cli import main
from migrationkit.domain import codes
from migrationkit.domain.errors import NotFound, RuleViolation
from served import free_port

#: A transfer code in full, as shown once: groups of four characters of the code alphabet.
FULL_CODE = re.compile(
    rf"[{codes.ALPHABET}]{{{codes.GROUP}}}(?:-[{codes.ALPHABET}]{{{codes.GROUP}}})"
    rf"{{{codes.LENGTH // codes.GROUP - 1}}}"
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MIGRATIONKIT_* setting of the machine running the tests leaks in, the commands
    run in demo mode (the demo's in-memory packages, no credentials), and anything written
    to the working directory lands in the test's own folder."""
    for name in os.environ:
        if name.startswith("MIGRATIONKIT_") and not name.startswith("MIGRATIONKIT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIGRATIONKIT_DEMO", "1")
    monkeypatch.chdir(tmp_path)


def sections(output: str) -> dict[str, list[str]]:
    """The demo's output by step: the title after ``==``, and the lines under it."""
    steps: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith("== "):
            lines = steps.setdefault(line.removeprefix("== "), [])
        elif line.strip():
            lines.append(line.strip())
    return steps


def step(steps: dict[str, list[str]], title_start: str) -> list[str]:
    (lines,) = [lines for title, lines in steps.items() if title.startswith(title_start)]
    return lines


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "demo"


@pytest.fixture(scope="module")
def demo_output(demo_home: Path) -> str:
    """What one run of the demo printed; the tests below read it, so it runs once."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--home", str(demo_home)]) == 0
    return printed.getvalue()


def test_the_demo_with_a_practice_shows_zuid_taking_it_over_on_the_proposals(
    tmp_path: Path,
) -> None:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--home", str(tmp_path / "demo"), "--practice", "30"]) == 0
    steps = sections(printed.getvalue())

    assert step(steps, "Overname: Kantoor Praktijk biedt 30 administraties aan") == [
        "zelfde code: 27, zelfde naam: 1, geen voorstel: 2",
        "geen voorstel: 60007 Installatiebedrijf De Vries",
        "geen voorstel: 60013 Tandartspraktijk De Vries",
    ]
    assert step(steps, "Kantoor Zuid start de migratie van alle") == [
        "30 migraties, 32 in de wachtrij"
    ]


def test_the_demo_shows_each_refusal_with_its_code_and_dutch_message(demo_output: str) -> None:
    refusals = {
        title.removeprefix("Geweigerd: "): lines
        for title, lines in sections(demo_output).items()
        if title.startswith("Geweigerd: ")
    }

    expected = [
        RuleViolation(
            "authorizers_in_flow",
            code="1003",
            name="Hoveniersbedrijf Groen",
            flows="Inkoopfacturen",
        ),
        RuleViolation("no_subscription", environment="Kantoor West"),
        RuleViolation(
            "package_mismatch", source_package="Exact Online (NL)", target_package="Twinfield"
        ),
    ]
    assert list(refusals.values()) == [[f"[{error.code}] {error}"] for error in expected]


def test_the_demo_shows_the_code_once_in_full_and_masked_in_the_overview(
    demo_output: str,
) -> None:
    (code,) = FULL_CODE.findall(demo_output)
    masked = codes.mask_code(codes.code_hint(codes.normalise_code(code)))

    overview = step(sections(demo_output), "Migratie overzicht van Kantoor Noord")

    assert demo_output.count(code) == 1
    assert overview == [
        # One offer, one moment: the later item first, as the overview pages them.
        f"Fietsenmakerij Van Dijk      {masked}  Aangeboden",
        f"Bakkerij De Korenschoof      {masked}  Aangeboden",
    ]
    assert code.rsplit("-", 1)[1] == masked.rsplit("-", 1)[1]


def test_the_demo_starts_both_migrations_and_queues_them(demo_output: str) -> None:
    steps = sections(demo_output)

    started = step(steps, "Kantoor Zuid start de migratie")
    assert started[0] == "migratie 1: 1001 Bakkerij De Korenschoof"
    # The package moved 1002 under another code; the migration takes the package's code.
    assert started[1].startswith("migratie 2: 7002 Fietsenmakerij Van Dijk")
    assert started[2] == "in de wachtrij voor de achtergrondverwerking: [1, 2]"
    assert step(steps, "Overzicht van Kantoor Zuid") == [
        "Fietsenmakerij Van Dijk      Exact Online (NL)  In de wachtrij",
        "Bakkerij De Korenschoof      Exact Online (NL)  In de wachtrij",
    ]


def test_the_demo_lists_the_outbox_code_mail_first_then_the_start_mail(
    demo_output: str,
) -> None:
    outbox = step(sections(demo_output), "Uitgaande e-mail")

    assert [line.split(": ", 1)[0] for line in outbox] == ["zuid@example.nl", "noord@example.nl"]
    assert outbox[0].split(": ", 1)[1].startswith("Migratieverzoek")
    assert outbox[1].split(": ", 1)[1].startswith("Migratie gestart")


def test_the_demo_keeps_its_database_in_the_home_it_is_given(
    demo_home: Path, demo_output: str
) -> None:
    database = demo_home / "migrationkit.sqlite3"

    assert f"database: sqlite:///{database}" in step(sections(demo_output), "Demo-gegevens")
    assert database.is_file()


def test_a_second_demo_in_the_same_home_is_refused_with_a_clear_message(
    demo_home: Path, demo_output: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["demo", "--home", str(demo_home)])

    assert str(refused.value) == f"demo: {demo_home} holds demo data already; choose a new --home"


def test_db_upgrade_makes_the_schema_in_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "operator.sqlite3"
    monkeypatch.setenv("MIGRATIONKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MIGRATIONKIT_DATABASE_URL", f"sqlite:///{database}")

    assert main(["db", "upgrade"]) == 0

    assert capsys.readouterr().out == "database schema is up to date\n"
    engine = make_engine(f"sqlite:///{database}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"transfer_offers", "offer_items", "migrations", VERSION_TABLE} <= tables


def test_a_bad_setting_stops_the_command_with_exit_code_2_and_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "operator.sqlite3"
    monkeypatch.setenv("MIGRATIONKIT_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MIGRATIONKIT_OFFER_VALID_DAYS", "vijftien")

    assert main(["db", "upgrade"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "migrationkit: MIGRATIONKIT_OFFER_VALID_DAYS must be a whole number, not 'vijftien'\n"
    )
    assert not database.exists()


def test_without_a_command_the_usage_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([])

    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith("usage: migrationkit")


# --- the runtime's commands: worker, follow, sweep, dispatch-mail -------------------------------


class Inbox:
    """A local SMTP server's handler: the Message-ID of each e-mail received."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


def run(*argv: str) -> tuple[int, str, str]:
    """``migrationkit ARGV`` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def in_demo_home(demo_home: Path, demo_output: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo's home as this process's MIGRATIONKIT_HOME: its two migrations started."""
    monkeypatch.setenv("MIGRATIONKIT_HOME", str(demo_home))
    return demo_home


@pytest.fixture
def worked(in_demo_home: Path) -> str:
    """``migrationkit worker --burst`` has run the demo's migrations in embedded mode."""
    code, out, err = run("worker", "--burst")
    assert code == 0
    # Its stderr holds its log: JSON lines (not a terminal), nothing worse than info.
    logged = [json.loads(line) for line in err.splitlines()]
    assert {event["level"] for event in logged} <= {"info"}
    return out


def test_the_embedded_worker_runs_the_started_migrations_and_follow_shows_them_done(
    worked: str,
) -> None:
    assert worked == "no MIGRATIONKIT_REDIS_URL: jobs run in this process (embedded mode)\n"

    code, out, _ = run("follow", "2")

    assert code == 0
    assert out == (f"[{'#' * 30}] 100%  12/12 documents  12.1 kB/12.1 kB  Voltooid\n")


def test_a_sweep_reports_what_it_did(worked: str) -> None:
    code, out, err = run("sweep")

    assert (code, err) == (0, "")
    assert out.endswith(
        " expired items: 0, reminders: 0, migrations woken again: none, after the finish: none\n"
    )


def test_following_an_unknown_migration_says_so_and_exits_2(in_demo_home: Path) -> None:
    unknown = NotFound("unknown_migration").message("en")
    assert run("follow", "99") == (2, "", f"migrationkit follow: {unknown}\n")


def test_follows_help_names_each_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["follow", "--help"])
    shown = capsys.readouterr().out

    for code, meaning in ((0, "Voltooid"), (1, "Mislukt"), (2, "usage"), (3, "lost contact")):
        assert f"  {code}  {meaning}" in shown


def test_dispatch_mail_needs_an_smtp_server(in_demo_home: Path) -> None:
    code, out, err = run("dispatch-mail")

    assert (code, out) == (2, "")
    assert err == (
        "migrationkit: MIGRATIONKIT_SMTP_URL is not set: e-mail waits in the outbox;"
        " set it to smtp://USER:PASSWORD@HOST:PORT to send it\n"
    )


def test_dispatch_mail_sends_the_outbox_once_and_keeps_it_while_the_server_is_down(
    in_demo_home: Path, worked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("MIGRATIONKIT_SMTP_URL", f"smtp://127.0.0.1:{port}")
    code, _, err = run("dispatch-mail")
    assert code == 1
    assert err.endswith(" e-mails sent: 0; not sent, kept for the next run: 3\n")

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        first = run("dispatch-mail")
        second = run("dispatch-mail")
    finally:
        server.stop()

    engine = make_engine(f"sqlite:///{in_demo_home / 'migrationkit.sqlite3'}")
    try:
        with engine.connect() as connection:
            outbox_size = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    assert first[0] == 0
    assert first[1].endswith(f" e-mails sent: {outbox_size}\n")
    assert second[1].endswith(" e-mails sent: 0\n")
    assert inbox.message_ids == [f"<outbox-{n}@localhost>" for n in range(1, outbox_size + 1)]


@pytest.mark.redis
def test_with_redis_a_sweep_wakes_rq_workers_for_the_waiting_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    home = tmp_path / "demo"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--home", str(home)]) == 0
    url = urlunsplit(urlsplit(redis_url)._replace(path="/7"))
    redis = Redis.from_url(url)
    redis.flushdb()
    monkeypatch.setenv("MIGRATIONKIT_HOME", str(home))
    monkeypatch.setenv("MIGRATIONKIT_REDIS_URL", url)
    try:
        code, out, _ = run("sweep")
        queued = Queue("migrationkit", connection=redis).job_ids
    finally:
        redis.flushdb()
        redis.close()

    assert code == 0
    assert out.endswith(" migrations woken again: 1, 2, after the finish: none\n")
    # Wake-ups go to the front of the queue, so the order is not what this test shows.
    assert sorted(queued) == ["migration-1", "migration-2"]


def test_sweep_every_repeats_until_stopped(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    environment |= {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_DEMO": "1"}
    subprocess.run(
        [sys.executable, "-m", "migrationkit.cli", "db", "upgrade"], env=environment, check=True
    )
    sweeper = subprocess.Popen(
        [sys.executable, "-m", "migrationkit.cli", "sweep", "--every", "0.1"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sweeper.stdout is not None
        lines = [sweeper.stdout.readline() for _ in range(2)]
    finally:
        sweeper.terminate()
        sweeper.wait(10)

    assert all(
        line.endswith("migrations woken again: none, after the finish: none\n") for line in lines
    )


def test_a_database_unreachable_when_follow_begins_is_said_plainly_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Exit 2, not 3: nothing was followed yet, so the settings are the likely fault (a
    database lost after the start is exit 3, tests/reliability/test_follow.py)."""
    monkeypatch.setenv("MIGRATIONKIT_HOME", str(tmp_path))
    monkeypatch.setenv(
        "MIGRATIONKIT_DATABASE_URL", "postgresql+psycopg://app:geheim@127.0.0.1:1/migrationkit"
    )

    code, out, err = run("follow", "1", "--lost-contact-after", "0.1")

    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "does not answer (OperationalError: " in line
    assert "MIGRATIONKIT_DATABASE_URL" in line
    assert "geheim" not in err
