"""The sweeper: expiry and reminders, then a wake-up for every migration the database says
should run and no live worker holds."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from migrationkit import services
from migrationkit.domain.model import ItemStatus
from migrationkit.services.sweeping import SweeperReport, sweep

if TYPE_CHECKING:
    from conftest import Scene


def test_a_sweep_expires_reminds_and_wakes_in_one_report(scene: Scene) -> None:
    old = scene.offer(scene.administration("0001", "Bakkerij Oud"))
    scene.world.clock.advance(timedelta(days=12))
    scene.offer(scene.administration("0002", "Bakkerij Nieuw"))
    scene.world.clock.advance(timedelta(days=3, seconds=1))

    report = sweep(scene.deps)

    assert report == SweeperReport(expired_items=1, reminded_offers=0, requeued=())
    assert scene.status(old.items[0].id) is ItemStatus.EXPIRED
    assert sweep(scene.deps) == SweeperReport(expired_items=0, reminded_offers=0, requeued=())
    scene.world.clock.advance(timedelta(days=9))
    assert sweep(scene.deps) == SweeperReport(expired_items=0, reminded_offers=1, requeued=())


def test_a_migration_waiting_in_the_database_is_woken_again(scene: Scene) -> None:
    """The wake-up of the start was lost (Redis lost it, or was down): the database wins."""
    _, migration = scene.started()
    assert scene.world.queue.take() == [migration.id]

    report = sweep(scene.deps)

    assert report.requeued == (migration.id,)
    assert scene.world.queue.pending == (migration.id,)


def test_a_migration_whose_worker_died_is_taken_back_after_its_lease(scene: Scene) -> None:
    _, migration = scene.processing()
    scene.world.queue.take()
    lease = scene.deps.policy.lease_for

    scene.world.clock.advance(lease)
    assert sweep(scene.deps).requeued == ()
    assert scene.status(migration.item_id) is ItemStatus.PROCESSING

    scene.world.clock.advance(timedelta(seconds=1))
    assert sweep(scene.deps).requeued == (migration.id,)
    assert scene.status(migration.item_id) is ItemStatus.QUEUED
    assert scene.world.queue.pending == (migration.id,)
    assert services.claim_migration(scene.deps, migration.id) is not None


def test_two_sweeps_wake_a_migration_once(scene: Scene) -> None:
    _, migration = scene.processing()
    scene.world.queue.take()
    scene.world.clock.advance(scene.deps.policy.lease_for + timedelta(seconds=1))

    sweep(scene.deps)
    sweep(scene.deps)

    assert scene.world.queue.pending == (migration.id,)
    with scene.world.uow() as uow:
        changes = uow.items.status_changes(migration.item_id)
    assert [c.event for c in changes if c.to_status is ItemStatus.QUEUED] == [
        "start",
        "lease_expired",
    ]
