"""``migrationkit follow`` while PostgreSQL restarts: it says it lost the database, tries
again, and exits 0 once the move is Voltooid; when the database stays away it gives up with
exit 3 (lost contact), never 1, which means Mislukt. On a PostgreSQL cluster of the test's
own (``initdb`` and ``pg_ctl`` on a free port), so that the shared server is never
restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _checks import assert_moved, runtime_of
from _deployment import SWEEP_SECONDS, WAIT_SECONDS, Deployment, wait_for
from _moves import start_move
from _servers import PostgresCluster

from migrationkit.adapters.sqlalchemy import upgrade
from migrationkit.cli import EXIT_COMPLETED, EXIT_LOST_CONTACT
from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCUMENTS = 200
INTERVAL = "0.2"


@pytest.fixture
def own_postgres(environment: dict[str, str]) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of the test's own, with the schema, as the deployment's
    database."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        upgrade(cluster.url)
        environment["MIGRATIONKIT_DATABASE_URL"] = cluster.url
        yield cluster
    finally:
        cluster.remove()


def test_follow_outlasts_a_postgresql_restart_and_exits_0_when_the_move_is_voltooid(
    deployment: Deployment,
    environment: dict[str, str],
    archive_roots: dict[str, Path],
    own_postgres: PostgresCluster,
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    follower = deployment.start(
        "follow", str(move.migration_id), "--interval", INTERVAL, "--lost-contact-after", "120"
    )
    wait_for(
        lambda: ItemStatus.QUEUED.label_nl in deployment.log(follower), "follow to show the move"
    )

    own_postgres.stop()
    wait_for(lambda: "trying again" in deployment.log(follower), "follow to miss the database")
    own_postgres.start()
    wait_for(lambda: "answers again" in deployment.log(follower), "follow to reach it again")
    deployment.start("worker")
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))

    assert follower.wait(WAIT_SECONDS) == EXIT_COMPLETED, deployment.logs_tail()
    assert deployment.log(follower).splitlines()[-1].endswith(ItemStatus.COMPLETED.label_nl)
    assert_moved(runtime, move, archive_roots, move.blobs)


def test_follow_gives_up_with_exit_3_when_postgresql_stays_away(
    deployment: Deployment,
    environment: dict[str, str],
    own_postgres: PostgresCluster,
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=1)
    follower = deployment.start(
        "follow", str(move.migration_id), "--interval", INTERVAL, "--lost-contact-after", "2"
    )
    wait_for(
        lambda: ItemStatus.QUEUED.label_nl in deployment.log(follower), "follow to show the move"
    )

    own_postgres.stop()

    assert follower.wait(WAIT_SECONDS) == EXIT_LOST_CONTACT, deployment.log(follower)
    assert "lost contact" in deployment.log(follower).splitlines()[-1]
