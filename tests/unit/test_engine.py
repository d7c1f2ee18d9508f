"""The engine on the fakes: a move on one store and across stores, fan-out over batches,
crashes and retries, leases and heartbeats, uploads during a move (R13, R14, R15)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs
import pytest

from migrationkit import services
from migrationkit.domain.errors import ArchiveError, NotFound, PackageError
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Connection,
    Document,
    Environment,
    ItemStatus,
    Migration,
    Role,
    User,
)
from migrationkit.ports import ArchiveStore, StoredBlob
from migrationkit.services import TargetChoice, engine, moving
from migrationkit.services.sweeping import sweep
from migrationkit.testing import FakeArchiveStore
from migrationkit.testing._repositories import (
    InMemoryDocumentCopyRepository,
    InMemoryDocumentRepository,
)

if TYPE_CHECKING:
    from conftest import Scene

EXACT = AccountingPackage.EXACT_ONLINE_NL
LEASE = timedelta(minutes=2)


# --- arranging -------------------------------------------------------------------------------


@attrs.frozen
class Neighbour:
    """An office whose archive lives on Noord's store."""

    environment: Environment
    super_user: User
    connection: Connection


def neighbour(scene: Scene) -> Neighbour:
    with scene.world.uow() as uow:
        environment = uow.environments.add("Buur", has_subscription=True, archive_store="noord")
        super_user = uow.users.add(environment.id, "baas@buur.nl", "Baas Buur", Role.SUPER_USER)
        connection = uow.connections.add(environment.id, EXACT, "Exact Online Buur")
        uow.commit()
    return Neighbour(environment, super_user, connection)


def started_to(scene: Scene, administration: Administration, office: Neighbour) -> Migration:
    """Offered by Noord, redeemed and started by ``office``."""
    receipt = scene.offer(administration, to=(office.super_user.email,))
    services.redeem_code(
        scene.deps,
        actor_id=office.super_user.id,
        code=receipt.code,
        accepted_terms=True,
        accepted_costs=True,
    )
    [item] = receipt.items
    scene.package_administration("buur-1", item.code, item.name, connection=office.connection)
    [migration] = services.start_migrations(
        scene.deps,
        actor_id=office.super_user.id,
        offer_id=receipt.offer.id,
        choices=[TargetChoice(item.id, office.connection.id, "buur-1")],
    )
    return migration


def content(administration: Administration, n: int) -> bytes:
    return b"%PDF-1.7\n" + f"factuur {administration.code} nummer {n}\n".encode() * (n % 4 + 1)


def fill(
    scene: Scene, administration: Administration, count: int, first: int = 0
) -> list[Document]:
    """Documents with real bytes in Noord's store."""
    store = scene.world.archives.store("noord")
    with scene.world.uow() as uow:
        documents = []
        for n in range(first, first + count):
            blob = store.write(io.BytesIO(content(administration, n)))
            documents.append(
                uow.documents.add(
                    administration.id,
                    filename=f"factuur-{n}.pdf",
                    content_type="application/pdf",
                    size=blob.size,
                    sha256=blob.sha256,
                    archive_store="noord",
                    blob_key=blob.key,
                    received_at=scene.world.clock.now(),
                )
            )
        uow.commit()
    return documents


def archive_of(scene: Scene, administration: Administration) -> list[Document]:
    with scene.world.uow() as uow:
        return list(uow.documents.list_for_administration(administration.id))


def run(scene: Scene, migration_id: int) -> None:
    engine.run_migration(scene.deps, scene.world.archives, migration_id)


def run_batches(scene: Scene) -> None:
    """What the workers do with a fan-out: every batch, then each finishing job."""
    batches = scene.world.queue.take_batches()
    for batch in batches:
        engine.copy_batch(
            scene.deps, scene.world.archives, batch.migration_id, batch.first_id, batch.last_id
        )
    for migration_id in sorted({batch.migration_id for batch in batches}):
        engine.finish_migration(scene.deps, scene.world.archives, migration_id)


def migration_of(scene: Scene, migration_id: int) -> Migration:
    with scene.world.uow() as uow:
        migration = uow.migrations.get(migration_id)
    assert migration is not None
    return migration


def status(scene: Scene, migration: Migration) -> ItemStatus:
    return scene.status(migration.item_id)


def copies_of(scene: Scene, migration: Migration) -> int:
    with scene.world.uow() as uow:
        return uow.copies.totals(migration.id).documents


def charges(scene: Scene) -> int:
    with scene.world.uow() as uow:
        return len(uow.charges.list_for_environment(scene.zuid.environment.id))


class WatchedStore(FakeArchiveStore):
    """A target store that calls ``before`` with each key it is asked to copy, and counts
    the copies per key."""

    def __init__(self, name: str, before: Callable[[str], object] = lambda key: None) -> None:
        super().__init__(name)
        self.before = before
        self.copied: dict[str, int] = {}

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        self.before(key)
        self.copied[key] = self.copied.get(key, 0) + 1
        return super().copy_from(source, key, sha256=sha256, size=size)


