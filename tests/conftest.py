"""The real servers for integration tests, named by environment variables.

Without CI, a test that needs a server whose variable is unset is skipped. In CI (`CI` set) both
servers must be named and answer, or the run stops before any test: a missing server is a
failure there, never a skip. A server that is named but does not answer is always a failure.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator

import pytest

POSTGRES_VAR = "MIGRATIONKIT_TEST_POSTGRES_URL"
REDIS_VAR = "MIGRATIONKIT_TEST_REDIS_URL"
TIMEOUT_SECONDS = 5


def ping_postgres(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": TIMEOUT_SECONDS})
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    finally:
        engine.dispose()


def ping_redis(url: str) -> None:
    import redis

    with redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS) as client:
        client.ping()


PINGS: dict[str, Callable[[str], None]] = {POSTGRES_VAR: ping_postgres, REDIS_VAR: ping_redis}


@functools.cache
def trouble(var: str) -> str | None:
    """Why the server named by `var` cannot be used, or None when it answers."""
    url = os.environ.get(var)
    if not url:
        return f"{var} is not set"
    try:
        PINGS[var](url)
    except Exception as error:
        return f"the server at {var}={url} does not answer: {error}"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    if not os.environ.get("CI"):
        return
    troubles = [message for var in PINGS if (message := trouble(var))]
    if troubles:
        pytest.exit("CI needs PostgreSQL and Redis: " + "; ".join(troubles), returncode=1)


def server_url(var: str) -> str:
    message = trouble(var)
    if message is None:
        return os.environ[var]
    if os.environ.get(var) or os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{message}: set it to run the tests that need this server")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The SQLAlchemy URL of a real PostgreSQL database (postgresql+psycopg://...)."""
    return server_url(POSTGRES_VAR)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a real Redis server (redis://...)."""
    return server_url(REDIS_VAR)


@pytest.fixture(autouse=True)
def logging_handlers_as_they_were() -> Iterator[None]:
    """A test that runs the CLI in this process has ``configure_logging`` send the root
    logger's records to stderr; taking that handler away again keeps a server thread that
    logs after the test (aiosmtpd's) from writing into the run's output. Pytest's own
    handlers come and go with each phase and are left to it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers and type(handler).__module__ == "migrationkit.adapters.logs":
            root.removeHandler(handler)
    root.setLevel(level)
