"""The fakes of ``migrationkit.testing``: transactions, database rules, and the outside world."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from migrationkit.domain.errors import Conflict, NotFound, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Charge,
    Connection,
    Email,
    Environment,
    ItemStatus,
    MigrationTarget,
    OfferItem,
    PackageAdministration,
    Role,
    TransferOffer,
)
from migrationkit.ports import StatusChange
from migrationkit.services.dependencies import Policy
from migrationkit.testing import (
    DEFAULT_NOW,
    FakeArchiveStore,
    FakeArchiveStores,
    FakeBilling,
    FakeClock,
    FakeConnectorRegistry,
    FakeJobQueue,
    FakeMailer,
    FakeUnitOfWork,
    fake_uow_factory,
    make_dependencies,
    make_world,
)
from migrationkit.testing._database import ConcurrentUpdate, InMemoryDatabase
from migrationkit.testing._outside import CHUNK_SIZE
from migrationkit.testing._world import TEST_CODE_SECRET

EXACT = AccountingPackage.EXACT_ONLINE_NL
NOW = DEFAULT_NOW


@attrs.frozen
class Seed:
    """Noord offers its administration 0001 Bakkerij to Zuid; Zuid has an Exact connection."""

    noord: Environment
    zuid: Environment
    source: Connection
    target: Connection
    administration: Administration
    offer: TransferOffer
    item: OfferItem


@pytest.fixture
def database() -> InMemoryDatabase:
    """On a ``FakeClock`` at ``NOW``: leases run from the database's clock."""
    return InMemoryDatabase(FakeClock(NOW))


@pytest.fixture
def seed(database: InMemoryDatabase) -> Seed:
    with FakeUnitOfWork(database) as uow:
        noord = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        zuid = uow.environments.add("Zuid", has_subscription=True, archive_store="zuid")
        sender = uow.users.add(noord.id, "anne@noord.nl", "Anne", Role.SUPER_USER)
        source = uow.connections.add(noord.id, EXACT, "Exact Noord")
        target = uow.connections.add(zuid.id, EXACT, "Exact Zuid")
        administration = uow.administrations.add(
            noord.id, source.id, "0001", "Bakkerij", "bakkerij@inbox.example", "div-1"
        )
        offer = add_offer(uow, source, sender.id, NOW, "d" * 64)
        item = uow.items.add(offer.id, administration, NOW)
        uow.commit()
    return Seed(noord, zuid, source, target, administration, offer, item)


def add_offer(
    uow: FakeUnitOfWork, source: Connection, sender_user_id: int, at: datetime, digest: str
) -> TransferOffer:
    return uow.offers.add(
        source_environment_id=source.environment_id,
        source_connection_id=source.id,
        package=EXACT,
        sender_user_id=sender_user_id,
        sender_email="anne@noord.nl",
        recipients=["baas@zuid.nl"],
        code_digest=digest,
        code_hint=digest[-4:],
        created_at=at,
        expires_at=at + timedelta(days=15),
    )


def target_in(seed: Seed, package_admin_id: str = "div-9", code: str = "0001") -> MigrationTarget:
    return MigrationTarget(seed.target.id, package_admin_id, code, "Bakkerij")


# --- transactions ----------------------------------------------------------------------------


def test_uncommitted_changes_are_invisible_to_other_units_of_work(
    database: InMemoryDatabase,
) -> None:
    with FakeUnitOfWork(database) as writer:
        added = writer.environments.add("Noord", has_subscription=True, archive_store="a")
        assert writer.environments.get(added.id) == added
        with FakeUnitOfWork(database) as reader:
            assert reader.environments.get(added.id) is None
            assert reader.environments.list() == []


def test_committed_changes_are_visible_to_units_of_work_already_open(
    database: InMemoryDatabase,
) -> None:
    with FakeUnitOfWork(database) as reader, FakeUnitOfWork(database) as writer:
        added = writer.environments.add("Noord", has_subscription=True, archive_store="a")
        writer.commit()
        assert reader.environments.list() == [added]


def test_leaving_the_block_without_commit_discards_the_changes(
    database: InMemoryDatabase,
) -> None:
    with FakeUnitOfWork(database) as uow:
        uow.environments.add("Noord", has_subscription=True, archive_store="a")
    with FakeUnitOfWork(database) as uow:
        assert uow.environments.list() == []


