"""The engine on SQLite, PostgreSQL and the in-memory fake: whole moves of 1,200 documents
on one store and across stores (in fake archive stores), and two workers at once."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import attrs
import pytest
import sqlalchemy
from sqlalchemy import Engine

from migrationkit import services
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Document,
    ItemStatus,
    Migration,
    PackageAdministration,
    Role,
    User,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import Dependencies, TargetChoice, engine
from migrationkit.services.sweeping import sweep
from migrationkit.testing import (
    FakeArchiveStore,
    FakeArchiveStores,
    FakeClock,
    FakeConnectorRegistry,
    FakeJobQueue,
    make_dependencies,
)

EXACT = AccountingPackage.EXACT_ONLINE_NL
#: The whole move's archive: more than two batches of the default 500.
DOCUMENTS = 1_200
#: The races' archive, in batches of ``SMALL_BATCH``: three batches.
FEW_DOCUMENTS = 150
SMALL_BATCH = 50


@attrs.frozen
class Move:
    """Noord's administration with its archive, offered to and started by ``recipient``."""

    deps: Dependencies
    archives: FakeArchiveStores
    queue: FakeJobQueue
    administration: Administration
    documents: list[Document]
    recipient: User
    migration: Migration

    def uow(self) -> UnitOfWork:
        return self.deps.uow()

    def status(self) -> ItemStatus:
        with self.uow() as uow:
            item = uow.items.get(self.migration.item_id)
        assert item is not None
        return item.status

    def archive(self) -> list[Document]:
        with self.uow() as uow:
            return list(uow.documents.list_for_administration(self.administration.id))

    def run_batches(self) -> None:
        """Every batch recorded, then the finishing job."""
        for batch in self.queue.take_batches():
            engine.copy_batch(
                self.deps, self.archives, batch.migration_id, batch.first_id, batch.last_id
            )
        engine.finish_migration(self.deps, self.archives, self.migration.id)


def content(n: int) -> bytes:
    """A document's bytes: a PDF, as an upload must be, distinct per ``n``."""
    return b"%PDF-1.4\n" + f"factuur {n}\n".encode() * (n % 3 + 1)


def started(
    uow_factory: Callable[[], UnitOfWork],
    recipient_store: str,
    documents: int = DOCUMENTS,
    batch_size: int = 500,
) -> Move:
    """An archive of Noord (store "noord") offered to an office on ``recipient_store`` and
    started there."""
    connectors = FakeConnectorRegistry()
    queue = FakeJobQueue()
    deps = make_dependencies(uow=uow_factory, connectors=connectors, queue=queue, clock=FakeClock())
    deps = attrs.evolve(deps, policy=attrs.evolve(deps.policy, batch_size=batch_size))
    archives = FakeArchiveStores()
    with uow_factory() as uow:
        noord = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        target = uow.environments.add("Doel", has_subscription=True, archive_store=recipient_store)
        sender = uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER)
        recipient = uow.users.add(target.id, "baas@doel.nl", "Baas Doel", Role.SUPER_USER)
        source = uow.connections.add(noord.id, EXACT, "Exact Noord")
        connection = uow.connections.add(target.id, EXACT, "Exact Doel")
        administration = uow.administrations.add(
            noord.id, source.id, "0042", "Bakkerij", "0042@inbox.example", "noord-42"
        )
        store = archives.store("noord")
        archive = []
        for n in range(documents):
            blob = store.write(io.BytesIO(content(n)))
            archive.append(
                uow.documents.add(
                    administration.id,
                    filename=f"factuur-{n}.pdf",
                    content_type="application/pdf",
                    size=blob.size,
                    sha256=blob.sha256,
                    archive_store="noord",
                    blob_key=blob.key,
                    received_at=deps.clock.now(),
                )
            )
        uow.commit()
    connectors.connector(EXACT).add_package_administration(
        connection.id, PackageAdministration("doel-42", "0042", "Bakkerij")
    )
    receipt = services.offer_administrations(
        deps,
        actor_id=sender.id,
        connection_id=source.id,
        administration_ids=[administration.id],
        recipients=[recipient.email],
        accepted_terms=True,
    )
    services.redeem_code(
        deps, actor_id=recipient.id, code=receipt.code, accepted_terms=True, accepted_costs=True
    )
    [migration] = services.start_migrations(
        deps,
        actor_id=recipient.id,
        offer_id=receipt.offer.id,
        choices=[TargetChoice(receipt.items[0].id, connection.id, "doel-42")],
    )
    return Move(deps, archives, queue, administration, archive, recipient, migration)


