"""Developer and CI sessions: `nox` runs tests, lint and typecheck; `nox -s demo` shows it."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "uv|venv"
# CI starts from a fresh clone, so reuse only spares local runs a rebuild (`nox -R` goes further).
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = "postgres,worker,connectors,objectstore,portal"
TEST_ENV_VARS = ("MIGRATIONKIT_TEST_POSTGRES_URL", "MIGRATIONKIT_TEST_REDIS_URL", "CI")


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


@nox.session
def demo(session: nox.Session) -> None:
    """Install the package and run its command-line demo."""
    session.install(".")
    session.run("migrationkit", "demo", *session.posargs)