def watch_zuid(scene: Scene, before: Callable[[str], object] = lambda key: None) -> WatchedStore:
    store = WatchedStore("zuid", before)
    scene.world.archives.stores["zuid"] = store
    return store


def sweep_and_run(scene: Scene) -> list[int]:
    """A sweep, and the worker running each migration it woke for a step after the finish;
    those ids."""
    woken = list(sweep(scene.deps).after_finish)
    for migration_id in woken:
        run(scene, migration_id)
    return woken


def after_grace(scene: Scene) -> list[int]:
    """The grace period of the source's blobs passes; then ``sweep_and_run``."""
    scene.world.clock.advance(scene.deps.policy.release_source_after + timedelta(seconds=1))
    return sweep_and_run(scene)


@pytest.fixture
def small_batches(scene: Scene) -> Scene:
    """The scene with batches of three documents."""
    scene.deps = attrs.evolve(scene.deps, policy=attrs.evolve(scene.deps.policy, batch_size=3))
    return scene


# --- one store -------------------------------------------------------------------------------


def test_a_move_on_one_store_writes_nothing_and_keeps_ids_and_addresses(scene: Scene) -> None:
    administration = scene.administration()
    before = fill(scene, administration, 5)
    buur = neighbour(scene)
    migration = started_to(scene, administration, buur)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert scene.reloaded(administration).environment_id == buur.environment.id
    assert archive_of(scene, administration) == before
    assert scene.world.archives.store("noord").writes == len(before)  # the fill's, no more
    assert copies_of(scene, migration) == 0
    with scene.world.uow() as uow:
        assert uow.redirects.list_for_migration(migration.id) == []
        assert len(uow.charges.list_for_environment(buur.environment.id)) == 1
    done = migration_of(scene, migration.id)
    assert (done.documents_done, done.documents_total) == (5, 5)
    assert done.bytes_done == done.bytes_total == sum(d.size for d in before)


