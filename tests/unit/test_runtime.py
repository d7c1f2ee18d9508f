"""build_runtime: the settings alone choose the queue (in-process or RQ), the archive stores,
the mailer and the connectors; nothing is reached before it is used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrationkit.adapters.archive import LocalArchiveStore
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.connectors.registry import PackageConnectorRegistry
from migrationkit.adapters.connectors.xero import XeroConnector
from migrationkit.adapters.mail import SmtpMailer
from migrationkit.adapters.rq import RQJobQueue
from migrationkit.bootstrap import Runtime, build_runtime
from migrationkit.config import ConfigError, Settings
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage, Connection
from migrationkit.workers.inprocess import InProcessQueue


@pytest.fixture
def runtimes(tmp_path: Path) -> Iterator[list[Runtime]]:
    """Runtimes made by a test; their embedded workers are stopped afterwards."""
    made: list[Runtime] = []
    yield made
    for runtime in made:
        if isinstance(runtime.queue, InProcessQueue):
            runtime.queue.stop(10)


def runtime(tmp_path: Path, runtimes: list[Runtime], **variables: str) -> Runtime:
    """A runtime of these variables, in demo mode unless ``DEMO`` says otherwise."""
    environ = {
        "MIGRATIONKIT_HOME": str(tmp_path),
        "MIGRATIONKIT_SECRET_KEY": "k" * 32,
        "MIGRATIONKIT_DEMO": "1",
    }
    made = build_runtime(
        Settings.from_environ(environ | {f"MIGRATIONKIT_{k}": v for k, v in variables.items()})
    )
    runtimes.append(made)
    return made


def test_without_redis_or_smtp_it_is_the_embedded_runtime(
    tmp_path: Path, runtimes: list[Runtime]
) -> None:
    embedded = runtime(tmp_path, runtimes)

    assert embedded.embedded
    assert isinstance(embedded.queue, InProcessQueue)
    assert embedded.deps.queue is embedded.queue
    assert embedded.mailer is None
    assert isinstance(embedded.deps.connectors, InMemoryConnectorRegistry)
    store = embedded.archives.store("noord")
    assert isinstance(store, LocalArchiveStore)
    assert store.root == tmp_path.resolve() / "archive" / "noord"


def test_redis_smtp_and_stores_are_chosen_by_their_variables(
    tmp_path: Path, runtimes: list[Runtime]
) -> None:
    scaled = runtime(
        tmp_path,
        runtimes,
        REDIS_URL="redis://127.0.0.1:1/3",
        QUEUE="verhuizingen",
        JOB_TIMEOUT_SECONDS="900",
        SMTP_URL="smtp://127.0.0.1:1",
        MAIL_FROM="migratie@example.nl",
        ARCHIVE_STORES=f"noord=file://{tmp_path / 'gedeeld'}",
    )

    assert not scaled.embedded
    assert isinstance(scaled.queue, RQJobQueue)
    assert scaled.queue.queue.name == "verhuizingen"
    assert isinstance(scaled.mailer, SmtpMailer)
    assert (scaled.mailer.host, scaled.mailer.port, scaled.mailer.sender) == (
        "127.0.0.1",
        1,
        "migratie@example.nl",
    )
    store = scaled.archives.store("noord")
    assert isinstance(store, LocalArchiveStore)
    assert store.root == tmp_path / "gedeeld"


def test_packages_with_credentials_get_the_librarys_connectors(
    tmp_path: Path, runtimes: list[Runtime]
) -> None:
    with_xero = runtime(
        tmp_path, runtimes, DEMO="", XERO_CLIENT_ID="xero-app", XERO_CLIENT_SECRET="xero-geheim"
    )
    registry = with_xero.deps.connectors
    xero = Connection(1, 1, AccountingPackage.XERO, "Xero Noord")
    exact = Connection(2, 1, AccountingPackage.EXACT_ONLINE_NL, "Exact Noord")

    assert isinstance(registry, PackageConnectorRegistry)
    assert isinstance(registry.connector_for(xero), XeroConnector)
    with pytest.raises(PackageError) as refused:
        registry.connector_for(exact)
    assert refused.value.code == "package_not_configured"


def test_outside_demo_mode_no_package_credentials_is_refused_at_start_naming_the_variables(
    tmp_path: Path, runtimes: list[Runtime]
) -> None:
    with pytest.raises(ConfigError) as refused:
        runtime(tmp_path, runtimes, DEMO="")

    assert "MIGRATIONKIT_<PACKAGE>_CLIENT_ID" in str(refused.value)
    assert "EXACT_ONLINE_NL" in str(refused.value)
    assert "MIGRATIONKIT_DEMO=1" in str(refused.value)


def test_a_malformed_archive_location_is_refused_naming_the_variable(tmp_path: Path) -> None:
    settings = Settings.from_environ(
        {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_ARCHIVE_STORES": "noord=ftp://x"}
    )

    with pytest.raises(ConfigError, match=r"^MIGRATIONKIT_ARCHIVE_STORES: .*noord"):
        build_runtime(settings)


def test_start_worker_runs_the_embedded_worker_and_leaves_rq_to_its_processes(
    tmp_path: Path, runtimes: list[Runtime]
) -> None:
    embedded = runtime(tmp_path / "embedded", runtimes)
    scaled = runtime(tmp_path / "scaled", runtimes, REDIS_URL="redis://127.0.0.1:1/3")

    embedded.start_worker(sweep_every=None)
    scaled.start_worker()

    assert isinstance(embedded.queue, InProcessQueue)
    with pytest.raises(RuntimeError, match="has a worker already"):
        embedded.queue.start(embedded.deps, embedded.archives)
