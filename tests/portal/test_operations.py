"""The operator's endpoints: /healthz, /readyz (and each way it says not ready), /metrics,
and the request id on every request."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene, environ, make_app
from sqlalchemy import text

from migrationkit import services
from migrationkit.adapters.sqlalchemy.database import VERSION_TABLE
from migrationkit.adapters.sqlalchemy.tables import migrations
from migrationkit.bootstrap import Runtime


def test_healthz_says_the_process_lives_without_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_with_every_check_named(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ready"
    # The demo's stores, by name only: no office data, no path.
    assert set(body["checks"]) == {"database", "archive:noord", "archive:west", "archive:zuid"}
    assert all(check == {"ok": True, "detail": "ok"} for check in body["checks"].values())


def test_readyz_refuses_a_database_behind_the_schemas_head(app: Flask) -> None:
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    with runtime.database.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0007'"))  # noqa: S608
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False
    assert "migrationkit db upgrade" in body["checks"]["database"]["detail"]


def test_readyz_names_an_archive_store_it_cannot_write(home: Path, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "kapot"
    not_a_folder.write_bytes(b"a file where the store's folder should be")
    app = make_app(
        home,
        MIGRATIONKIT_ENVIRON=environ(home)
        | {"MIGRATIONKIT_ARCHIVE_STORES": f"kapot=file://{not_a_folder}"},
    )
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions[RUNTIME_KEY].queue.stop(timeout=5)
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["archive:kapot"]["ok"] is False
    assert checks["archive:kapot"]["detail"].startswith("not writable")
    assert checks["database"]["ok"] is True


def test_readyz_names_a_redis_that_does_not_answer(home: Path) -> None:
    # A port where nothing listens.
    app = make_app(
        home,
        MIGRATIONKIT_ENVIRON=environ(home) | {"MIGRATIONKIT_REDIS_URL": "redis://127.0.0.1:9/0"},
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] == {
        "ok": False,
        "detail": "unreachable: ConnectionError",
    }


def test_metrics_serves_prometheus_text_without_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.text
    for name in (
        'migrationkit_migrations{status="queued"}',
        "migrationkit_outbox_backlog",
        "migrationkit_outbox_oldest_unsent_age_seconds",
        'migrationkit_queue_depth{queue="inprocess"}',
        'migrationkit_queue_oldest_job_age_seconds{queue="inprocess"}',
        "migrationkit_sign_in_refusals_total",
    ):
        assert name in body


def test_a_sane_request_id_is_returned_and_a_new_one_made_otherwise(client: FlaskClient) -> None:
    given = "b7a5e3c0-trace.1"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for insane in ("", "x" * 129, "a b", "<script>", "ok\u00e9"):
        returned = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert returned != insane
        assert uuid.UUID(hex=returned)


@pytest.mark.parametrize("path", ["/login", "/api/v1/offers"])
def test_every_page_and_api_call_has_a_request_id(client: FlaskClient, path: str) -> None:
    assert client.get(path).headers["X-Request-ID"]


def scraped(client: FlaskClient, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", client.get("/metrics").text, re.M)
    assert found, name
    return float(found.group(1))


def test_metrics_count_moves_by_status_and_a_lease_that_ran_out(
    app: Flask, client: FlaskClient, scene: Scene
) -> None:
    [migration] = scene.start(scene.offer("1002"))
    assert scraped(client, 'migrationkit_migrations{status="queued"}') == 1
    assert scraped(client, "migrationkit_outbox_backlog") >= 2  # the code, the start
    assert scraped(client, "migrationkit_oldest_lapsed_lease_seconds") == 0
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    assert services.claim_migration(runtime.deps, migration.id) is not None
    assert scraped(client, 'migrationkit_migrations{status="processing"}') == 1
    with runtime.database.begin() as connection:  # its worker stopped beating an hour ago
        connection.execute(
            migrations.update().values(lease_expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert scraped(client, "migrationkit_oldest_lapsed_lease_seconds") >= 3600


@pytest.mark.parametrize(
    "document", ["docs/grafana/migrationkit.json", "docs/prometheus/migrationkit-alerts.yml"]
)
def test_the_dashboard_and_the_alerts_use_only_metrics_that_exist(
    client: FlaskClient, document: str
) -> None:
    text = (Path(__file__).parents[2] / document).read_text()
    if document.endswith(".json"):
        assert json.loads(text)["panels"]
    used = set(re.findall(r"\bmigrationkit_[a-z_]+", text))
    served = client.get("/metrics").text
    assert used
    assert sorted(name for name in used if name not in served) == []
