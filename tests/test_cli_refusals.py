"""Every command run against a database that is not there, has no schema (or an old one),
does not answer, a Redis that does not answer, or a malformed URL: one line on stderr that
names the variable and what to do, exit 2, and nothing made (no folder, no SQLite file, no
secret key). Each runs as ``migrationkit`` runs, in a process of its own, in an empty folder.
And every ``--help`` reads as plain text: no reStructuredText markup."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrationkit.adapters.sqlalchemy import make_engine, upgrade
from migrationkit.adapters.sqlalchemy.status import check_database
from migrationkit.cli import make_parser
from migrationkit.testing._databases import throwaway_database
from served import free_port

#: Each command that works on the database, as an operator would start it.
DATABASE_COMMANDS = [
    ("worker", "--burst"),
    ("sweep",),
    ("dispatch-mail",),
    ("follow", "1"),
    ("status",),
    ("status", "--json"),
]
#: Each command that talks to Redis when MIGRATIONKIT_REDIS_URL names one.
REDIS_COMMANDS = [("worker", "--burst"), ("sweep",), ("status",)]
#: dispatch-mail first asks for an SMTP server; one is named so it goes on to the database.
SMTP = {"MIGRATIONKIT_SMTP_URL": "smtp://127.0.0.1:2525"}


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """The empty folder the command runs in."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def refused(cwd: Path, settings: dict[str, str], *argv: str) -> str:
    """Runs ``migrationkit ARGV`` in ``cwd`` with only ``settings`` as MIGRATIONKIT_*;
    asserts exit 2, nothing on stdout, one line on stderr, ``cwd`` still empty; that line."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATIONKIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "migrationkit.cli", *argv],
        env=environment | SMTP | settings,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("migrationkit: ")
    assert list(cwd.iterdir()) == []
    return line


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=" ".join)
def test_without_a_home_nothing_is_made_and_the_variables_are_named(
    cwd: Path, argv: tuple[str, ...]
) -> None:
    line = refused(cwd, {}, *argv)

    assert f"no database at {cwd.resolve()}/migrationkit-data/migrationkit.sqlite3" in line
    assert "MIGRATIONKIT_HOME" in line
    assert "MIGRATIONKIT_DATABASE_URL" in line
    assert "'migrationkit db upgrade'" in line


@pytest.fixture
def schemaless_sqlite(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A home whose SQLite file exists but holds no schema; the home gains nothing."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "migrationkit.sqlite3").touch()
    yield {"MIGRATIONKIT_HOME": str(home)}
    assert [path.name for path in home.iterdir()] == ["migrationkit.sqlite3"]


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=" ".join)
def test_a_sqlite_database_without_the_schema_is_said_with_the_command_that_makes_it(
    cwd: Path, schemaless_sqlite: dict[str, str], argv: tuple[str, ...]
) -> None:
    line = refused(cwd, schemaless_sqlite, *argv)

    assert "has no migrationkit schema: make it with 'migrationkit db upgrade'" in line
    assert "MIGRATIONKIT_DATABASE_URL" in line


@pytest.mark.postgres
def test_a_postgresql_database_without_the_schema_is_said_with_the_command_that_makes_it(
    cwd: Path, postgres_url: str
) -> None:
    with throwaway_database(postgres_url, prefix="mk_cli") as url:
        for argv in DATABASE_COMMANDS:
            line = refused(cwd, {"MIGRATIONKIT_DATABASE_URL": url}, *argv)

            assert "has no migrationkit schema: make it with 'migrationkit db upgrade'" in line


def test_an_old_schema_is_said_with_its_revision_and_the_command_that_brings_it_up(
    cwd: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    upgrade(f"sqlite:///{home / 'migrationkit.sqlite3'}", revision="0007")

    line = refused(cwd, {"MIGRATIONKIT_HOME": str(home)}, "status")

    head = check_database(make_engine(f"sqlite:///{tmp_path / 'newest.sqlite3'}")).head
    assert f"has schema revision 0007, this migrationkit needs {head}" in line
    assert "'migrationkit db upgrade'" in line


@pytest.mark.parametrize("argv", [*DATABASE_COMMANDS, ("db", "upgrade")], ids=" ".join)
def test_a_database_that_does_not_answer_is_named_without_its_password(
    cwd: Path, argv: tuple[str, ...]
) -> None:
    url = f"postgresql+psycopg://app:geheim@127.0.0.1:{free_port()}/migrationkit"

    line = refused(cwd, {"MIGRATIONKIT_DATABASE_URL": url}, *argv)

    assert line.startswith(
        f"migrationkit: the database postgresql+psycopg://app:***@127.0.0.1:{url.split(':')[3]}"
    )
    assert "does not answer (OperationalError: " in line
    assert "check MIGRATIONKIT_DATABASE_URL and that the server runs" in line
    assert "geheim" not in line


@pytest.fixture(scope="module")
def upgraded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("upgraded") / "home"
    upgrade(f"sqlite:///{home / 'migrationkit.sqlite3'}")
    return home


@pytest.mark.parametrize("argv", REDIS_COMMANDS, ids=" ".join)
def test_a_redis_that_does_not_answer_is_named_and_no_secret_key_is_made(
    cwd: Path, upgraded_home: Path, argv: tuple[str, ...]
) -> None:
    settings = {
        "MIGRATIONKIT_HOME": str(upgraded_home),
        "MIGRATIONKIT_REDIS_URL": f"redis://:geheim@127.0.0.1:{free_port()}/0",
    }

    line = refused(cwd, settings, *argv)

    assert "migrationkit: Redis redis://:***@127.0.0.1:" in line
    assert "does not answer (ConnectionError: " in line
    assert "check MIGRATIONKIT_REDIS_URL and that the server runs" in line
    assert "geheim" not in line
    assert not (upgraded_home / "secret.key").exists()


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("MIGRATIONKIT_DATABASE_URL", "nonsense", "must be sqlite:///PATH or postgresql"),
        ("MIGRATIONKIT_DATABASE_URL", "mysql://app@db/mk", "must be sqlite:///PATH or postgresql"),
        (
            "MIGRATIONKIT_DATABASE_URL",
            "postgresql+psycopg://app:geheim@db:port/mk",
            "has no valid host and port: 'postgresql+psycopg://app:***@db:port/mk'",
        ),
        ("MIGRATIONKIT_REDIS_URL", "http://redis:6379", "must start with redis://"),
        (
            "MIGRATIONKIT_REDIS_URL",
            "redis://:geheim@redis:port/0",
            "has no valid host and port: 'redis://:***@redis:port/0'",
        ),
    ],
)
@pytest.mark.parametrize("argv", [("status",), ("db", "upgrade")], ids=" ".join)
def test_a_malformed_url_is_refused_naming_its_variable(
    cwd: Path, variable: str, value: str, said: str, argv: tuple[str, ...]
) -> None:
    line = refused(cwd, {variable: value}, *argv)

    assert line.startswith(f"migrationkit: {variable} ")
    assert said in line
    assert "geheim" not in line


# --- --help ------------------------------------------------------------------------------------

#: reStructuredText's inline literals and roles (``x``, :mod:`x`), and a Sphinx field (:param x:).
RST_MARKUP = re.compile(r"``|:[a-z]+:`|^\s*:[a-z]+[^:]*:", re.MULTILINE)


def every_parser(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from every_parser(command, (*path, name))


def test_every_help_text_is_plain_text() -> None:
    walked = dict(every_parser(make_parser()))
    assert set(walked) >= {
        (),
        ("worker",),
        ("sweep",),
        ("dispatch-mail",),
        ("follow",),
        ("status",),
        ("db",),
        ("demo",),
    }
    for path, _parser in walked.items():
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as stopped:
            make_parser().parse_args([*path, "--help"])
        assert stopped.value.code == 0
        text = shown.getvalue()
        assert text.startswith("usage: migrationkit"), path
        assert RST_MARKUP.search(text) is None, (path, RST_MARKUP.search(text))
