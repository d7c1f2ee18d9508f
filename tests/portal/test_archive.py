"""An administration's archive: its documents a page at a time, each openable; an upload,
and one told to try again when the administration stays held too long; an old document
address that redirects to the new one; and the demo's Mailbox."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene, codes, environ, make_app, signed_in_client

from migrationkit import services
from migrationkit.bootstrap import Runtime
from migrationkit.testing._databases import throwaway_database


def test_the_archive_lists_its_documents_a_page_at_a_time(noord: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("1001")
    url = f"/administraties/{administration.id}/archief"

    first = noord.get(url).text
    assert "Archief van 1001 Bakkerij De Korenschoof" in first
    assert first.count("factuur-") == 100
    assert "Volgende pagina" in first

    last = scene.documents("1001")[199]
    third = noord.get(f"{url}?na={last.id}").text
    assert third.count("factuur-") == 50
    assert "Volgende pagina" not in third
    assert "Eerste pagina" in third


def test_a_document_opens_as_its_pdf(noord: FlaskClient, scene: Scene) -> None:
    document = scene.documents("4002")[0]

    response = noord.get(f"/documenten/{document.address}")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert len(response.data) == document.size


def test_an_upload_lands_in_the_archive(noord: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("4002")
    url = f"/administraties/{administration.id}/archief"

    response = noord.post(
        url,
        data={"bestand": (io.BytesIO(b"%PDF-1.4 bon"), "bon.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )

    assert response.location == url
    page = noord.get(url).text
    assert "bon.pdf is toegevoegd aan het archief." in page
    assert "bon.pdf</a>" in page


@pytest.mark.postgres
def test_an_upload_that_waits_too_long_for_its_administration_is_told_to_try_again(
    tmp_path: Path, postgres_url: str
) -> None:
    """On PostgreSQL, where an upload waits for the administration's row only (the finish
    of a move holds it), at most ``MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS``."""
    home = tmp_path / "home"
    home.mkdir()
    with throwaway_database(postgres_url, prefix="mk_portal") as database_url:
        app = make_app(
            home,
            MIGRATIONKIT_ENVIRON=environ(home)
            | {
                "MIGRATIONKIT_DATABASE_URL": database_url,
                "MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS": "1",
            },
        )
        runtime: Runtime = app.extensions[RUNTIME_KEY]
        try:
            scene = Scene(runtime.deps)
            administration = scene.administration("4002")
            url = f"/administraties/{administration.id}/archief"
            noord = signed_in_client(app, scene.user("noord@example.nl"))
            before = len(scene.documents("4002"))

            with runtime.deps.uow() as holder:
                holder.administrations.lock(administration.id)
                response = noord.post(
                    url,
                    data={"bestand": (io.BytesIO(b"%PDF-1.4 bon"), "bon.pdf", "application/pdf")},
                    content_type="multipart/form-data",
                )

            assert response.status_code == 200
            assert codes(response.text) == {"database_busy": "bestand-error"}
            assert len(scene.documents("4002")) == before
        finally:
            runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]


def test_an_upload_without_a_file_is_refused_at_the_field(noord: FlaskClient, scene: Scene) -> None:
    response = noord.post(
        f"/administraties/{scene.administration('4002').id}/archief",
        data={},
        content_type="multipart/form-data",
    )

    assert "Kies een bestand." in response.text
    assert 'id="bestand-error"' in response.text


def test_a_plain_user_without_access_is_refused_the_archive(
    medewerker: FlaskClient, scene: Scene
) -> None:
    administration = scene.administration("1001")
    services.set_access(
        scene.deps,
        actor_id=scene.user("noord@example.nl"),
        administration_id=administration.id,
        user_id=scene.user("medewerker@example.nl"),
        granted=False,
    )

    response = medewerker.get(f"/administraties/{administration.id}/archief")

    assert response.status_code == 403
    assert codes(response.text) == {"no_access": "refusal"}


def test_a_plain_user_with_access_opens_the_archive(medewerker: FlaskClient, scene: Scene) -> None:
    administration = scene.administration("2002")

    assert medewerker.get(f"/administraties/{administration.id}/archief").status_code == 200


def test_an_old_document_address_redirects_to_the_new_one_after_a_move(
    zuid: FlaskClient, scene: Scene, run_jobs: Callable[[], None]
) -> None:
    before = scene.documents("1002")[0]
    scene.start(scene.offer("1002"))
    run_jobs()
    refused = zuid.get(f"/documenten/{before.address}")  # not even Zuid's super user yet
    zuid.post(
        f"/instellingen/administraties/{before.administration_id}/bewerken/gebruikers/"
        f"{scene.user('zuid@example.nl')}",
        data={f"gebruiker-{scene.user('zuid@example.nl')}-toegang": "ja"},
    )

    response = zuid.get(f"/documenten/{before.address}")

    assert refused.status_code == 403
    assert "Toegang: Ja" in refused.text
    assert response.status_code == 301
    assert response.location == f"/documenten/zuid/{before.id}"
    opened = zuid.get(response.location)
    assert opened.status_code == 200
    assert opened.data.startswith(b"%PDF-")


def test_an_unknown_document_is_not_found(noord: FlaskClient) -> None:
    assert noord.get("/documenten/noord/999999").status_code == 404
    assert noord.get("/documenten/geen-adres").status_code == 404


def test_the_mailbox_shows_the_users_mail_with_the_code_while_unsent(
    zuid: FlaskClient, noord: FlaskClient, scene: Scene
) -> None:
    receipt = scene.offer("1001")

    page = zuid.get("/mailbox").text

    assert "Migratieverzoek: administraties staan voor je klaar" in page
    assert receipt.code in page
    assert receipt.code in noord.get("/mailbox").text


def test_the_mailbox_holds_no_one_elses_mail(
    signed_in: Callable[[str], FlaskClient], scene: Scene
) -> None:
    receipt = scene.offer("1001")

    page = signed_in("oost@example.nl").get("/mailbox").text

    assert receipt.code not in page
    assert "Er zijn geen berichten voor jou." in page


def test_there_is_no_mailbox_outside_demo_mode(home: Path, scene: Scene) -> None:
    app = make_app(home)
    app.config["DEMO"] = False
    client = signed_in_client(app, scene.user("zuid@example.nl"))

    assert client.get("/mailbox").status_code == 404