def test_an_exception_in_the_block_discards_the_changes(database: InMemoryDatabase) -> None:
    def fail_after_adding() -> None:
        with FakeUnitOfWork(database) as uow:
            uow.environments.add("Noord", has_subscription=True, archive_store="a")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail_after_adding()
    with FakeUnitOfWork(database) as uow:
        assert uow.environments.list() == []


def test_rollback_discards_only_what_came_after_the_last_commit(
    database: InMemoryDatabase,
) -> None:
    with FakeUnitOfWork(database) as uow:
        kept = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
        uow.environments.add("Zuid", has_subscription=True, archive_store="a")
        uow.rollback()
        assert uow.environments.list() == [kept]
    with FakeUnitOfWork(database) as uow:
        assert uow.environments.list() == [kept]


def test_ids_of_rolled_back_rows_are_not_handed_out_again(database: InMemoryDatabase) -> None:
    with FakeUnitOfWork(database) as uow:
        discarded = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.rollback()
        kept = uow.environments.add("Zuid", has_subscription=True, archive_store="a")
    assert kept.id == discarded.id + 1


def test_a_unit_of_work_counts_its_commits() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.commit()
        uow.commit()
    assert uow.commits == 2


def test_repositories_refuse_to_work_outside_the_with_block() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        uow.environments.list()


def test_a_unit_of_work_cannot_be_entered_twice_at_once() -> None:
    uow = FakeUnitOfWork()
    with uow, pytest.raises(RuntimeError, match="in use already"), uow:
        pass


def test_a_unit_of_work_can_be_used_again_after_its_block() -> None:
    uow = FakeUnitOfWork()
    with uow:
        added = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
    with uow:
        assert uow.environments.list() == [added]


def test_factory_units_share_one_database() -> None:
    factory = fake_uow_factory()
    with factory() as uow:
        added = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
    with factory() as uow:
        assert uow.environments.list() == [added]


def test_a_unit_of_work_made_without_a_database_has_its_own() -> None:
    with FakeUnitOfWork() as first:
        first.environments.add("Noord", has_subscription=True, archive_store="a")
        first.commit()
    with FakeUnitOfWork() as second:
        assert second.environments.list() == []


