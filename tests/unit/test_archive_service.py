"""The archive's use cases: upload, list, open and resolve, and who may use them."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

import pytest

from migrationkit import services
from migrationkit.domain.errors import ArchiveError, NotAllowed, NotFound
from migrationkit.domain.model import Administration, Document, User
from migrationkit.ports import StoredBlob
from migrationkit.testing import FakeArchiveStore

if TYPE_CHECKING:
    from conftest import Scene


def upload(
    scene: Scene, user: User, administration: Administration, data: bytes = b"%PDF-1.7 factuur"
) -> Document:
    return services.add_document(
        scene.deps,
        scene.world.archives,
        actor_id=user.id,
        administration_id=administration.id,
        filename="factuur-2026-001.pdf",
        stream=io.BytesIO(data),
    )


def read(scene: Scene, user: User, address: str) -> bytes:
    _, stream = services.open_document(
        scene.deps, scene.world.archives, actor_id=user.id, address=address
    )
    with stream:
        return stream.read()


def grant(scene: Scene, administration: Administration, user: User) -> None:
    services.set_access(
        scene.deps,
        actor_id=scene.noord.super_user.id,
        administration_id=administration.id,
        user_id=user.id,
        granted=True,
    )


# --- upload and list -------------------------------------------------------------------------


def test_a_super_user_uploads_into_the_environments_store(scene: Scene) -> None:
    administration = scene.administration()

    document = upload(scene, scene.noord.super_user, administration, b"%PDF-1.7 factuur")

    assert (document.administration_id, document.filename) == (
        administration.id,
        "factuur-2026-001.pdf",
    )
    assert (document.archive_store, document.size) == ("noord", 16)
    assert document.received_at == scene.world.clock.now()
    assert scene.world.archives.store("noord").blobs[document.blob_key] == b"%PDF-1.7 factuur"
    assert read(scene, scene.noord.super_user, document.address) == b"%PDF-1.7 factuur"


def test_a_user_with_access_uploads_lists_and_opens(scene: Scene) -> None:
    administration = scene.administration()
    grant(scene, administration, scene.noord.user)

    document = upload(scene, scene.noord.user, administration)

    listed = services.list_documents(
        scene.deps, actor_id=scene.noord.user.id, administration_id=administration.id
    )
    assert listed == (document,)
    assert read(scene, scene.noord.user, document.address) == b"%PDF-1.7 factuur"


def test_a_user_without_access_is_refused_everything(scene: Scene) -> None:
    administration = scene.administration()
    document = upload(scene, scene.noord.super_user, administration)
    user = scene.noord.user.id

    with scene.refused(NotAllowed, "no_access"):
        upload(scene, scene.noord.user, administration)
    with scene.refused(NotAllowed, "no_access"):
        services.list_documents(scene.deps, actor_id=user, administration_id=administration.id)
    with scene.refused(NotAllowed, "no_access"):
        read(scene, scene.noord.user, document.address)
    with scene.refused(NotAllowed, "no_access"):
        services.resolve_address(scene.deps, actor_id=user, address=document.address)


def test_another_environment_hears_only_that_an_administration_is_unknown(scene: Scene) -> None:
    administration = scene.administration()
    outsider = scene.zuid.super_user

    for administration_id in (administration.id, administration.id + 1000):
        with scene.refused(NotFound, "unknown_administration"):
            services.list_documents(
                scene.deps, actor_id=outsider.id, administration_id=administration_id
            )
        with scene.refused(NotFound, "unknown_administration"):
            services.add_document(
                scene.deps,
                scene.world.archives,
                actor_id=outsider.id,
                administration_id=administration_id,
                filename="x.pdf",
                stream=io.BytesIO(b"%PDF-1.7"),
            )


def test_another_environment_hears_only_that_a_document_is_unknown(scene: Scene) -> None:
    document = upload(scene, scene.noord.super_user, scene.administration())
    outsider = scene.zuid.super_user

    for address in (
        document.address,
        f"noord/{document.id + 1000}",
        f"zuid/{document.id}",
        "noord/abc",
        "noord/99999999999999999999",
        "zonder-nummer",
    ):
        with scene.refused(NotFound, "unknown_document"):
            read(scene, outsider, address)
        with scene.refused(NotFound, "unknown_document"):
            services.resolve_address(scene.deps, actor_id=outsider.id, address=address)


def test_documents_are_listed_a_page_at_a_time(scene: Scene) -> None:
    administration = scene.administration()
    documents = [
        upload(scene, scene.noord.super_user, administration, f"%PDF-1.7 factuur {n}".encode())
        for n in range(5)
    ]

    def page(after_id: int, limit: int) -> tuple[Document, ...]:
        return services.list_documents(
            scene.deps,
            actor_id=scene.noord.super_user.id,
            administration_id=administration.id,
            after_id=after_id,
            limit=limit,
        )

    assert page(0, 2) == tuple(documents[:2])
    assert page(documents[1].id, 100) == tuple(documents[2:])
    assert page(0, 0) == tuple(documents[:1])  # at least one per page


def test_a_current_address_resolves_to_itself(scene: Scene) -> None:
    document = upload(scene, scene.noord.super_user, scene.administration())

    resolved = services.resolve_address(
        scene.deps, actor_id=scene.noord.super_user.id, address=document.address
    )

    assert resolved == document.address == f"noord/{document.id}"


def test_a_document_whose_bytes_are_gone_is_reported_missing(scene: Scene) -> None:
    document = upload(scene, scene.noord.super_user, scene.administration())
    del scene.world.archives.store("noord").blobs[document.blob_key]

    with scene.refused(
        ArchiveError, "document_missing", filename="factuur-2026-001.pdf", store="noord"
    ):
        read(scene, scene.noord.super_user, document.address)


# --- uploads and moves -----------------------------------------------------------------------


def test_a_moved_administrations_documents_are_closed_to_the_source(scene: Scene) -> None:
    administration = scene.administration()
    document = upload(scene, scene.noord.super_user, administration)
    _, migration = scene.started(administration)

    services.run_migration(scene.deps, scene.world.archives, migration.id)

    with scene.refused(NotFound, "unknown_document"):
        read(scene, scene.noord.super_user, document.address)
    with scene.refused(
        NotAllowed, "access_not_granted_after_move", code="0042"
    ):  # not even Zuid's super user
        read(scene, scene.zuid.super_user, document.address)
    services.set_access(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        administration_id=administration.id,
        user_id=scene.zuid.super_user.id,
        granted=True,
    )
    assert read(scene, scene.zuid.super_user, document.address) == b"%PDF-1.7 factuur"


def test_a_super_user_without_a_grant_may_not_list_or_upload_to_an_arrived_administration(
    scene: Scene,
) -> None:
    administration = scene.administration()
    _, migration = scene.started(administration)
    services.run_migration(scene.deps, scene.world.archives, migration.id)

    with scene.refused(NotAllowed, "access_not_granted_after_move", code="0042"):
        services.list_documents(
            scene.deps, actor_id=scene.zuid.super_user.id, administration_id=administration.id
        )
    with scene.refused(NotAllowed, "access_not_granted_after_move", code="0042"):
        upload(scene, scene.zuid.super_user, administration)


def test_an_upload_that_loses_the_race_to_the_finish_is_refused(scene: Scene) -> None:
    administration = scene.administration()
    _, migration = scene.processing(administration)

    class FinishingStore(FakeArchiveStore):
        """Noord's store, where the move finishes while the upload writes its bytes."""

        def write(self, stream: BinaryIO) -> StoredBlob:
            blob = super().write(stream)
            services.complete_migration(scene.deps, migration.id)
            return blob

    scene.world.archives.stores["noord"] = FinishingStore("noord")

    with pytest.raises(NotFound) as refused:
        upload(scene, scene.noord.super_user, administration)

    assert refused.value.code == "unknown_administration"
    with scene.world.uow() as uow:
        assert uow.documents.list_for_administration(administration.id) == []