def test_a_move_on_one_store_keeps_every_document_as_it_was(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    move = started(uow_factory, "noord", FEW_DOCUMENTS)

    engine.run_migration(move.deps, move.archives, move.migration.id)

    assert move.status() is ItemStatus.COMPLETED
    assert move.archive() == move.documents
    assert move.archives.store("noord").writes == FEW_DOCUMENTS  # the arrangement's, no more
    assert move.queue.fanned_out == []
    with move.uow() as uow:
        assert uow.copies.totals(move.migration.id).documents == 0
        assert uow.redirects.list_for_migration(move.migration.id) == []


def test_a_move_across_stores_fans_out_and_carries_every_document_over(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    move = started(uow_factory, "zuid")

    engine.run_migration(move.deps, move.archives, move.migration.id)
    [(_, batches)] = move.queue.fanned_out
    assert [b.last_id - b.first_id + 1 for b in batches] == [500, 500, 200]
    move.run_batches()

    assert move.status() is ItemStatus.COMPLETED
    zuid, noord = move.archives.store("zuid"), move.archives.store("noord")
    after = move.archive()
    assert [d.id for d in after] == [d.id for d in move.documents]
    assert all(d.archive_store == "zuid" for d in after)
    assert [zuid.blobs[d.blob_key] for d in after] == [content(n) for n in range(DOCUMENTS)]
    assert len(noord.blobs) == DOCUMENTS  # kept for the grace period
    with move.uow() as uow:
        redirects = uow.redirects.list_for_migration(move.migration.id)
        assert [(r.old_address, r.new_address) for r in redirects] == [
            (f"noord/{d.id}", f"zuid/{d.id}") for d in move.documents
        ]
        assert len(uow.charges.list_for_environment(move.recipient.environment_id)) == 1
        kinds = [m.email.kind for m in uow.outbox.list_recent(limit=100)]
        migration = uow.migrations.get(move.migration.id)
    assert sorted(kinds) == [
        "migration_completed",
        "migration_completed",
        "migration_started",
        "offer_code",
    ]
    assert migration is not None
    assert migration.documents_done == migration.documents_total == DOCUMENTS
    assert migration.bytes_done == migration.bytes_total == sum(d.size for d in move.documents)

    assert isinstance(move.deps.clock, FakeClock)
    move.deps.clock.advance(move.deps.policy.release_source_after + timedelta(seconds=1))
    assert sweep(move.deps).after_finish == (move.migration.id,)
    for woken in move.queue.take():
        engine.run_migration(move.deps, move.archives, woken)
    assert noord.blobs == {}
    assert sweep(move.deps).after_finish == ()


@pytest.mark.parametrize("uow_factory", ["postgres"], indirect=True)
def test_batches_that_commit_at_once_count_each_others_copies(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    move = started(uow_factory, "zuid", FEW_DOCUMENTS, SMALL_BATCH)
    engine.run_migration(move.deps, move.archives, move.migration.id)
    batches = move.queue.take_batches()

    with ThreadPoolExecutor(len(batches)) as pool:
        for done in [
            pool.submit(
                engine.copy_batch, move.deps, move.archives, b.migration_id, b.first_id, b.last_id
            )
            for b in batches
        ]:
            done.result()

    with move.uow() as uow:
        migration = uow.migrations.get(move.migration.id)
    assert migration is not None
    assert migration.documents_done == FEW_DOCUMENTS


@pytest.mark.parametrize("uow_factory", ["postgres"], indirect=True)
def test_of_two_workers_started_at_once_on_one_migration_one_does_the_work(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    move = started(uow_factory, "zuid", FEW_DOCUMENTS, SMALL_BATCH)
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        engine.run_migration(move.deps, move.archives, move.migration.id)

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(worker) for _ in range(2)]:
            done.result()

    assert len(move.queue.fanned_out) == 1
    move.run_batches()
    assert move.status() is ItemStatus.COMPLETED
    with move.uow() as uow:
        assert [c.event for c in uow.items.status_changes(move.migration.item_id)] == [
            "offer",
            "start",
            "claim",
            "complete",
        ]


# --- an upload of the very bytes the release of a move's source deletes ------------------------


class HeldStore(FakeArchiveStore):
    """Noord's store, where a release's delete or an upload's look at its blob stops at a
    gate until the test opens it: each side of the race held inside its transaction."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        super().__init__("noord")
        self.blobs = dict(blobs)
        self.stop_in: str | None = None
        self.reached = threading.Event()
        self.gate = threading.Event()

    def delete(self, key: str) -> None:
        self._stop("delete")
        super().delete(key)

    def sizes(self, keys: Collection[str]) -> dict[str, int]:
        self._stop("sizes")
        return super().sizes(keys)

    def _stop(self, where: str) -> None:
        if self.stop_in == where:
            self.stop_in = None
            self.reached.set()
            assert self.gate.wait(WAIT_SECONDS)


WAIT_SECONDS = 30


def waiting_for_a_hold(postgres: Engine | None) -> bool:
    """Whether a transaction waits for a blob another holds: PostgreSQL's advisory locks.
    On SQLite the second transaction waits for the one writer instead, which cannot be
    seen, and may come after the first committed: the race's outcome must be the same."""
    if postgres is None:
        return True
    with postgres.connect() as connection:
        waiting = connection.execute(
            sqlalchemy.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
        ).scalar_one()
    return bool(waiting)


def released_with_an_upload_of_its_bytes(
    uow_factory: Callable[[], UnitOfWork], postgres: Engine | None, first: str
) -> tuple[Move, Document, HeldStore]:
    """A finished move whose source is released while Noord uploads the bytes of its first
    document into another administration; ``first`` says which side holds the blob first
    ("release" or "upload"), the other waiting for it. The upload's document."""
    move = started(uow_factory, "zuid", documents=3)
    noord = HeldStore(move.archives.store("noord").blobs)
    move.archives.stores["noord"] = noord
    engine.run_migration(move.deps, move.archives, move.migration.id)
    assert move.status() is ItemStatus.COMPLETED
    with move.uow() as uow:
        other = uow.administrations.add(
            move.administration.environment_id,
            move.administration.connection_id,
            "0043",
            "Slagerij",
            "0043@inbox.example",
            "noord-43",
        )
        sender = uow.users.get_by_email("baas@noord.nl")
        uow.commit()
    assert sender is not None
    assert isinstance(move.deps.clock, FakeClock)
    move.deps.clock.advance(move.deps.policy.release_source_after + timedelta(seconds=1))

    def release() -> None:
        engine.after_finish(move.deps, move.archives, move.migration.id)

    def upload() -> Document:
        return services.add_document(
            move.deps,
            move.archives,
            actor_id=sender.id,
            administration_id=other.id,
            filename="zelfde.pdf",
            stream=io.BytesIO(content(0)),
        )

    noord.stop_in = "delete" if first == "release" else "sizes"
    with ThreadPoolExecutor(2) as pool:
        holder = pool.submit(release if first == "release" else upload)
        assert noord.reached.wait(WAIT_SECONDS)  # inside its transaction, holding the blob
        waiter = pool.submit(upload if first == "release" else release)
        deadline = time.monotonic() + WAIT_SECONDS
        while not waiting_for_a_hold(postgres):
            assert time.monotonic() < deadline, "the other side never waited for the blob"
            time.sleep(0.01)
        time.sleep(0.1)  # SQLite: give the second writer the time to queue
        noord.gate.set()
        results = [holder.result(WAIT_SECONDS), waiter.result(WAIT_SECONDS)]
    [uploaded] = [result for result in results if isinstance(result, Document)]
    return move, uploaded, noord


def postgres_of(request: pytest.FixtureRequest) -> Engine | None:
    """The test's PostgreSQL engine, when its units of work are on PostgreSQL."""
    if request.node.callspec.params["uow_factory"] != "postgres":
        return None
    engine: Engine = request.getfixturevalue("postgres_engine")
    return engine


@pytest.mark.parametrize("uow_factory", ["sqlite", "postgres"], indirect=True)
def test_an_upload_of_bytes_being_released_keeps_them(
    uow_factory: Callable[[], UnitOfWork], request: pytest.FixtureRequest
) -> None:
    postgres = postgres_of(request)
    move, uploaded, noord = released_with_an_upload_of_its_bytes(uow_factory, postgres, "release")

    assert uploaded.blob_key == move.documents[0].blob_key
    assert noord.blobs[uploaded.blob_key] == content(0)
    assert set(noord.blobs) == {uploaded.blob_key}
    if postgres is not None:
        # The upload wrote its blob, waited while the release deleted it, then wrote it again.
        assert noord.writes == 2


@pytest.mark.parametrize("uow_factory", ["sqlite", "postgres"], indirect=True)
def test_a_release_after_an_upload_of_its_bytes_keeps_them(
    uow_factory: Callable[[], UnitOfWork], request: pytest.FixtureRequest
) -> None:
    move, uploaded, noord = released_with_an_upload_of_its_bytes(
        uow_factory, postgres_of(request), "upload"
    )

    assert noord.blobs[uploaded.blob_key] == content(0)
    assert noord.writes == 1  # the upload wrote once: the release saw its document
    assert set(noord.blobs) == {uploaded.blob_key}
    with move.uow() as uow:
        migration = uow.migrations.get(move.migration.id)
    assert migration is not None
    assert migration.source_released_at is not None