def test_units_of_work_in_many_threads_lose_no_commit(database: InMemoryDatabase) -> None:
    def add_environments(worker: int) -> None:
        for n in range(25):
            with FakeUnitOfWork(database) as uow:
                uow.environments.add(f"{worker}-{n}", has_subscription=True, archive_store="a")
                uow.commit()

    threads = [threading.Thread(target=add_environments, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with FakeUnitOfWork(database) as uow:
        assert [e.id for e in uow.environments.list()] == list(range(1, 201))


def test_commit_fails_when_another_unit_committed_a_change_to_the_same_row(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as first, FakeUnitOfWork(database) as second:
        assert first.offers.bind_target(
            seed.offer.id, environment_id=seed.zuid.id, user_id=1, at=NOW
        )
        assert second.offers.bind_target(seed.offer.id, environment_id=99, user_id=2, at=NOW)
        first.commit()
        with pytest.raises(ConcurrentUpdate):
            second.commit()
    with FakeUnitOfWork(database) as uow:
        offer = uow.offers.get(seed.offer.id)
        assert offer is not None
        assert offer.target_environment_id == seed.zuid.id


def test_a_failed_commit_stores_none_of_the_units_changes(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as first, FakeUnitOfWork(database) as second:
        first.offers.mark_reminded(seed.offer.id, NOW)
        second.offers.mark_reminded(seed.offer.id, NOW + timedelta(hours=1))
        second.environments.add("Oost", has_subscription=False, archive_store="a")
        first.commit()
        with pytest.raises(ConcurrentUpdate):
            second.commit()
    with FakeUnitOfWork(database) as uow:
        assert [e.name for e in uow.environments.list()] == ["Noord", "Zuid"]


# --- R8 and R9 on administrations ------------------------------------------------------------


def test_adding_a_taken_code_and_name_is_refused_naming_the_environment(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow, pytest.raises(RuleViolation) as caught:
        uow.administrations.add(
            seed.noord.id, seed.source.id, "0001", "Bakkerij", "x@inbox.example", "div-2"
        )
    assert caught.value.code == "code_name_taken"
    assert caught.value.params == {"environment": "Noord", "code": "0001", "name": "Bakkerij"}


def test_the_same_code_and_name_may_stand_in_another_environment(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        added = uow.administrations.add(
            seed.zuid.id, seed.target.id, "0001", "Bakkerij", "x@inbox.example", "div-2"
        )
        assert uow.administrations.find_by_code_name(seed.zuid.id, "0001", "Bakkerij") == added


def test_linking_a_linked_package_administration_again_is_refused(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow, pytest.raises(RuleViolation) as caught:
        uow.administrations.add(
            seed.noord.id, seed.source.id, "0002", "Slagerij", "s@inbox.example", "div-1"
        )
    assert caught.value.code == "package_administration_linked"
    assert caught.value.params == {"code": "0002", "name": "Slagerij"}


def test_replace_keeps_the_rules_but_not_against_the_row_itself(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        other = uow.administrations.add(
            seed.noord.id, seed.source.id, "0002", "Slagerij", "s@inbox.example", "div-2"
        )
        renamed = uow.administrations.replace(attrs.evolve(other, name="Slagerij Jansen"))
        assert uow.administrations.get(other.id) == renamed
        with pytest.raises(RuleViolation, match="Bakkerij") as caught:
            uow.administrations.replace(attrs.evolve(other, code="0001", name="Bakkerij"))
        assert caught.value.code == "code_name_taken"


def test_a_move_by_replace_changes_environment_connection_and_package_link(
    database: InMemoryDatabase, seed: Seed
) -> None:
    moved = attrs.evolve(
        seed.administration,
        environment_id=seed.zuid.id,
        connection_id=seed.target.id,
        package_admin_id="div-9",
    )
    with FakeUnitOfWork(database) as uow:
        assert uow.administrations.replace(moved) == moved
        assert uow.administrations.list_for_environment(seed.noord.id) == []
        assert uow.administrations.find_linked(seed.target.id, "div-9") == moved


def test_a_clash_committed_meanwhile_fails_the_later_commit(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as first, FakeUnitOfWork(database) as second:
        for uow, package_admin_id in ((first, "div-2"), (second, "div-3")):
            uow.administrations.add(
                seed.zuid.id,
                seed.target.id,
                "0002",
                "Slagerij",
                "s@inbox.example",
                package_admin_id,
            )
        first.commit()
        with pytest.raises(RuleViolation) as caught:
            second.commit()
    assert caught.value.code == "code_name_taken"


def test_administrations_are_listed_by_code_then_name(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        for code, name, link in (
            ("0003", "B", "div-3"),
            ("0000", "Z", "div-4"),
            ("0003", "A", "5"),
        ):
            uow.administrations.add(seed.noord.id, seed.source.id, code, name, "e@x.nl", link)
        listed = uow.administrations.list_for_environment(seed.noord.id)
        assert [(a.code, a.name) for a in listed] == [
            ("0000", "Z"),
            ("0001", "Bakkerij"),
            ("0003", "A"),
            ("0003", "B"),
        ]
        assert uow.administrations.list_for_connection(seed.source.id) == listed


def test_an_administration_takes_the_package_of_its_connection(seed: Seed) -> None:
    assert seed.administration.package is EXACT


def test_an_administration_needs_an_existing_connection(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow, pytest.raises(NotFound) as caught:
        uow.administrations.add(seed.noord.id, 999, "0009", "Nieuw", "n@x.nl", "div-9")
    assert caught.value.code == "unknown_connection"


# --- users -----------------------------------------------------------------------------------


def test_users_are_found_by_email_whatever_its_case(database: InMemoryDatabase) -> None:
    with FakeUnitOfWork(database) as uow:
        noord = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        user = uow.users.add(noord.id, "Anne@Noord.nl", "Anne", Role.SUPER_USER, "hash")
        assert uow.users.get_by_email("anne@NOORD.NL") == user
        assert uow.users.password_hash(user.id) == "hash"
        with pytest.raises(RuleViolation, match="al een gebruiker met het e-mailadres"):
            uow.users.add(noord.id, "ANNE@noord.nl", "Anne 2", Role.USER)


# --- offers and items ------------------------------------------------------------------------


def test_bind_target_lets_only_the_first_environment_in(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        offers = uow.offers
        assert offers.bind_target(seed.offer.id, environment_id=seed.zuid.id, user_id=7, at=NOW)
        later = NOW + timedelta(minutes=5)
        assert offers.bind_target(seed.offer.id, environment_id=seed.zuid.id, user_id=8, at=later)
        assert not offers.bind_target(seed.offer.id, environment_id=99, user_id=9, at=later)
        bound = offers.get(seed.offer.id)
        assert bound is not None
        assert (bound.target_environment_id, bound.redeemed_by_user_id, bound.redeemed_at) == (
            seed.zuid.id,
            7,
            NOW,
        )


def test_a_resent_code_replaces_the_old_digest_and_the_reminder(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        uow.offers.mark_reminded(seed.offer.id, NOW)
        expires = NOW + timedelta(days=20)
        uow.offers.replace_code(
            seed.offer.id, code_digest="e" * 64, code_hint="QRST", expires_at=expires
        )
        assert uow.offers.find_by_digest(seed.offer.code_digest) is None
        resent = uow.offers.find_by_digest("e" * 64)
        assert resent is not None
        assert (resent.code_hint, resent.expires_at, resent.reminder_sent_at) == (
            "QRST",
            expires,
            None,
        )


def test_a_new_item_is_offered_and_logged_as_offered_by_the_sender(
    database: InMemoryDatabase, seed: Seed
) -> None:
    administration = seed.administration
    assert (seed.item.status, seed.item.code, seed.item.name, seed.item.email) == (
        ItemStatus.OFFERED,
        administration.code,
        administration.name,
        administration.email,
    )
    with FakeUnitOfWork(database) as uow:
        assert uow.items.status_changes(seed.item.id) == [
            StatusChange(
                seed.item.id, None, ItemStatus.OFFERED, "offer", seed.offer.sender_user_id, NOW
            )
        ]
        assert uow.items.list_open_for_administration(administration.id) == [seed.item]
        assert uow.offers.list_with_offered_items() == [seed.offer]


def test_compare_and_set_wins_from_the_expected_status_and_logs_the_change(
    database: InMemoryDatabase, seed: Seed
) -> None:
    later = NOW + timedelta(hours=1)
    with FakeUnitOfWork(database) as uow:
        won = uow.items.compare_and_set(
            seed.item,
            ItemStatus.REJECTED,
            event=Event.REJECT,
            at=later,
            actor_user_id=5,
            rejection_reason="Niet van ons",
        )
        assert won
        stored = uow.items.get(seed.item.id)
        assert stored == attrs.evolve(
            seed.item,
            status=ItemStatus.REJECTED,
            status_changed_at=later,
            rejection_reason="Niet van ons",
        )
        assert uow.items.status_changes(seed.item.id)[-1] == StatusChange(
            seed.item.id, ItemStatus.OFFERED, ItemStatus.REJECTED, "reject", 5, later
        )
        assert uow.items.list_open_for_administration(seed.administration.id) == []
        assert uow.offers.list_with_offered_items() == []


def test_compare_and_set_loses_when_the_status_changed_meanwhile(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        assert uow.items.compare_and_set(seed.item, ItemStatus.EXPIRED, event=Event.EXPIRE, at=NOW)
        assert not uow.items.compare_and_set(
            seed.item, ItemStatus.QUEUED, event=Event.START, at=NOW
        )
        assert len(uow.items.status_changes(seed.item.id)) == 2


def test_compare_and_set_sees_a_change_committed_by_another_unit(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as sweeper, FakeUnitOfWork(database) as recipient:
        assert sweeper.items.compare_and_set(
            seed.item, ItemStatus.EXPIRED, event=Event.EXPIRE, at=NOW
        )
        sweeper.commit()
        assert not recipient.items.compare_and_set(
            seed.item, ItemStatus.QUEUED, event=Event.START, at=NOW
        )
        stored = recipient.items.get(seed.item.id)
        assert stored is not None
        assert stored.status is ItemStatus.EXPIRED


# --- migrations ------------------------------------------------------------------------------


def test_an_unfinished_migration_reserves_the_code_and_name_in_the_target(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        other = uow.items.add(seed.offer.id, seed.administration, NOW)
        uow.migrations.add(
            seed.item, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        with pytest.raises(RuleViolation) as caught:
            uow.migrations.add(
                other,
                target_environment_id=seed.zuid.id,
                target=target_in(seed, package_admin_id="div-8"),
                at=NOW,
            )
    assert caught.value.code == "code_name_taken"
    assert caught.value.params == {"environment": "Zuid", "code": "0001", "name": "Bakkerij"}


def test_an_unfinished_migration_reserves_the_package_administration(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        other = uow.items.add(seed.offer.id, seed.administration, NOW)
        uow.migrations.add(
            seed.item, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        with pytest.raises(RuleViolation) as caught:
            uow.migrations.add(
                other,
                target_environment_id=seed.zuid.id,
                target=target_in(seed, code="0002"),
                at=NOW,
            )
    assert caught.value.code == "package_administration_linked"
    assert caught.value.params == {"code": "0002", "name": "Bakkerij"}


def test_a_finished_migration_releases_its_reservation(
    database: InMemoryDatabase, seed: Seed
) -> None:
    with FakeUnitOfWork(database) as uow:
        other = uow.items.add(seed.offer.id, seed.administration, NOW)
        first = uow.migrations.add(
            seed.item, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        uow.migrations.record_finish(first.id, NOW)
        second = uow.migrations.add(
            other, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        assert uow.migrations.get(second.id) == second


def test_an_item_has_at_most_one_migration(database: InMemoryDatabase, seed: Seed) -> None:
    with FakeUnitOfWork(database) as uow:
        migration = uow.migrations.add(
            seed.item, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        with pytest.raises(Conflict) as caught:
            uow.migrations.add(
                seed.item,
                target_environment_id=seed.zuid.id,
                target=target_in(seed, "div-7", "0007"),
                at=NOW,
            )
        assert caught.value.code == "item_started"
        assert uow.migrations.get_for_item(seed.item.id) == migration


def test_a_migration_records_claims_progress_failure_and_finish(
    database: InMemoryDatabase, seed: Seed
) -> None:
    lease = NOW + timedelta(minutes=2)
    with FakeUnitOfWork(database) as uow:
        migrations = uow.migrations
        added = migrations.add(
            seed.item, target_environment_id=seed.zuid.id, target=target_in(seed), at=NOW
        )
        assert (added.item_id, added.administration_id, added.started_at) == (
            seed.item.id,
            seed.administration.id,
            NOW,
        )
        migrations.record_claim(added.id, lease_for=timedelta(minutes=2))
        migrations.record_failure(added.id, "archief onbereikbaar")
        migrations.record_claim(added.id, lease_for=timedelta(minutes=2))
        migrations.record_progress(
            added.id, documents_total=4, documents_done=2, bytes_total=400, bytes_done=200
        )
        migrations.record_finish(added.id, lease)
        assert migrations.get(added.id) == attrs.evolve(
            added,
            attempts=2,
            lease_expires_at=lease,
            documents_total=4,
            documents_done=2,
            bytes_total=400,
            bytes_done=200,
            finished_at=lease,
        )


def test_recording_on_an_unknown_migration_is_refused(database: InMemoryDatabase) -> None:
    with FakeUnitOfWork(database) as uow, pytest.raises(NotFound):
        uow.migrations.record_failure(42, "weg")


# --- access, redeem attempts, outbox, charges ------------------------------------------------


def test_access_is_set_per_user_and_cleared_for_everyone(
    database: InMemoryDatabase, seed: Seed
) -> None:
    administration_id = seed.administration.id
    with FakeUnitOfWork(database) as uow:
        users = [uow.users.add(seed.zuid.id, f"u{n}@zuid.nl", "U", Role.USER) for n in (1, 2)]
        uow.access.set(administration_id, users[1].id, granted=True)
        uow.access.set(administration_id, users[0].id, granted=True)
        uow.access.set(administration_id, users[0].id, granted=False)
        grants = uow.access.list_for_administration(administration_id)
        assert [(g.user_id, g.granted) for g in grants] == [
            (users[0].id, False),
            (users[1].id, True),
        ]
        uow.commit()
        uow.access.clear_for_administration(administration_id)
        assert uow.access.list_for_administration(administration_id) == []
        uow.commit()
    with FakeUnitOfWork(database) as uow:
        assert uow.access.list_for_administration(administration_id) == []


def test_redeem_failures_are_counted_since_a_moment(database: InMemoryDatabase) -> None:
    with FakeUnitOfWork(database) as uow:
        attempts = uow.redeem_attempts
        for minutes, user_id in ((30, 1), (5, 1), (10, 2)):
            attempts.add_failure(
                user_id=user_id, environment_id=2, at=NOW - timedelta(minutes=minutes)
            )
        since = NOW - timedelta(minutes=15)
        assert attempts.failures_for_user(1, since) == [NOW - timedelta(minutes=5)]
        assert attempts.failures_for_environment(2, since) == [
            NOW - timedelta(minutes=10),
            NOW - timedelta(minutes=5),
        ]


def test_the_outbox_lists_pending_oldest_first_and_recent_newest_first(
    database: InMemoryDatabase,
) -> None:
    email = Email(to=("a@b.nl",), subject="S", body="B", kind="offer_code")
    with FakeUnitOfWork(database) as uow:
        first, second, third = (
            uow.outbox.add(email, NOW + timedelta(seconds=s)) for s in (0, 1, 2)
        )
        uow.outbox.mark_sent(second.id, NOW)
        assert [m.id for m in uow.outbox.list_pending()] == [first.id, third.id]
        assert [m.id for m in uow.outbox.list_recent(limit=2)] == [third.id, second.id]


def test_a_migration_is_charged_once(database: InMemoryDatabase) -> None:
    charge = Charge(migration_id=1, environment_id=2, administration_id=3, charged_at=NOW)
    with FakeUnitOfWork(database) as uow:
        assert uow.charges.add(charge)
        assert not uow.charges.add(attrs.evolve(charge, charged_at=NOW + timedelta(days=1)))
        assert uow.charges.list_for_environment(2) == [charge]


# --- the outside world -----------------------------------------------------------------------


def test_the_clock_stands_still_until_moved() -> None:
    clock = FakeClock()
    assert clock.now() == DEFAULT_NOW == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert clock.advance(timedelta(days=15)) == DEFAULT_NOW + timedelta(days=15)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 11, 2, 9, 0))


def test_the_registry_gives_one_connector_per_package(seed: Seed) -> None:
    registry = FakeConnectorRegistry()
    connector = registry.connector(EXACT)
    known = PackageAdministration("div-9", "0001", "Bakkerij")
    connector.add_package_administration(seed.target.id, known)
    assert registry.connector_for(seed.target) is connector
    assert connector.find_administration(seed.target, "div-9") == known
    assert connector.list_administrations(seed.source) == []
    assert registry.connector(AccountingPackage.XERO).package is AccountingPackage.XERO


def test_the_job_queue_runs_a_pending_migration_once() -> None:
    queue = FakeJobQueue()
    for migration_id in (3, 1, 3):
        queue.enqueue_migration(migration_id)
    assert queue.enqueued == [3, 1, 3]
    assert queue.take() == [3, 1]
    assert queue.take() == []
    queue.enqueue_migration(3)
    assert queue.take() == [3]


def test_the_mailer_records_sends_and_fails_when_told() -> None:
    mailer = FakeMailer()
    email = Email(to=("a@b.nl",), subject="S", body="B", kind="offer_code")
    mailer.fail_next(2)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            mailer.send(email, message_id="<1@migrationkit>")
    mailer.send(email, message_id="<1@migrationkit>")
    assert mailer.sent == [(email, "<1@migrationkit>")]


def test_billing_keeps_one_charge_per_migration() -> None:
    billing = FakeBilling()
    charge = Charge(migration_id=1, environment_id=2, administration_id=3, charged_at=NOW)
    billing.charge(charge)
    billing.charge(charge)
    assert billing.charges == [charge]


def test_the_archive_store_gives_back_the_bytes_under_their_sha256() -> None:
    store = FakeArchiveStore("noord")
    data = bytes(range(256)) * (CHUNK_SIZE // 100)  # more than one chunk
    blob = store.write(io.BytesIO(data))
    assert blob.size == len(data)
    assert blob.key == blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists(blob.key)
    with store.open(blob.key) as stream:
        assert stream.read() == data
    store.delete(blob.key)
    store.delete(blob.key)
    assert not store.exists(blob.key)
    with pytest.raises(FileNotFoundError):
        store.open(blob.key)


def test_archive_stores_are_made_once_per_name() -> None:
    stores = FakeArchiveStores()
    assert stores.store("noord") is stores.store("noord")
    assert stores.store("zuid").name == "zuid"


# --- wiring ----------------------------------------------------------------------------------


def test_make_dependencies_wires_fakes_with_the_test_secret() -> None:
    deps = make_dependencies()
    assert deps.policy.code_secret == TEST_CODE_SECRET
    assert deps.clock.now() == DEFAULT_NOW
    with deps.uow() as uow:
        assert uow.environments.list() == []


def test_make_dependencies_takes_replacements() -> None:
    clock = FakeClock(NOW + timedelta(days=1))
    policy = Policy(code_secret=b"another test secret of 32 bytes!")
    deps = make_dependencies(clock=clock, policy=policy)
    assert (deps.clock, deps.policy) == (clock, policy)


def test_the_world_holds_the_fakes_behind_its_dependencies() -> None:
    world = make_world(now=NOW + timedelta(days=3))
    assert world.deps.clock is world.clock
    assert world.deps.queue is world.queue
    assert world.deps.connectors is world.connectors
    with world.deps.uow() as uow:
        added = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
    with world.uow() as uow:
        assert uow.environments.list() == [added]
