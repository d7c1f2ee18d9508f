"""Developer and CI sessions: `nox` runs tests, lint and typecheck; `nox -s demo` serves the
portal with the demo data."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "uv|venv"
# CI starts from a fresh clone, so reuse only spares local runs a rebuild (`nox -R` goes further).
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = "postgres,worker,connectors,objectstore,portal,metrics,report"
TEST_ENV_VARS = ("MIGRATIONKIT_TEST_POSTGRES_URL", "MIGRATIONKIT_TEST_REDIS_URL", "CI")
PREFIX = "MIGRATIONKIT_"
DEMO_HOST, DEMO_PORT = "127.0.0.1", 5000


def install_group(session: nox.Session, group: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite against the installed package with every extra."""
    session.install(f".[{EXTRAS}]")
    install_group(session, "tests")
    env = {name: os.environ[name] for name in TEST_ENV_VARS if name in os.environ}
    session.run("pytest", *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff, and that imports point inwards."""
    install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "scripts/check_imports.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check src/ with mypy --strict (configured in pyproject.toml)."""
    session.install(f".[{EXTRAS}]")
    install_group(session, "typing")
    session.run("mypy")


def free_port(host: str, wanted: int) -> int:
    """``wanted`` when nothing listens there (another program, or macOS's AirPlay on 5000,
    may hold it), else a port the system has free."""
    with socket.socket() as probe:
        try:
            probe.bind((host, wanted))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


@nox.session
def demo(session: nox.Session) -> None:
    """Serve the reference portal with the demo data: a fresh SQLite file, the archive on
    local disk, the in-process worker, e-mail on the Mailbox page. On 127.0.0.1:5000, or a
    free port when that one is taken, or the one asked for: `nox -s demo -- --port 5001`.
    `nox -s demo -- --practice 300` adds Kantoor Praktijk with 300 administrations, for a
    takeover by Zuid.
    Every MIGRATIONKIT_* variable of the calling shell is left out, so it is always this."""
    options = argparse.ArgumentParser(prog="nox -s demo --")
    options.add_argument("--port", type=int, help="the port to serve on (default: 5000, or free)")
    options.add_argument(
        "--practice", type=int, help="seed Kantoor Praktijk with this many administrations too"
    )
    asked = options.parse_args(session.posargs)
    port = asked.port if asked.port is not None else free_port(DEMO_HOST, DEMO_PORT)
    address = f"http://{DEMO_HOST}:{port}"
    session.install(".[portal]")
    home = Path(session.create_tmp()).resolve() / "demo-home"
    shutil.rmtree(home, ignore_errors=True)
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith(PREFIX)}
    env |= {
        f"{PREFIX}HOME": str(home),
        f"{PREFIX}DEMO": "1",
        f"{PREFIX}PORTAL_URL": address,
    }
    if asked.practice:
        env[f"{PREFIX}DEMO_PRACTICE"] = str(asked.practice)
    session.log(f"Demo home: {home}. Sign in on {address} as:")
    session.run("python", "-m", "migrationkit.demo", env=env)
    session.log(f"The portal serves on {address} (Ctrl+C stops it).")
    session.chdir("examples/flask_portal")
    session.run(
        "flask",
        "--app",
        "portal",
        "run",
        "--host",
        DEMO_HOST,
        "--port",
        str(port),
        "--no-reload",
        env=env,
    )
