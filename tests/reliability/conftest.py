"""The reliability tests' world: a throwaway PostgreSQL database per test, Redis database
``REDIS_DB`` of the test server, a local SMTP server (aiosmtpd), two archive stores in
folders (Noord's on another filesystem than Zuid's where the machine has one, so a copy
goes through the kernel into a temporary file rather than a hard link), and the product's
processes started by the tests (``Deployment``).

They run in the normal test run; without the servers' URLs they are skipped, except in CI
(see tests/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from _deployment import BATCH_SIZE, LEASE_SECONDS, REDIS_DB, Deployment, MailServer
from redis import Redis

from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.testing._databases import throwaway_database
from served import free_port

# The runtime tests' arrangement of a started move (``_moves``) lives beside them.
sys.path.append(str(Path(__file__).parent.parent / "integration"))


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A new PostgreSQL database with the schema, dropped after the test."""
    with throwaway_database(postgres_url, prefix="mk_reliability") as url:
        upgrade(url)
        yield url


@pytest.fixture
def redis_db_url(redis_url: str) -> Iterator[str]:
    """Redis database ``REDIS_DB`` of the test server, empty before and after the test."""
    url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))
    with Redis.from_url(url) as connection:
        connection.flushdb()
    yield url
    with Redis.from_url(url) as connection:
        connection.flushdb()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def archive_roots(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """The folders of the stores "noord" (in /dev/shm when the machine has it: another
    filesystem than the test's folder) and "zuid" (in the test's folder, on disk)."""
    shm = Path("/dev/shm")  # noqa: S108 (a new folder of its own is made in it)
    elsewhere = shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    noord = Path(tempfile.mkdtemp(prefix="mk-reliability-", dir=elsewhere))
    yield {"noord": noord / "noord", "zuid": tmp_path / "zuid"}
    shutil.rmtree(noord, ignore_errors=True)


@pytest.fixture
def environment(
    database_url: str,
    redis_db_url: str,
    mail_server: MailServer,
    archive_roots: dict[str, Path],
    tmp_path: Path,
) -> dict[str, str]:
    """The MIGRATIONKIT_* variables of every process of the deployment (a test may change
    them before it starts any)."""
    stores = ",".join(f"{name}=file://{root}" for name, root in archive_roots.items())
    return {
        "MIGRATIONKIT_HOME": str(tmp_path / "home"),
        "MIGRATIONKIT_DATABASE_URL": database_url,
        "MIGRATIONKIT_SECRET_KEY": "reliability-" * 4,
        "MIGRATIONKIT_REDIS_URL": redis_db_url,
        "MIGRATIONKIT_QUEUE": f"mk-reliability-{secrets.token_hex(4)}",
        "MIGRATIONKIT_ARCHIVE_STORES": stores,
        "MIGRATIONKIT_SMTP_URL": f"smtp://127.0.0.1:{mail_server.port}",
        "MIGRATIONKIT_MAIL_FROM": "migratie@example.nl",
        "MIGRATIONKIT_BATCH_SIZE": str(BATCH_SIZE),
        "MIGRATIONKIT_LEASE_SECONDS": str(LEASE_SECONDS),
        # The source's blobs are released this long after the finish (by a sweep's wake-up).
        "MIGRATIONKIT_RELEASE_SOURCE_SECONDS": "1",
        # Demo mode: no package credentials, the in-memory packages serve.
        "MIGRATIONKIT_DEMO": "1",
    }


@pytest.fixture
def deployment(environment: dict[str, str], tmp_path: Path) -> Iterator[Deployment]:
    """Starts the product's processes with ``environment``; kills what is left after the
    test."""
    logs = tmp_path / "logs"
    logs.mkdir()
    deployed = Deployment(environment, logs)
    yield deployed
    deployed.stop_all()
