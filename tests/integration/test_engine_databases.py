"""The engine on SQLite, PostgreSQL and the in-memory fake: whole moves of 1,200 documents
on one store and across stores (in fake archive stores), and two workers at once."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import attrs
import pytest

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
    return f"factuur {n}\n".encode() * (n % 3 + 1)


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