def test_a_move_on_one_store_reads_no_document_one_by_one(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    administration = scene.administration()
    fill(scene, administration, 20)
    migration = started_to(scene, administration, neighbour(scene))

    def per_document(*args: object, **kwargs: object) -> None:
        raise AssertionError("a move on one store touches no document one by one")

    for method in ("get", "list_page", "list_uncopied", "point_at_copies"):
        monkeypatch.setattr(InMemoryDocumentRepository, method, per_document)
    monkeypatch.setattr(InMemoryDocumentCopyRepository, "add_many", per_document)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED


# --- across stores ---------------------------------------------------------------------------


def test_a_move_across_stores_copies_every_document_byte_for_byte(scene: Scene) -> None:
    administration = scene.administration()
    before = fill(scene, administration, 6)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    zuid = scene.world.archives.store("zuid")
    after = archive_of(scene, administration)
    assert [d.id for d in after] == [d.id for d in before]
    for old, new in zip(before, after, strict=True):
        assert new == attrs.evolve(old, archive_store="zuid", blob_key=new.blob_key)
        assert zuid.blobs[new.blob_key] == content(administration, before.index(old))
    assert charges(scene) == 1
    assert len(scene.emails_of_kind("migration_started")) == 1
    assert len(scene.emails_of_kind("migration_completed")) == 2
    done = migration_of(scene, migration.id)
    assert (done.documents_done, done.documents_total) == (6, 6)
    assert done.bytes_done == done.bytes_total == sum(d.size for d in before)


def test_every_old_address_redirects_to_the_new_one(scene: Scene) -> None:
    administration = scene.administration()
    before = fill(scene, administration, 3)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    reader = scene.zuid.super_user.id
    services.set_access(  # the recipient gives themselves access first (R14)
        scene.deps,
        actor_id=reader,
        administration_id=administration.id,
        user_id=reader,
        granted=True,
    )
    for old in before:
        assert services.resolve_address(scene.deps, actor_id=reader, address=old.address) == (
            f"zuid/{old.id}"
        )
        document, stream = services.open_document(
            scene.deps, scene.world.archives, actor_id=reader, address=old.address
        )
        with stream:
            assert stream.read() == content(administration, before.index(old))
        assert document.address == f"zuid/{old.id}"


def test_the_source_lets_go_of_blobs_that_nothing_else_keeps_after_the_grace_period(
    scene: Scene,
) -> None:
    administration = scene.administration()
    moved = fill(scene, administration, 3)
    stays = scene.administration("0043", "Slagerij Vos")
    same = moved[0]
    with scene.world.uow() as uow:  # Slagerij Vos keeps a document with the same bytes
        uow.documents.add(
            stays.id,
            filename="kopie.pdf",
            content_type=same.content_type,
            size=same.size,
            sha256=same.sha256,
            archive_store=same.archive_store,
            blob_key=same.blob_key,
            received_at=same.received_at,
        )
        uow.commit()
    _, migration = scene.started(administration)

    run(scene, migration.id)

    noord = scene.world.archives.store("noord")
    assert set(noord.blobs) == {d.blob_key for d in moved}
    assert after_grace(scene) == [migration.id]
    assert set(noord.blobs) == {moved[0].blob_key}
    assert migration_of(scene, migration.id).source_released_at == scene.world.clock.now()
    assert after_grace(scene) == []


def test_a_connector_that_can_rewrite_links_gets_the_new_addresses(scene: Scene) -> None:
    connector = scene.world.connectors.connector(EXACT)
    connector.can_rewrite_links = True
    administration = scene.administration()
    before = fill(scene, administration, 2)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    portal = "http://localhost:5000/documenten"
    assert connector.rewrites == [
        (
            scene.zuid.connection.id,
            migration.target.package_admin_id,
            {f"{portal}/noord/{d.id}": f"{portal}/zuid/{d.id}" for d in before},
        )
    ]


def test_links_that_cannot_be_rewritten_are_reported_and_the_move_stays_completed(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = scene.world.connectors.connector(EXACT)
    connector.can_rewrite_links = True

    def unavailable(*args: object) -> int:
        raise PackageError("package_unavailable", package=EXACT.label)

    monkeypatch.setattr(connector, "rewrite_links", unavailable)
    administration = scene.administration()
    fill(scene, administration, 2)
    _, migration = scene.started(administration)

    run(scene, migration.id)
    for _ in range(engine.LINK_ATTEMPTS):
        sweep_and_run(scene)

    assert status(scene, migration) is ItemStatus.COMPLETED
    [email] = scene.emails_of_kind("links_not_rewritten")
    assert email.to == ("baas@zuid.nl",)
    unavailable = PackageError("package_unavailable", package="Exact Online (NL)")
    assert f"Reden: {unavailable.message('nl')}" in email.body
    done = migration_of(scene, migration.id)
    assert (done.links_attempts, done.links_rewritten_at) == (engine.LINK_ATTEMPTS, None)
    after_grace(scene)
    assert scene.world.archives.store("noord").blobs == {}


# --- fan-out ---------------------------------------------------------------------------------


def test_a_big_archive_fans_out_in_batches_and_the_finish_completes(small_batches: Scene) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    [(fanned, batches)] = scene.world.queue.fanned_out
    assert fanned == migration.id
    assert [(b.first_id, b.last_id) for b in batches] == [
        (documents[0].id, documents[2].id),
        (documents[3].id, documents[5].id),
        (documents[6].id, documents[6].id),
    ]
    planned = migration_of(scene, migration.id)
    assert (planned.documents_done, planned.documents_total) == (0, 7)
    assert status(scene, migration) is ItemStatus.PROCESSING

    run_batches(scene)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert {d.archive_store for d in archive_of(scene, administration)} == {"zuid"}
    assert charges(scene) == 1


def test_progress_in_documents_and_bytes_is_readable_after_each_batch(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    [first, *_] = scene.world.queue.take_batches()

    engine.copy_batch(scene.deps, scene.world.archives, migration.id, first.first_id, first.last_id)

    progress = services.migration_progress(
        scene.deps, actor_id=scene.noord.super_user.id, migration_id=migration.id
    )
    assert progress.status is ItemStatus.PROCESSING
    assert (progress.migration.documents_done, progress.migration.documents_total) == (3, 7)
    assert progress.migration.bytes_done == sum(d.size for d in documents[:3])
    assert progress.migration.bytes_total == sum(d.size for d in documents)
    assert progress.percent == 42


def test_a_big_archive_fans_out_in_jobs_of_several_batches_yet_enough_to_share(
    scene: Scene,
) -> None:
    scene.deps = attrs.evolve(
        scene.deps, policy=attrs.evolve(scene.deps.policy, batch_size=1, batches_per_job=3)
    )
    administration = scene.administration()
    many = fill(scene, administration, 3 * engine.SHARED_JOBS + 2)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    # Jobs of at most three batches of one document each.
    [(_, batches)] = scene.world.queue.fanned_out
    ids = [d.id for d in many]
    assert [(b.first_id, b.last_id) for b in batches] == [
        (ids[n], ids[min(n + 2, len(ids) - 1)]) for n in range(0, len(ids), 3)
    ]
    run_batches(scene)
    assert status(scene, migration) is ItemStatus.COMPLETED

    # An archive of few batches is still shared: one job per batch, up to SHARED_JOBS.
    administration = scene.administration("0043", "Slagerij Vos")
    few = fill(scene, administration, engine.SHARED_JOBS - 1)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    [_, (_, batches)] = scene.world.queue.fanned_out
    assert [(b.first_id, b.last_id) for b in batches] == [(d.id, d.id) for d in few]


def test_a_job_of_several_batches_commits_each_so_a_crash_loses_one_batch(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 8)
    crashes = [documents[4].blob_key]

    def crash_once(key: str) -> None:
        if key in crashes:
            crashes.remove(key)
            raise RuntimeError("the worker was killed")

    watch_zuid(scene, crash_once)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    scene.world.queue.take_batches()
    first, last = documents[0].id, documents[-1].id

    with pytest.raises(RuntimeError):
        engine.copy_batch(scene.deps, scene.world.archives, migration.id, first, last)

    assert copies_of(scene, migration) == 3  # the first batch stays committed
    engine.copy_batch(scene.deps, scene.world.archives, migration.id, first, last)
    engine.finish_migration(scene.deps, scene.world.archives, migration.id)
    assert status(scene, migration) is ItemStatus.COMPLETED
    assert copies_of(scene, migration) == 8


def test_a_job_counts_its_progress_at_its_first_and_last_batch_and_every_few_seconds(
    small_batches: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 12)

    def time_passes(key: str) -> None:
        if key == documents[4].blob_key:  # in the second batch
            scene.world.clock.advance(engine.PROGRESS_EVERY)

    watch_zuid(scene, time_passes)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    scene.world.queue.take_batches()
    counted = []
    record_progress = engine._record_progress

    def counting(uow: Any, move: Any) -> None:
        counted.append(uow.copies.totals(migration.id).documents)
        record_progress(uow, move)

    monkeypatch.setattr(engine, "_record_progress", counting)

    engine.copy_batch(
        scene.deps, scene.world.archives, migration.id, documents[0].id, documents[-1].id
    )

    # The first batch, the second (time enough passed), not the third, and the last.
    assert counted == [3, 6, 12]
    assert migration_of(scene, migration.id).documents_done == 12


def test_a_job_asked_to_stop_commits_its_batch_in_hand_and_the_finish_copies_the_rest(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 12)

    def stop_at(key: str) -> None:
        if key == documents[4].blob_key:  # in the second batch
            scene.deps.stopping.set()

    zuid = watch_zuid(scene, stop_at)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    scene.world.queue.take_batches()

    engine.copy_batch(
        scene.deps, scene.world.archives, migration.id, documents[0].id, documents[-1].id
    )

    assert copies_of(scene, migration) == 6  # two batches of three, the third not begun
    assert status(scene, migration) is ItemStatus.PROCESSING
    scene.deps.stopping.clear()  # the next worker
    engine.finish_migration(scene.deps, scene.world.archives, migration.id)
    assert status(scene, migration) is ItemStatus.COMPLETED
    assert all(zuid.copied[d.blob_key] == 1 for d in documents)


def test_a_move_asked_to_stop_in_its_finish_goes_back_to_the_queue_for_the_next_worker(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    zuid = watch_zuid(scene, lambda key: scene.deps.stopping.set())
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.QUEUED
    assert copies_of(scene, migration) == 3
    assert scene.world.queue.take() == [migration.id]
    scene.deps.stopping.clear()  # the next worker
    run(scene, migration.id)
    assert status(scene, migration) is ItemStatus.COMPLETED
    assert all(zuid.copied[d.blob_key] == 1 for d in documents)
    assert charges(scene) == 1
    assert migration_of(scene, migration.id).attempts == 2


def test_a_stop_does_not_give_back_a_migration_claimed_again_since(scene: Scene) -> None:
    administration = scene.administration()
    fill(scene, administration, 3)
    _, migration = scene.started(administration)
    first = moving.claim_migration(scene.deps, migration.id)
    assert first is not None
    scene.world.clock.advance(LEASE + timedelta(seconds=1))
    sweep(scene.deps)
    assert moving.claim_migration(scene.deps, migration.id) is not None

    handed = moving.hand_back(scene.deps, migration.id, attempt=first.attempts)

    assert not handed
    assert status(scene, migration) is ItemStatus.PROCESSING


def test_a_batch_s_files_are_copied_by_several_threads_at_once(scene: Scene) -> None:
    administration = scene.administration()
    fill(scene, administration, 2 * engine.COPY_THREADS)
    # Each copy waits until COPY_THREADS copies are under way together.
    together = threading.Barrier(engine.COPY_THREADS, timeout=10)
    watch_zuid(scene, lambda key: together.wait())
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert copies_of(scene, migration) == 2 * engine.COPY_THREADS


def test_a_batch_redone_after_a_crash_doubles_nothing(small_batches: Scene) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    crashes = [documents[4].blob_key]

    def crash_once(key: str) -> None:
        if key in crashes:
            crashes.remove(key)
            raise RuntimeError("the worker was killed")

    zuid = watch_zuid(scene, crash_once)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    first, second, third = scene.world.queue.take_batches()
    engine.copy_batch(scene.deps, scene.world.archives, migration.id, first.first_id, first.last_id)

    with pytest.raises(RuntimeError):
        engine.copy_batch(
            scene.deps, scene.world.archives, migration.id, second.first_id, second.last_id
        )

    assert copies_of(scene, migration) == 3  # the batch in flight is lost, nothing more
    for batch in (second, third):
        engine.copy_batch(
            scene.deps, scene.world.archives, migration.id, batch.first_id, batch.last_id
        )
    engine.finish_migration(scene.deps, scene.world.archives, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert copies_of(scene, migration) == 7
    assert len(zuid.blobs) == 7
    assert zuid.copied[documents[3].blob_key] == 2  # redone, stored once
    assert charges(scene) == 1
    assert len(scene.emails_of_kind("migration_completed")) == 2


# --- uploads during the move -----------------------------------------------------------------


def upload(scene: Scene, administration: Administration, data: bytes) -> Document:
    return services.add_document(
        scene.deps,
        scene.world.archives,
        actor_id=scene.noord.super_user.id,
        administration_id=administration.id,
        filename="nagekomen.pdf",
        stream=io.BytesIO(data),
    )


def test_a_document_uploaded_during_the_move_is_carried_over(small_batches: Scene) -> None:
    scene = small_batches
    administration = scene.administration()
    fill(scene, administration, 4)
    _, migration = scene.started(administration)
    run(scene, migration.id)

    late = upload(scene, administration, b"%PDF-1.7 nagekomen factuur")
    run_batches(scene)

    assert status(scene, migration) is ItemStatus.COMPLETED
    after = archive_of(scene, administration)
    assert len(after) == 5
    assert {d.archive_store for d in after} == {"zuid"}
    moved = next(d for d in after if d.id == late.id)
    assert scene.world.archives.store("zuid").blobs[moved.blob_key] == b"%PDF-1.7 nagekomen factuur"
    done = migration_of(scene, migration.id)
    assert (done.documents_done, done.documents_total) == (5, 5)


def test_a_document_that_arrives_just_before_the_finish_is_copied_first(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    administration = scene.administration()
    fill(scene, administration, 2)
    _, migration = scene.started(administration)
    copy_uncopied = engine._copy_uncopied
    arrivals = [b"%PDF-1.7 net op tijd"]

    def then_an_upload(*args: Any, **kwargs: Any) -> bool:
        copied = copy_uncopied(*args, **kwargs)
        if arrivals:
            upload(scene, administration, arrivals.pop())
        return copied

    monkeypatch.setattr(engine, "_copy_uncopied", then_an_upload)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert [d.archive_store for d in archive_of(scene, administration)] == ["zuid"] * 3


# --- failures and retries --------------------------------------------------------------------


def test_a_checksum_mismatch_fails_the_move_and_a_retry_resumes_from_its_copies(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    noord = scene.world.archives.store("noord")
    broken = documents[4]
    noord.blobs[broken.blob_key] = b"beschadigd"
    zuid = watch_zuid(scene)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    run_batches(scene)

    assert status(scene, migration) is ItemStatus.FAILED
    failed = migration_of(scene, migration.id)
    assert (failed.failure_code, failed.failure_params) == (
        "checksum_mismatch",
        (("filename", "factuur-4.pdf"),),
    )
    [email] = scene.emails_of_kind("migration_failed")
    assert email.to == ("baas@zuid.nl",)
    assert f"Reden: {failed.failure_reason}" in email.body
    assert copies_of(scene, migration) == 3

    noord.blobs[broken.blob_key] = content(administration, 4)
    services.retry_migration(
        scene.deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id
    )
    [woken] = scene.world.queue.take()[-1:]
    run(scene, woken)
    run_batches(scene)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert all(zuid.copied[d.blob_key] == 1 for d in documents[:3])
    assert copies_of(scene, migration) == 7
    assert charges(scene) == 1


def test_a_failed_integrity_check_fails_the_move_and_moves_nothing(scene: Scene) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)

    class Short(FakeArchiveStore):
        """Holds one copy a byte short, and says so."""

        def copy_from(
            self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
        ) -> StoredBlob:
            blob = super().copy_from(source, key, sha256=sha256, size=size)
            return attrs.evolve(blob, size=blob.size - 1) if key == documents[1].blob_key else blob

        def sizes(self, keys: Collection[str]) -> dict[str, int]:
            short = {documents[1].blob_key}
            return {k: size - (k in short) for k, size in super().sizes(keys).items()}

    scene.world.archives.stores["zuid"] = Short("zuid")
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.FAILED
    failed = migration_of(scene, migration.id)
    assert (failed.failure_code, failed.failure_params) == (
        "integrity_failed",
        (("missing", "1"), ("total", "3")),
    )
    assert archive_of(scene, administration) == documents
    assert scene.reloaded(administration).environment_id == scene.noord.environment.id
    assert charges(scene) == 0


def test_a_missing_source_blob_fails_the_move_naming_the_document(scene: Scene) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 2)
    del scene.world.archives.store("noord").blobs[documents[1].blob_key]
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.FAILED
    failed = migration_of(scene, migration.id)
    assert (failed.failure_code, failed.failure_params) == (
        "document_missing",
        (("filename", "factuur-1.pdf"), ("store", "noord")),
    )


# --- what a store forgets ---------------------------------------------------------------------


class ForgetfulStore(WatchedStore):
    """A target store that loses the copies of ``forgets`` right after making them, the
    first ``times`` times (all the time with ``None``): a volume lost and restored empty."""

    def __init__(self, name: str, forgets: set[str], times: int | None = 1) -> None:
        super().__init__(name)
        self.forgets = forgets
        self.times = times

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        blob = super().copy_from(source, key, sha256=sha256, size=size)
        if key in self.forgets and (self.times is None or self.copied[key] <= self.times):
            del self.blobs[key]
        return blob


def assert_every_document_in(scene: Scene, administration: Administration, store: str) -> None:
    """Every document of the administration lives in ``store``, which holds its bytes."""
    blobs = scene.world.archives.store(store).blobs
    for n, document in enumerate(archive_of(scene, administration)):
        assert document.archive_store == store
        assert blobs[document.blob_key] == content(administration, n), document.filename


def test_copies_the_target_lost_before_the_finish_are_copied_again_and_the_move_completes(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    zuid = watch_zuid(scene)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    batches = scene.world.queue.take_batches()
    for batch in batches:
        engine.copy_batch(scene.deps, scene.world.archives, migration.id, *batch_ids(batch))
    lost = {documents[1].blob_key, documents[5].blob_key}
    for key in lost:  # the target's volume loses them between the copy and the finish
        del zuid.blobs[key]

    engine.finish_migration(scene.deps, scene.world.archives, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert_every_document_in(scene, administration, "zuid")
    assert {key for key, times in zuid.copied.items() if times == 2} == lost


def batch_ids(batch: Any) -> tuple[int, int]:
    return batch.first_id, batch.last_id


def test_a_copy_lost_right_after_it_was_made_is_copied_again_inside_the_finish(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    zuid = ForgetfulStore("zuid", {documents[2].blob_key})
    scene.world.archives.stores["zuid"] = zuid
    _, migration = scene.started(administration)

    run(scene, migration.id)  # one batch: copied by the finish itself, then checked

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert_every_document_in(scene, administration, "zuid")
    assert zuid.copied[documents[2].blob_key] == 2


def test_a_target_that_keeps_losing_a_copy_fails_the_move_naming_the_document(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    zuid = ForgetfulStore("zuid", {documents[1].blob_key}, times=None)
    scene.world.archives.stores["zuid"] = zuid
    _, migration = scene.started(administration)

    run(scene, migration.id)

    failed = migration_of(scene, migration.id)
    assert status(scene, migration) is ItemStatus.FAILED
    assert failed.failure_code == "copies_lost"
    assert dict(failed.failure_params) == {
        "store": "zuid",
        "count": "1",
        "filenames": "factuur-1.pdf",
    }
    assert zuid.copied[documents[1].blob_key] == engine.LOST_ROUNDS + 1
    assert archive_of(scene, administration) == documents
    assert charges(scene) == 0


def test_a_retry_checks_the_copies_recorded_and_copies_again_what_the_target_lost(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    noord = scene.world.archives.store("noord")
    noord.blobs[documents[4].blob_key] = b"beschadigd"
    zuid = watch_zuid(scene)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    run_batches(scene)
    assert status(scene, migration) is ItemStatus.FAILED
    assert copies_of(scene, migration) == 3
    noord.blobs[documents[4].blob_key] = content(administration, 4)
    del zuid.blobs[documents[0].blob_key]  # lost while the move had failed

    services.retry_migration(
        scene.deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id
    )
    [woken] = scene.world.queue.take()[-1:]
    run(scene, woken)
    # The claim checked the records first: the lost copy is planned among the batches.
    assert copies_of(scene, migration) == 2
    run_batches(scene)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert_every_document_in(scene, administration, "zuid")
    assert zuid.copied[documents[0].blob_key] == 2
    assert all(zuid.copied[d.blob_key] == 1 for d in documents[1:3])


def test_the_release_copies_again_what_the_target_lost_after_the_finish_then_lets_go(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    zuid = watch_zuid(scene)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    del zuid.blobs[documents[2].blob_key]  # lost between the finish and the release

    assert after_grace(scene) == [migration.id]

    assert_every_document_in(scene, administration, "zuid")
    assert scene.world.archives.store("noord").blobs == {}
    assert migration_of(scene, migration.id).source_released_at is not None


class BrokenTarget(WatchedStore):
    """A target store whose copies fail while ``broken``."""

    broken = True

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        if self.broken:
            raise ArchiveError("target_archive_read_only", store=self.name)
        return super().copy_from(source, key, sha256=sha256, size=size)


def test_the_release_keeps_the_source_blob_of_a_copy_the_target_lost_until_it_is_copied_again(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    zuid = BrokenTarget("zuid")
    zuid.broken = False
    scene.world.archives.stores["zuid"] = zuid
    _, migration = scene.started(administration)
    run(scene, migration.id)
    lost = documents[0]
    del zuid.blobs[lost.blob_key]
    zuid.broken = True
    noord = scene.world.archives.store("noord")

    assert after_grace(scene) == [migration.id]
    # Never a document without bytes anywhere: its source blob stays; the rest may go.
    assert set(noord.blobs) == {lost.blob_key}
    assert migration_of(scene, migration.id).source_released_at is None

    zuid.broken = False
    assert sweep_and_run(scene) == [migration.id]
    assert_every_document_in(scene, administration, "zuid")
    assert noord.blobs == {}
    assert migration_of(scene, migration.id).source_released_at is not None


class UnreachableTarget(WatchedStore):
    """A target store that cannot be asked what it holds while ``down``."""

    down = False

    def sizes(self, keys: Collection[str]) -> dict[str, int]:
        if self.down:
            raise ArchiveError("archive_unavailable", store=self.name)
        return super().sizes(keys)


def test_a_target_that_cannot_be_asked_keeps_every_source_blob(scene: Scene) -> None:
    administration = scene.administration()
    fill(scene, administration, 2)
    zuid = UnreachableTarget("zuid")
    scene.world.archives.stores["zuid"] = zuid
    _, migration = scene.started(administration)
    run(scene, migration.id)
    zuid.down = True

    after_grace(scene)

    assert len(scene.world.archives.store("noord").blobs) == 2
    assert migration_of(scene, migration.id).source_released_at is None


# --- leases, heartbeats and the sweeper -------------------------------------------------------


def test_a_heartbeat_that_finds_the_migration_taken_back_stops_without_committing(
    scene: Scene,
) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)

    def lease_runs_out(key: str) -> None:
        if key == documents[1].blob_key:
            scene.world.clock.advance(LEASE + timedelta(seconds=1))
            services.requeue_stale(scene.deps)

    watch_zuid(scene, lease_runs_out)
    _, migration = scene.started(administration)

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.QUEUED
    assert copies_of(scene, migration) == 0
    assert scene.world.queue.enqueued == [migration.id, migration.id]

    watch_zuid(scene)
    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED


def test_a_long_batch_keeps_its_lease_with_heartbeats(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One copy at a time, so that the fake clock's minutes add up as a slow disk's would.
    monkeypatch.setattr(engine, "COPY_THREADS", 1)
    administration = scene.administration()
    documents = fill(scene, administration, 4)
    leases = []

    def slow(key: str) -> None:
        scene.world.clock.advance(timedelta(minutes=1))
        leases.append(migration_of(scene, migration.id).lease_expires_at)

    watch_zuid(scene, slow)
    _, migration = scene.started(administration)
    claimed_at = scene.world.clock.now()

    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert len(leases) == len(documents)
    # Each minute-long copy after the first is preceded by a heartbeat: the lease never ran out.
    assert leases == [claimed_at + LEASE + timedelta(minutes=n) for n in range(4)]


def test_of_two_workers_handed_the_same_migration_one_does_the_work(scene: Scene) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    rivals: list[str] = []

    def rival_worker(key: str) -> None:
        if not rivals:
            rivals.append(key)
            run(scene, migration.id)

    zuid = watch_zuid(scene, rival_worker)
    _, migration = scene.started(administration)

    run(scene, migration.id)
    before = scene.snapshot()
    run(scene, migration.id)

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert zuid.copied == {d.blob_key: 1 for d in documents}
    assert scene.snapshot() == before
    assert charges(scene) == 1


def test_the_sweeper_wakes_a_migration_whose_wake_up_was_lost(scene: Scene) -> None:
    _, migration = scene.started()
    scene.world.queue.take()

    assert services.requeue_stale(scene.deps) == [migration.id]
    assert scene.world.queue.take() == [migration.id]


def test_the_sweeper_takes_back_a_migration_whose_lease_ran_out(scene: Scene) -> None:
    _, migration = scene.processing()
    scene.world.queue.take()
    scene.world.clock.advance(LEASE - timedelta(seconds=1))

    assert services.requeue_stale(scene.deps) == []
    assert status(scene, migration) is ItemStatus.PROCESSING

    scene.world.clock.advance(timedelta(seconds=2))

    assert services.requeue_stale(scene.deps) == [migration.id]
    assert status(scene, migration) is ItemStatus.QUEUED
    with scene.world.uow() as uow:
        assert uow.items.status_changes(migration.item_id)[-1].event == "lease_expired"
    assert scene.world.queue.take() == [migration.id]


def test_the_sweeper_leaves_finished_and_failed_migrations_alone(scene: Scene) -> None:
    _, done = scene.processing()
    services.complete_migration(scene.deps, done.id)
    _, failed = scene.processing(scene.administration("0043", "Slagerij Vos"))
    services.fail_migration(scene.deps, failed.id, "Archief onbereikbaar")
    scene.world.clock.advance(timedelta(days=1))

    assert services.requeue_stale(scene.deps) == []


def test_a_fanned_out_move_taken_back_by_the_sweeper_is_planned_again_and_finishes(
    small_batches: Scene,
) -> None:
    scene = small_batches
    administration = scene.administration()
    documents = fill(scene, administration, 7)
    zuid = watch_zuid(scene)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    [first, *_] = scene.world.queue.take_batches()
    engine.copy_batch(scene.deps, scene.world.archives, migration.id, first.first_id, first.last_id)
    scene.world.clock.advance(LEASE + timedelta(seconds=1))
    services.requeue_stale(scene.deps)

    run(scene, scene.world.queue.take()[-1])

    [_, (_, again)] = scene.world.queue.fanned_out
    assert [(b.first_id, b.last_id) for b in again] == [
        (documents[3].id, documents[5].id),
        (documents[6].id, documents[6].id),
    ]
    run_batches(scene)
    assert status(scene, migration) is ItemStatus.COMPLETED
    assert zuid.copied == {d.blob_key: 1 for d in documents}


# --- after the finish ------------------------------------------------------------------------


def test_a_move_on_one_store_leaves_nothing_to_do_after_its_finish(scene: Scene) -> None:
    administration = scene.administration()
    fill(scene, administration, 2)
    migration = started_to(scene, administration, neighbour(scene))

    run(scene, migration.id)

    done = migration_of(scene, migration.id)
    assert done.links_rewritten_at == done.source_released_at == done.finished_at
    assert after_grace(scene) == []


def test_a_worker_killed_right_after_the_finish_leaves_the_links_and_the_release_to_the_sweeper(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = scene.world.connectors.connector(EXACT)
    connector.can_rewrite_links = True
    administration = scene.administration()
    documents = fill(scene, administration, 2)
    _, migration = scene.started(administration)
    monkeypatch.setattr(engine, "after_finish", lambda *args: None)  # killed there
    run(scene, migration.id)
    monkeypatch.undo()
    assert status(scene, migration) is ItemStatus.COMPLETED

    assert sweep_and_run(scene) == [migration.id]

    assert len(connector.rewrites) == 1
    noord = scene.world.archives.store("noord")
    assert set(noord.blobs) == {d.blob_key for d in documents}  # not before the grace period
    assert sweep_and_run(scene) == []
    assert after_grace(scene) == [migration.id]
    assert noord.blobs == {}
    assert len(connector.rewrites) == 1
    assert charges(scene) == 1


def test_links_that_fail_at_first_are_rewritten_by_a_later_sweep_without_an_email(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = scene.world.connectors.connector(EXACT)
    connector.can_rewrite_links = True
    rewrite_links = connector.rewrite_links
    failures = [PackageError("package_rate_limited", package=EXACT.label)] * 2

    def busy_at_first(*args: Any) -> int:
        if failures:
            raise failures.pop()
        return rewrite_links(*args)

    monkeypatch.setattr(connector, "rewrite_links", busy_at_first)
    administration = scene.administration()
    fill(scene, administration, 2)
    _, migration = scene.started(administration)

    run(scene, migration.id)
    assert sweep_and_run(scene) == [migration.id]
    assert sweep_and_run(scene) == [migration.id]
    assert sweep_and_run(scene) == []

    assert len(connector.rewrites) == 1
    done = migration_of(scene, migration.id)
    assert (done.links_attempts, done.links_rewritten_at) == (3, scene.world.clock.now())
    assert scene.emails_of_kind("links_not_rewritten") == []


def test_a_blob_uploaded_again_during_the_grace_period_is_kept(scene: Scene) -> None:
    administration = scene.administration()
    documents = fill(scene, administration, 3)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    again = upload(scene, scene.administration("0043", "Slagerij Vos"), content(administration, 1))

    after_grace(scene)

    assert again.blob_key == documents[1].blob_key
    assert set(scene.world.archives.store("noord").blobs) == {again.blob_key}


class StubbornStore(FakeArchiveStore):
    """A store whose deletes fail until it is told to take them."""

    deletes_fail = True

    def delete(self, key: str) -> None:
        if self.deletes_fail:
            raise OSError("read-only file system")
        super().delete(key)


def test_blobs_that_cannot_be_deleted_are_released_by_a_later_sweep(scene: Scene) -> None:
    noord = StubbornStore("noord")
    scene.world.archives.stores["noord"] = noord
    administration = scene.administration()
    fill(scene, administration, 2)
    _, migration = scene.started(administration)
    run(scene, migration.id)

    assert after_grace(scene) == [migration.id]
    assert len(noord.blobs) == 2
    assert migration_of(scene, migration.id).source_released_at is None

    noord.deletes_fail = False
    assert sweep_and_run(scene) == [migration.id]
    assert noord.blobs == {}
    assert sweep_and_run(scene) == []


class FinishingStore(FakeArchiveStore):
    """A source store that runs ``during_write`` once, after its next write: the finish of
    a move that slips in between an upload's blob and its row."""

    during_write: Callable[[], object] | None = None

    def write(self, stream: BinaryIO) -> StoredBlob:
        blob = super().write(stream)
        if self.during_write is not None:
            during_write, self.during_write = self.during_write, None
            during_write()
        return blob


@pytest.mark.parametrize("shared", [False, True], ids=["alone", "shared"])
def test_an_upload_refused_because_the_move_finished_first_keeps_only_shared_bytes(
    scene: Scene, shared: bool
) -> None:
    noord = FinishingStore("noord")
    scene.world.archives.stores["noord"] = noord
    administration = scene.administration()
    fill(scene, administration, 1)
    if shared:  # Slagerij Vos keeps a document with the very bytes of the upload
        upload(scene, scene.administration("0043", "Slagerij Vos"), content(administration, 7))
    _, migration = scene.started(administration)
    noord.during_write = lambda: run(scene, migration.id)
    before = set(noord.blobs)

    with pytest.raises(NotFound):
        upload(scene, administration, content(administration, 7))

    assert status(scene, migration) is ItemStatus.COMPLETED
    assert set(noord.blobs) == before  # the moved document's blob waits for the grace period
    assert len(archive_of(scene, administration)) == 1
