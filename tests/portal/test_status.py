"""Each migration's status: a progress bar that its JSON route moves, "Aan het verwerken",
the green "Voltooid", "Mislukt" with its reason and a retry button; and after the move,
the administration in the new environment with its archive and Toegang."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from portal_support import Scene, codes, refusals

from migrationkit import services
from migrationkit.domain.model import Migration


def progressed(scene: Scene, migration: Migration, done: int) -> None:
    """The worker claimed the migration and reports ``done`` documents of its total."""
    assert services.claim_migration(scene.deps, migration.id) is not None
    services.record_progress(
        scene.deps,
        migration.id,
        documents_total=12,
        documents_done=done,
        bytes_total=12_000,
        bytes_done=done * 1000,
    )


def test_a_queued_migration_shows_in_de_wachtrij_and_a_bar_that_polls(
    zuid: FlaskClient, scene: Scene
) -> None:
    (migration,) = scene.start(scene.offer("1002"))

    page = zuid.get(f"/migraties/{migration.id}").text

    assert "In de wachtrij" in page
    assert '<progress id="voortgang" max="100" value="0">' in page
    # htmx asks for the page again every second until the move is finished.
    assert f'hx-get="/migraties/{migration.id}" hx-trigger="every 1s"' in page
    assert 'hx-select="#voortgang-inhoud"' in page


def test_the_status_route_tells_the_documents_done_of_the_total(
    zuid: FlaskClient, scene: Scene
) -> None:
    (migration,) = scene.start(scene.offer("1002"))
    progressed(scene, migration, 3)

    status = zuid.get(f"/migraties/{migration.id}/status.json").json

    assert status == {
        "status": "PROCESSING",
        "label": "Aan het verwerken",
        "documents_done": 3,
        "documents_total": 12,
        "percent": 25,
        "text": "3 van 12 documenten",
        "finished": False,
    }
    page = zuid.get(f"/migraties/{migration.id}").text
    assert "Aan het verwerken" in page
    assert "3 van 12 documenten" in page


def test_the_sender_follows_the_progress_too(noord: FlaskClient, scene: Scene) -> None:
    (migration,) = scene.start(scene.offer("1002"))

    assert noord.get(f"/migraties/{migration.id}/status.json").json["status"] == "QUEUED"


def test_a_finished_move_is_green_voltooid_and_the_archive_is_in_the_new_environment(
    zuid: FlaskClient, scene: Scene, run_jobs: Callable[[], None]
) -> None:
    (migration,) = scene.start(scene.offer("1002"))

    run_jobs()

    page = zuid.get(f"/migraties/{migration.id}").text
    assert '<span class="badge status status-completed text-bg-success">Voltooid</span>' in page
    assert zuid.get(f"/migraties/{migration.id}/status.json").json["finished"] is True
    assert 'hx-trigger="every 1s"' not in page  # nothing to wait for any more
    assert "Nog niemand heeft toegang tot deze administratie, ook jij niet." in page
    gebruikers = f"/instellingen/administraties/{migration.administration_id}/bewerken/gebruikers"
    assert f'href="{gebruikers}"' in page
    assert zuid.get(f"/administraties/{migration.administration_id}/archief").status_code == 403
    own = scene.user("zuid@example.nl")
    zuid.post(f"{gebruikers}/{own}", data={f"gebruiker-{own}-toegang": "ja"})
    assert "Toegang hebben nu:" in zuid.get(f"/migraties/{migration.id}").text
    archive = zuid.get(f"/administraties/{migration.administration_id}/archief").text
    assert "Archief van 7002 Fietsenmakerij Van Dijk" in archive
    assert archive.count("factuur-") == 12
    listing = zuid.get("/administraties").text
    assert "Fietsenmakerij Van Dijk" in listing


def test_a_failed_move_shows_mislukt_with_its_reason_and_a_retry(
    zuid: FlaskClient,
    noord: FlaskClient,
    scene: Scene,
    run_jobs: Callable[[], None],
    home: Path,
) -> None:
    missing = scene.documents("1002")[0]
    for blob in (home / "archive" / "noord").rglob(missing.blob_key):
        os.unlink(blob)
    (migration,) = scene.start(scene.offer("1002"))
    run_jobs()

    page = zuid.get(f"/migraties/{migration.id}").text

    assert '<span class="badge status status-failed text-bg-danger">Mislukt</span>' in page
    [reason] = refusals(page)
    assert (reason.code, reason.place) == ("document_missing", "refusal")
    assert missing.filename in reason.words
    assert "Opnieuw proberen" in page
    zuid.post("/taal", data={"language": "en"})
    [in_english] = refusals(zuid.get(f"/migraties/{migration.id}").text)
    assert in_english.code == reason.code
    assert missing.filename in in_english.words
    assert in_english.words != reason.words
    zuid.post("/taal", data={"language": "nl"})
    assert "Opnieuw proberen" not in noord.get(f"/migraties/{migration.id}").text
    retried = zuid.post(f"/migraties/{migration.id}/opnieuw", follow_redirects=True)
    assert "De migratie wordt opnieuw gestart." in retried.text
    assert "In de wachtrij" in retried.text


def test_retry_of_a_migration_that_did_not_fail_is_refused_on_its_page(
    zuid: FlaskClient, scene: Scene
) -> None:
    (migration,) = scene.start(scene.offer("1002"))

    response = zuid.post(f"/migraties/{migration.id}/opnieuw", follow_redirects=True)

    assert codes(response.text) == {"migration_not_failed": "flash"}
