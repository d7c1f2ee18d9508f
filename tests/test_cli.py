"""The operator commands, run as ``migrationkit ...`` would run them: ``demo`` shows each step
of a migration of the demo data, ``db upgrade`` makes the schema, bad settings are refused."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect

from migrationkit.adapters.sqlalchemy import make_engine
from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE
from migrationkit.cli import main
from migrationkit.domain import codes

#: A transfer code in full, as shown once: groups of four characters of the code alphabet.
FULL_CODE = re.compile(
    rf"[{codes.ALPHABET}]{{{codes.GROUP}}}(?:-[{codes.ALPHABET}]{{{codes.GROUP}}})"
    rf"{{{codes.LENGTH // codes.GROUP - 1}}}"
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MIGRATIONKIT_* setting of the machine running the tests leaks in, and anything
    written to the working directory lands in the test's own folder."""
    for name in os.environ:
        if name.startswith("MIGRATIONKIT_") and not name.startswith("MIGRATIONKIT_TEST_"):
            monkeypatch.delenv(name)
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


def test_the_demo_shows_each_refusal_with_its_code_and_dutch_message(demo_output: str) -> None:
    refusals = {
        title.removeprefix("Geweigerd: "): lines
        for title, lines in sections(demo_output).items()
        if title.startswith("Geweigerd: ")
    }

    assert list(refusals.values()) == [
        [
            "[authorizers_in_flow] Administratie 1003 Hoveniersbedrijf Groen heeft autorisatoren"
            " in de autorisatieflow Inkoopfacturen. Haal ze eerst uit de flow."
        ],
        [
            "[no_subscription] Omgeving Kantoor West heeft geen abonnement; zonder abonnement"
            " kun je geen administraties ontvangen."
        ],
        [
            "[package_mismatch] Een administratie van Exact Online (NL) kan alleen naar een"
            " koppeling met Exact Online (NL), niet naar Twinfield."
        ],
    ]


def test_the_demo_shows_the_code_once_in_full_and_masked_in_the_overview(
    demo_output: str,
) -> None:
    (code,) = FULL_CODE.findall(demo_output)
    masked = codes.mask_code(codes.code_hint(codes.normalise_code(code)))

    overview = step(sections(demo_output), "Migratie overzicht van Kantoor Noord")

    assert demo_output.count(code) == 1
    assert overview == [
        f"Bakkerij De Korenschoof      {masked}  Aangeboden",
        f"Fietsenmakerij Van Dijk      {masked}  Aangeboden",
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
        "Bakkerij De Korenschoof      Exact Online (NL)  In de wachtrij",
        "Fietsenmakerij Van Dijk      Exact Online (NL)  In de wachtrij",
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
