"""The repository contracts of ``migrationkit.ports``, held by every unit of work: SQLite,
PostgreSQL and the in-memory fake (the ``uow_factory`` fixture runs each test on all three).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import attrs
import pytest

from migrationkit.domain.errors import ArchiveError, Conflict, RuleViolation
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    CODE_NOT_KEPT,
    CODE_PLACEHOLDER,
    AccessGrant,
    AccountingPackage,
    Administration,
    Charge,
    Connection,
    Document,
    Email,
    Environment,
    ItemStatus,
    Migration,
    MigrationTarget,
    OfferItem,
    Role,
    TransferOffer,
    User,
)
from migrationkit.ports import (
    ArchiveTotals,
    DocumentCopy,
    DocumentRedirect,
    OverviewQuery,
    StatusChange,
    UnitOfWork,
)

EXACT = AccountingPackage.EXACT_ONLINE_NL
TWINFIELD = AccountingPackage.TWINFIELD
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
#: SQLite's clock in SQL counts milliseconds.
MILLISECOND = timedelta(milliseconds=1)


# --- building blocks -------------------------------------------------------------------------


@attrs.frozen
class Office:
    """An environment with one super user and one connection."""

    environment: Environment
    user: User
    connection: Connection


def add_office(uow: UnitOfWork, name: str, package: AccountingPackage = EXACT) -> Office:
    environment = uow.environments.add(name, has_subscription=True, archive_store="local")
    user = uow.users.add(
        environment.id, f"super@{name.lower()}.nl", f"Super {name}", Role.SUPER_USER
    )
    connection = uow.connections.add(environment.id, package, f"{package.label} - {name}")
    return Office(environment, user, connection)


def add_administration(
    uow: UnitOfWork, office: Office, code: str, name: str, package_admin_id: str | None = None
) -> Administration:
    return uow.administrations.add(
        office.environment.id,
        office.connection.id,
        code,
        name,
        f"{code}@inbox.example.nl",
        package_admin_id or f"div-{code}-{name}",
    )


def add_offer(
    uow: UnitOfWork, office: Office, digest: str = "d" * 64, created_at: datetime = T0
) -> TransferOffer:
    return uow.offers.add(
        source_environment_id=office.environment.id,
        source_connection_id=office.connection.id,
        package=office.connection.package,
        sender_user_id=office.user.id,
        sender_email=office.user.email,
        recipients=["super@zuid.nl", "Boekhouding@Zuid.nl"],
        code_digest=digest,
        code_hint="0G28",
        created_at=created_at,
        expires_at=created_at + 15 * DAY,
    )


def target_of(office: Office, code: str, name: str, package_admin_id: str) -> MigrationTarget:
    return MigrationTarget(
        connection_id=office.connection.id, package_admin_id=package_admin_id, code=code, name=name
    )


T = TypeVar("T")


def present(value: T | None) -> T:
    """A value that must have been found."""
    assert value is not None
    return value


@pytest.fixture
def uow(uow_factory: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
    """One open unit of work; what a test writes in it needs no commit to be read back."""
    with uow_factory() as uow:
        yield uow


@pytest.fixture
def noord(uow: UnitOfWork) -> Office:
    return add_office(uow, "Noord")


@pytest.fixture
def zuid(uow: UnitOfWork) -> Office:
    return add_office(uow, "Zuid")


# --- environments, users, connections --------------------------------------------------------


def test_environment_round_trips_and_lists_in_order_of_creation(uow: UnitOfWork) -> None:
    noord = uow.environments.add("Noord", has_subscription=False, archive_store="noord")
    zuid = uow.environments.add("Zuid", has_subscription=True, archive_store="shared")

    assert noord == Environment(noord.id, "Noord", False, "noord")
    assert uow.environments.get(zuid.id) == zuid
    assert uow.environments.list() == [noord, zuid]
    assert uow.environments.get(zuid.id + 1000) is None


def test_user_is_found_by_email_whatever_its_case(uow: UnitOfWork, noord: Office) -> None:
    anna = uow.users.add(noord.environment.id, "Anna.de.Vries@Noord.NL", "Anna", Role.USER)

    assert uow.users.get(anna.id) == anna
    assert uow.users.get_by_email("anna.de.vries@noord.nl") == anna
    assert uow.users.get_by_email("ANNA.DE.VRIES@NOORD.NL") == anna
    assert uow.users.get_by_email("anna@noord.nl") is None
    assert anna.email == "Anna.de.Vries@Noord.NL"


def test_users_list_per_environment_in_order_of_creation(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    piet = uow.users.add(noord.environment.id, "piet@noord.nl", "Piet", Role.USER)

    assert uow.users.list_for_environment(noord.environment.id) == [noord.user, piet]
    assert uow.users.list_for_environment(zuid.environment.id) == [zuid.user]


def test_a_second_user_with_the_same_email_in_another_case_is_refused(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as uow:
        noord = add_office(uow, "Noord")
        uow.commit()
    with uow_factory() as uow, pytest.raises(RuleViolation) as refused:
        uow.users.add(noord.environment.id, "SUPER@NOORD.NL", "Dubbel", Role.USER)
    assert refused.value.code == "email_taken"
    assert refused.value.params == {"email": "SUPER@NOORD.NL"}
    with uow_factory() as uow:
        assert uow.users.get_by_email("super@noord.nl") == noord.user


def test_connection_round_trips_and_lists_per_environment(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    twinfield = uow.connections.add(noord.environment.id, TWINFIELD, "Twinfield - Noord")

    assert twinfield == Connection(
        twinfield.id, noord.environment.id, TWINFIELD, "Twinfield - Noord"
    )
    assert uow.connections.get(twinfield.id) == twinfield
    assert uow.connections.list_for_environment(noord.environment.id) == [
        noord.connection,
        twinfield,
    ]
    assert uow.connections.list_for_environment(zuid.environment.id) == [zuid.connection]
    assert uow.connections.get(twinfield.id + 1000) is None


# --- administrations (R8, R9) ----------------------------------------------------------------


def test_administration_round_trips_with_its_connections_package(
    uow: UnitOfWork, noord: Office
) -> None:
    added = add_administration(uow, noord, "1001", "Bakkerij De Korenschoof")

    assert added == Administration(
        id=added.id,
        environment_id=noord.environment.id,
        connection_id=noord.connection.id,
        package=EXACT,
        code="1001",
        name="Bakkerij De Korenschoof",
        email="1001@inbox.example.nl",
        package_admin_id="div-1001-Bakkerij De Korenschoof",
    )
    assert uow.administrations.get(added.id) == added
    assert uow.administrations.get(added.id + 1000) is None


def test_administrations_list_by_code_then_name(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    b = add_administration(uow, noord, "2000", "B")
    z = add_administration(uow, noord, "1000", "Z")
    a = add_administration(uow, noord, "1000", "A")
    add_administration(uow, zuid, "0500", "Elders")

    assert uow.administrations.list_for_environment(noord.environment.id) == [a, z, b]


def test_administrations_list_per_connection(uow: UnitOfWork, noord: Office) -> None:
    twinfield = uow.connections.add(noord.environment.id, TWINFIELD, "Twinfield")
    exact = add_administration(uow, noord, "1001", "Exact-klant")
    other = uow.administrations.add(
        noord.environment.id, twinfield.id, "1002", "Twinfield-klant", "x@y.nl", "T-1"
    )

    assert uow.administrations.list_for_connection(noord.connection.id) == [exact]
    assert uow.administrations.list_for_connection(twinfield.id) == [other]
    assert other.package is TWINFIELD


def test_administration_is_found_by_code_and_name_and_by_package_link(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    added = add_administration(uow, noord, "1001", "Bakkerij", "div-7")
    administrations = uow.administrations

    assert administrations.find_by_code_name(noord.environment.id, "1001", "Bakkerij") == added
    assert administrations.find_by_code_name(noord.environment.id, "1001", "bakkerij") is None
    assert administrations.find_by_code_name(zuid.environment.id, "1001", "Bakkerij") is None
    assert administrations.find_linked(noord.connection.id, "div-7") == added
    assert administrations.find_linked(zuid.connection.id, "div-7") is None


def test_administrations_are_read_by_many_ids_and_many_codes_and_names_at_once(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    bakkerij = add_administration(uow, noord, "1001", "Bakkerij", "div-1")
    slagerij = add_administration(uow, noord, "1002", "Slagerij", "div-2")
    elsewhere = add_administration(uow, zuid, "1001", "Bakkerij", "div-1")
    administrations = uow.administrations

    assert sorted(administrations.get_many([slagerij.id, elsewhere.id, 10**6]), key=id_of) == [
        slagerij,
        elsewhere,
    ]
    assert administrations.find_by_code_names(
        noord.environment.id, {("1001", "Bakkerij"), ("1002", "Slagerij"), ("1002", "Bakkerij")}
    ) == [bakkerij, slagerij]
    assert administrations.find_by_code_names(noord.environment.id, set()) == []


def id_of(administration: Administration) -> int:
    return administration.id


def test_r8_add_of_a_taken_code_and_name_is_refused_and_the_unit_goes_on(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    add_administration(uow, noord, "1001", "Bakkerij")

    with pytest.raises(RuleViolation) as refused:
        add_administration(uow, noord, "1001", "Bakkerij", "div-other")

    assert refused.value.code == "code_name_taken"
    assert refused.value.params == {"environment": "Noord", "code": "1001", "name": "Bakkerij"}
    # The refusal spoiled nothing: the same pair is free elsewhere, and the unit commits.
    elsewhere = add_administration(uow, zuid, "1001", "Bakkerij")
    uow.commit()
    assert uow.administrations.get(elsewhere.id) == elsewhere
    assert len(uow.administrations.list_for_environment(noord.environment.id)) == 1


def test_r9_add_of_a_linked_package_administration_is_refused(
    uow: UnitOfWork, noord: Office
) -> None:
    add_administration(uow, noord, "1001", "Bakkerij", "div-7")

    with pytest.raises(RuleViolation) as refused:
        add_administration(uow, noord, "7001", "Bakkerij BV", "div-7")

    assert refused.value.code == "package_administration_linked"
    assert refused.value.params == {"code": "7001", "name": "Bakkerij BV"}
    uow.commit()
    assert (
        uow.administrations.find_by_code_name(noord.environment.id, "7001", "Bakkerij BV") is None
    )


def test_replace_moves_an_administration_to_another_environment_and_package(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    twinfield = uow.connections.add(zuid.environment.id, TWINFIELD, "Twinfield - Zuid")
    added = add_administration(uow, noord, "1001", "Bakkerij")
    moved = attrs.evolve(
        added,
        environment_id=zuid.environment.id,
        connection_id=twinfield.id,
        code="7001",
        name="Bakkerij BV",
        package_admin_id="T-9",
    )

    stored = uow.administrations.replace(moved)

    assert stored == attrs.evolve(moved, package=TWINFIELD)
    assert uow.administrations.get(added.id) == stored
    assert uow.administrations.list_for_environment(noord.environment.id) == []


def test_r8_replace_onto_a_taken_code_and_name_is_refused(uow: UnitOfWork, noord: Office) -> None:
    add_administration(uow, noord, "1001", "Bakkerij")
    other = add_administration(uow, noord, "1002", "Slagerij")

    with pytest.raises(RuleViolation) as refused:
        uow.administrations.replace(attrs.evolve(other, code="1001", name="Bakkerij"))

    assert refused.value.code == "code_name_taken"
    assert refused.value.params == {"environment": "Noord", "code": "1001", "name": "Bakkerij"}
    uow.commit()
    assert uow.administrations.get(other.id) == other


def test_r9_replace_onto_a_linked_package_administration_is_refused(
    uow: UnitOfWork, noord: Office
) -> None:
    add_administration(uow, noord, "1001", "Bakkerij", "div-1")
    other = add_administration(uow, noord, "1002", "Slagerij", "div-2")

    with pytest.raises(RuleViolation) as refused:
        uow.administrations.replace(attrs.evolve(other, package_admin_id="div-1"))

    assert refused.value.code == "package_administration_linked"
    assert refused.value.params == {"code": "1002", "name": "Slagerij"}
    uow.commit()
    assert uow.administrations.get(other.id) == other


# --- flows and documents ---------------------------------------------------------------------


def test_flows_keep_their_authorizers_in_order(uow: UnitOfWork, noord: Office) -> None:
    administration = add_administration(uow, noord, "1001", "Bakkerij")
    elsewhere = add_administration(uow, noord, "1002", "Slagerij")
    piet = uow.users.add(noord.environment.id, "piet@noord.nl", "Piet", Role.USER)

    purchases = uow.flows.add(administration.id, "Inkoopfacturen", [piet.id, noord.user.id])
    empty = uow.flows.add(administration.id, "Verkoop")
    uow.flows.add(elsewhere.id, "Elders", [piet.id])

    assert purchases.authorizer_user_ids == (piet.id, noord.user.id)
    assert empty.authorizer_user_ids == ()
    assert uow.flows.list_for_administration(administration.id) == [purchases, empty]
    assert uow.flows.list_for_administrations([administration.id, elsewhere.id])[:2] == [
        purchases,
        empty,
    ]
    assert len(uow.flows.list_for_administrations([elsewhere.id, 10**6])) == 1


def test_documents_round_trip_in_order_of_arrival(uow: UnitOfWork, noord: Office) -> None:
    administration = add_administration(uow, noord, "1001", "Bakkerij")
    other = add_administration(uow, noord, "1002", "Slagerij")

    def add(owner: Administration, filename: str) -> Document:
        return uow.documents.add(
            owner.id,
            filename=filename,
            content_type="application/pdf",
            size=5_000_000_000,
            sha256="ab" * 32,
            archive_store="noord",
            blob_key=f"blobs/{filename}",
            received_at=T0,
        )

    first, second = add(administration, "factuur-1.pdf"), add(administration, "factuur-2.pdf")
    add(other, "bon.pdf")

    assert uow.documents.get(second.id) == second
    assert uow.documents.list_for_administration(administration.id) == [first, second]
    assert (second.filename, second.size, second.received_at) == ("factuur-2.pdf", 5e9, T0)
    assert uow.documents.get(second.id + 1000) is None


# --- offers ----------------------------------------------------------------------------------


def test_offer_round_trips_with_its_recipients(uow: UnitOfWork, noord: Office) -> None:
    offer = add_offer(uow, noord)

    assert offer == TransferOffer(
        id=offer.id,
        source_environment_id=noord.environment.id,
        source_connection_id=noord.connection.id,
        package=EXACT,
        sender_user_id=noord.user.id,
        sender_email="super@noord.nl",
        recipients=("super@zuid.nl", "Boekhouding@Zuid.nl"),
        code_digest="d" * 64,
        code_hint="0G28",
        created_at=T0,
        expires_at=T0 + 15 * DAY,
    )
    assert uow.offers.get(offer.id) == offer
    assert uow.offers.get(offer.id + 1000) is None


def test_offer_is_found_by_its_code_digest(uow: UnitOfWork, noord: Office) -> None:
    offer = add_offer(uow, noord, digest="a" * 64)
    add_offer(uow, noord, digest="b" * 64)

    assert uow.offers.find_by_digest("a" * 64) == offer
    assert uow.offers.find_by_digest("c" * 64) is None


def test_a_resent_code_replaces_the_old_digest_and_makes_a_reminder_due_again(
    uow: UnitOfWork, noord: Office
) -> None:
    offer = add_offer(uow, noord, digest="a" * 64)
    uow.offers.mark_reminded(offer.id, T0 + 12 * DAY)
    assert present(uow.offers.get(offer.id)).reminder_sent_at == T0 + 12 * DAY

    uow.offers.replace_code(
        offer.id, code_digest="e" * 64, code_hint="K7QZ", expires_at=T0 + 28 * DAY
    )

    assert uow.offers.find_by_digest("a" * 64) is None
    assert uow.offers.find_by_digest("e" * 64) == attrs.evolve(
        offer, code_digest="e" * 64, code_hint="K7QZ", expires_at=T0 + 28 * DAY
    )


def test_bind_target_lets_one_environment_redeem_and_keeps_the_first_redeemer(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    west = add_office(uow, "West")
    colleague = uow.users.add(zuid.environment.id, "collega@zuid.nl", "Collega", Role.SUPER_USER)
    offer = add_offer(uow, noord)
    offers = uow.offers

    assert offers.bind_target(
        offer.id, environment_id=zuid.environment.id, user_id=zuid.user.id, at=T0
    )
    assert offers.bind_target(
        offer.id, environment_id=zuid.environment.id, user_id=colleague.id, at=T0 + DAY
    )
    assert not offers.bind_target(
        offer.id, environment_id=west.environment.id, user_id=west.user.id, at=T0 + DAY
    )

    assert offers.get(offer.id) == attrs.evolve(
        offer,
        target_environment_id=zuid.environment.id,
        redeemed_by_user_id=zuid.user.id,
        redeemed_at=T0,
    )


def test_pages_list_the_items_newest_first_outgoing_and_incoming(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    older = add_offer(uow, noord, digest="a" * 64, created_at=T0)
    newer = add_offer(uow, noord, digest="b" * 64, created_at=T0 + DAY)
    from_zuid = add_offer(uow, zuid, digest="c" * 64, created_at=T0 + 2 * DAY)
    older_item, newer_item, zuid_item = (
        uow.items.add(offer.id, add_administration(uow, office, code, "Bakkerij"), T0)
        for offer, office, code in (
            (older, noord, "1"),
            (newer, noord, "2"),
            (from_zuid, zuid, "3"),
        )
    )
    uow.offers.bind_target(
        older.id, environment_id=zuid.environment.id, user_id=zuid.user.id, at=T0 + DAY
    )
    older = present(uow.offers.get(older.id))
    query = OverviewQuery((), T0, limit=10)

    def page(read: Callable[[int, OverviewQuery], Any], office: Office) -> list[Any]:
        return [
            (entry.item.id, entry.offer, entry.source_environment_name)
            for entry in read(office.environment.id, query)
        ]

    assert page(uow.items.outgoing_page, noord) == [
        (newer_item.id, newer, "Noord"),
        (older_item.id, older, "Noord"),
    ]
    assert page(uow.items.outgoing_page, zuid) == [(zuid_item.id, from_zuid, "Zuid")]
    assert page(uow.items.incoming_page, zuid) == [(older_item.id, older, "Noord")]
    assert page(uow.items.incoming_page, noord) == []


def test_offers_with_an_item_still_offered_are_listed_for_the_expiry_sweep(
    uow: UnitOfWork, noord: Office
) -> None:
    open_offer = add_offer(uow, noord, digest="a" * 64)
    done_offer = add_offer(uow, noord, digest="b" * 64)
    add_offer(uow, noord, digest="c" * 64)  # no items at all
    bakkerij = add_administration(uow, noord, "1001", "Bakkerij")
    slagerij = add_administration(uow, noord, "1002", "Slagerij")
    uow.items.add(open_offer.id, bakkerij, T0)
    withdrawn = uow.items.add(done_offer.id, slagerij, T0)
    uow.items.compare_and_set(withdrawn, ItemStatus.WITHDRAWN, event=Event.WITHDRAW, at=T0)

    assert uow.offers.list_with_offered_items() == [open_offer]


# --- offer items and the status-change log ---------------------------------------------------


@pytest.fixture
def item(uow: UnitOfWork, noord: Office) -> OfferItem:
    offer = add_offer(uow, noord)
    return uow.items.add(offer.id, add_administration(uow, noord, "1001", "Bakkerij"), T0)


def test_an_item_copies_its_administration_and_logs_the_offer(
    uow: UnitOfWork, noord: Office, item: OfferItem
) -> None:
    assert item == OfferItem(
        id=item.id,
        offer_id=item.offer_id,
        administration_id=item.administration_id,
        code="1001",
        name="Bakkerij",
        email="1001@inbox.example.nl",
        status=ItemStatus.OFFERED,
        status_changed_at=T0,
    )
    assert uow.items.get(item.id) == item
    assert uow.items.get(item.id + 1000) is None
    assert uow.items.status_changes(item.id) == [
        StatusChange(item.id, None, ItemStatus.OFFERED, "offer", noord.user.id, T0)
    ]


def test_items_list_per_offer_in_order(uow: UnitOfWork, noord: Office, item: OfferItem) -> None:
    second = uow.items.add(item.offer_id, add_administration(uow, noord, "1002", "Slagerij"), T0)
    other_offer = add_offer(uow, noord, digest="f" * 64)
    uow.items.add(other_offer.id, add_administration(uow, noord, "1003", "Groen"), T0)

    assert uow.items.list_for_offer(item.offer_id) == [item, second]


def test_compare_and_set_wins_once_and_logs_the_change(
    uow: UnitOfWork, zuid: Office, item: OfferItem
) -> None:
    at = T0 + DAY

    won = uow.items.compare_and_set(
        item,
        ItemStatus.REJECTED,
        event=Event.REJECT,
        at=at,
        actor_user_id=zuid.user.id,
        rejection_reason="Geen klant van ons",
    )
    lost = uow.items.compare_and_set(item, ItemStatus.QUEUED, event=Event.START, at=at + MINUTE)

    assert (won, lost) == (True, False)
    assert uow.items.get(item.id) == attrs.evolve(
        item,
        status=ItemStatus.REJECTED,
        status_changed_at=at,
        rejection_reason="Geen klant van ons",
    )
    assert uow.items.status_changes(item.id)[1:] == [
        StatusChange(item.id, ItemStatus.OFFERED, ItemStatus.REJECTED, "reject", zuid.user.id, at)
    ]


def test_compare_and_set_follows_the_item_through_its_statuses(
    uow: UnitOfWork, item: OfferItem
) -> None:
    steps = [
        (ItemStatus.QUEUED, Event.START),
        (ItemStatus.PROCESSING, Event.CLAIM),
        (ItemStatus.FAILED, Event.FAIL),
        (ItemStatus.QUEUED, Event.RETRY),
    ]
    current = item
    for minutes, (status, event) in enumerate(steps, start=1):
        assert uow.items.compare_and_set(current, status, event=event, at=T0 + minutes * MINUTE)
        current = present(uow.items.get(item.id))

    changes = uow.items.status_changes(item.id)
    assert [(c.from_status, c.to_status, c.event) for c in changes] == [
        (None, ItemStatus.OFFERED, "offer"),
        (ItemStatus.OFFERED, ItemStatus.QUEUED, "start"),
        (ItemStatus.QUEUED, ItemStatus.PROCESSING, "claim"),
        (ItemStatus.PROCESSING, ItemStatus.FAILED, "fail"),
        (ItemStatus.FAILED, ItemStatus.QUEUED, "retry"),
    ]
    assert [c.at for c in changes] == [T0 + m * MINUTE for m in range(5)]


def test_open_items_of_an_administration_are_those_in_an_open_status(
    uow: UnitOfWork, noord: Office, item: OfferItem
) -> None:
    administration = present(uow.administrations.get(item.administration_id))
    uow.items.compare_and_set(item, ItemStatus.WITHDRAWN, event=Event.WITHDRAW, at=T0)
    again = uow.items.add(add_offer(uow, noord, digest="9" * 64).id, administration, T0 + DAY)

    assert uow.items.list_open_for_administration(administration.id) == [again]

    uow.items.compare_and_set(again, ItemStatus.QUEUED, event=Event.START, at=T0 + 2 * DAY)
    assert [i.status for i in uow.items.list_open_for_administration(administration.id)] == [
        ItemStatus.QUEUED
    ]
    for status, event in [
        (ItemStatus.PROCESSING, Event.CLAIM),
        (ItemStatus.COMPLETED, Event.COMPLETE),
    ]:
        current = present(uow.items.get(again.id))
        uow.items.compare_and_set(current, status, event=event, at=T0 + 3 * DAY)
    assert uow.items.list_open_for_administration(administration.id) == []


def test_items_are_added_and_their_open_ones_read_for_many_administrations_at_once(
    uow: UnitOfWork, noord: Office
) -> None:
    chosen = [add_administration(uow, noord, f"20{n}", f"Klant {n}") for n in (3, 1, 2)]
    offer = add_offer(uow, noord, digest="8" * 64)

    items = uow.items.add_many(offer.id, chosen, T0)

    assert [(i.administration_id, i.code, i.status) for i in items] == [
        (a.id, a.code, ItemStatus.OFFERED) for a in chosen
    ]
    assert [uow.items.status_changes(i.id)[0].event for i in items] == ["offer"] * 3
    uow.items.compare_and_set(items[0], ItemStatus.WITHDRAWN, event=Event.WITHDRAW, at=T0)
    assert uow.items.list_open_for_administrations([a.id for a in chosen]) == sorted(
        items[1:], key=lambda i: i.id
    )


def test_many_items_change_by_one_compare_and_set_and_the_changed_ones_are_told(
    uow: UnitOfWork, noord: Office
) -> None:
    chosen = [add_administration(uow, noord, f"30{n}", f"Klant {n}") for n in range(3)]
    items = uow.items.add_many(add_offer(uow, noord, digest="7" * 64).id, chosen, T0)
    uow.items.compare_and_set(items[1], ItemStatus.WITHDRAWN, event=Event.WITHDRAW, at=T0)

    changed = uow.items.compare_and_set_many(
        items, ItemStatus.QUEUED, event=Event.START, at=T0 + MINUTE, actor_user_id=noord.user.id
    )

    assert set(changed) == {items[0].id, items[2].id}
    assert [present(uow.items.get(i.id)).status for i in items] == [
        ItemStatus.QUEUED,
        ItemStatus.WITHDRAWN,
        ItemStatus.QUEUED,
    ]
    last = uow.items.status_changes(items[2].id)[-1]
    assert (last.from_status, last.to_status, last.event, last.actor_user_id) == (
        ItemStatus.OFFERED,
        ItemStatus.QUEUED,
        "start",
        noord.user.id,
    )


# --- migrations (R8, R9 reservations) --------------------------------------------------------


@attrs.frozen
class Started:
    """Two offered items from Noord, redeemed by Zuid."""

    zuid: Office
    first: OfferItem
    second: OfferItem


@pytest.fixture
def started(uow: UnitOfWork, noord: Office, zuid: Office) -> Started:
    offer = add_offer(uow, noord)
    first = uow.items.add(offer.id, add_administration(uow, noord, "1001", "Bakkerij"), T0)
    second = uow.items.add(offer.id, add_administration(uow, noord, "1002", "Slagerij"), T0)
    return Started(zuid, first, second)


def test_migration_round_trips_with_its_target(uow: UnitOfWork, started: Started) -> None:
    target = target_of(started.zuid, "7001", "Bakkerij BV", "div-9")

    migration = uow.migrations.add(
        started.first, target_environment_id=started.zuid.environment.id, target=target, at=T0
    )

    assert (migration.item_id, migration.administration_id) == (
        started.first.id,
        started.first.administration_id,
    )
    assert (migration.target_environment_id, migration.target) == (
        started.zuid.environment.id,
        target,
    )
    assert (migration.started_at, migration.finished_at, migration.attempts) == (T0, None, 0)
    assert migration.failure_reason is None
    assert uow.migrations.get(migration.id) == migration
    assert uow.migrations.get_for_item(started.first.id) == migration
    assert uow.migrations.get_for_item(started.second.id) is None
    assert uow.migrations.list_for_offer(started.first.offer_id) == [migration]
    assert uow.migrations.list_for_offer(started.first.offer_id + 1000) == []
    assert uow.migrations.get(migration.id + 1000) is None


def test_many_migrations_are_added_at_once_in_their_order(
    uow: UnitOfWork, started: Started
) -> None:
    environment_id = started.zuid.environment.id
    targets = [
        (started.second, target_of(started.zuid, "7002", "Slagerij BV", "div-2")),
        (started.first, target_of(started.zuid, "7001", "Bakkerij BV", "div-1")),
    ]

    added = uow.migrations.add_many(targets, target_environment_id=environment_id, at=T0)

    assert [(m.item_id, m.target) for m in added] == [(i.id, t) for i, t in targets]
    assert [uow.migrations.get(m.id) for m in added] == list(added)


def test_many_migrations_of_which_one_clashes_are_refused_naming_it(
    uow: UnitOfWork, started: Started
) -> None:
    environment_id = started.zuid.environment.id
    same = target_of(started.zuid, "7001", "Samen BV", "div-1")

    with pytest.raises(RuleViolation) as refused:
        uow.migrations.add_many(
            [
                (started.first, same),
                (started.second, target_of(started.zuid, "7001", "Samen BV", "div-2")),
            ],
            target_environment_id=environment_id,
            at=T0,
        )

    assert refused.value.code == "code_name_taken"
    assert refused.value.params["code"] == "7001"


def test_a_second_migration_of_one_item_is_refused(uow: UnitOfWork, started: Started) -> None:
    environment_id = started.zuid.environment.id
    uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )

    with pytest.raises(Conflict) as refused:
        uow.migrations.add(
            started.first,
            target_environment_id=environment_id,
            target=target_of(started.zuid, "1002", "Andere", "div-2"),
            at=T0,
        )

    assert refused.value.code == "item_started"
    assert refused.value.params["code"] == "1001"


def test_r8_an_unfinished_migration_reserves_its_code_and_name_until_it_finishes(
    uow: UnitOfWork, started: Started
) -> None:
    environment_id = started.zuid.environment.id
    first = uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "7001", "Samen BV", "div-1"),
        at=T0,
    )
    clash = target_of(started.zuid, "7001", "Samen BV", "div-2")

    with pytest.raises(RuleViolation) as refused:
        uow.migrations.add(
            started.second, target_environment_id=environment_id, target=clash, at=T0
        )

    assert refused.value.code == "code_name_taken"
    assert refused.value.params == {"environment": "Zuid", "code": "7001", "name": "Samen BV"}
    uow.migrations.record_finish(first.id, T0 + DAY)
    second = uow.migrations.add(
        started.second, target_environment_id=environment_id, target=clash, at=T0 + DAY
    )
    assert second.target == clash


def test_r9_an_unfinished_migration_reserves_its_package_administration_until_it_finishes(
    uow: UnitOfWork, started: Started
) -> None:
    environment_id = started.zuid.environment.id
    first = uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "7001", "Bakkerij", "div-1"),
        at=T0,
    )
    clash = target_of(started.zuid, "7002", "Slagerij", "div-1")

    with pytest.raises(RuleViolation) as refused:
        uow.migrations.add(
            started.second, target_environment_id=environment_id, target=clash, at=T0
        )

    assert refused.value.code == "package_administration_linked"
    assert refused.value.params == {"code": "7002", "name": "Slagerij"}
    uow.migrations.record_finish(first.id, T0 + DAY)
    uow.commit()
    second = uow.migrations.add(
        started.second, target_environment_id=environment_id, target=clash, at=T0 + DAY
    )
    assert uow.migrations.get(second.id) == second


def test_the_unfinished_migrations_into_an_environment_are_what_reserves_its_targets(
    uow: UnitOfWork, started: Started, noord: Office
) -> None:
    environment_id = started.zuid.environment.id
    first = uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "7001", "Bakkerij", "div-1"),
        at=T0,
    )
    second = uow.migrations.add(
        started.second,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "7002", "Slagerij", "div-2"),
        at=T0,
    )

    assert uow.migrations.list_unfinished_into(environment_id) == [first, second]
    assert uow.migrations.list_unfinished_into(noord.environment.id) == []
    uow.migrations.record_finish(first.id, T0 + DAY)
    assert [m.id for m in uow.migrations.list_unfinished_into(environment_id)] == [second.id]


def test_an_administration_arrived_by_a_move_only_once_its_migration_finished(
    uow: UnitOfWork, started: Started, noord: Office
) -> None:
    environment_id = started.zuid.environment.id
    migration = uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "7001", "Bakkerij", "div-1"),
        at=T0,
    )
    administration_id = started.first.administration_id

    assert not uow.migrations.finished_into(administration_id, environment_id)
    uow.migrations.record_finish(migration.id, T0 + DAY)
    assert uow.migrations.finished_into(administration_id, environment_id)
    assert not uow.migrations.finished_into(administration_id, noord.environment.id)
    assert not uow.migrations.finished_into(started.second.administration_id, environment_id)


def test_a_finished_migration_records_when_it_finished(
    uow: UnitOfWork, noord: Office, started: Started
) -> None:
    environment_id = started.zuid.environment.id
    done = uow.migrations.add(
        started.first,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )
    running = uow.migrations.add(
        started.second,
        target_environment_id=environment_id,
        target=target_of(started.zuid, "1002", "Slagerij", "div-2"),
        at=T0,
    )
    uow.migrations.record_finish(done.id, T0 + DAY)

    assert present(uow.migrations.get(running.id)).finished_at is None
    assert present(uow.migrations.get(done.id)).finished_at == T0 + DAY


def test_claims_progress_and_failures_are_recorded(uow: UnitOfWork, started: Started) -> None:
    migration = uow.migrations.add(
        started.first,
        target_environment_id=started.zuid.environment.id,
        target=target_of(started.zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )
    migrations = uow.migrations

    claimed_between = leased(lambda: migrations.record_claim(migration.id, lease_for=2 * MINUTE))
    migrations.record_progress(
        migration.id, documents_total=10, documents_done=4, bytes_total=6_000_000_000, bytes_done=1
    )
    migrations.record_failure(migration.id, "Archief niet bereikbaar")
    failed = present(migrations.get(migration.id))
    retried_between = leased(lambda: migrations.record_claim(migration.id, lease_for=9 * MINUTE))
    retried = present(migrations.get(migration.id))

    assert within(failed.lease_expires_at, claimed_between, 2 * MINUTE)
    assert within(retried.lease_expires_at, retried_between, 9 * MINUTE)
    assert failed == attrs.evolve(
        migration,
        attempts=1,
        lease_expires_at=failed.lease_expires_at,
        documents_total=10,
        documents_done=4,
        bytes_total=6_000_000_000,
        bytes_done=1,
        failure_reason="Archief niet bereikbaar",
    )
    assert retried == attrs.evolve(
        failed, attempts=2, lease_expires_at=retried.lease_expires_at, failure_reason=None
    )


def leased(act: Callable[[], object]) -> tuple[datetime, datetime]:
    """The moments just before and just after ``act``, by this machine's clock (the same
    machine's as the database's)."""
    before = datetime.now(UTC)
    act()
    return before, datetime.now(UTC)


def within(
    lease: datetime | None, between: tuple[datetime, datetime], lease_for: timedelta
) -> bool:
    """Whether ``lease`` runs ``lease_for`` from a moment ``between``, by the database's
    clock."""
    before, after = between
    return lease is not None and before + lease_for - MILLISECOND <= lease <= after + lease_for


def test_a_failure_keeps_the_code_and_params_of_its_error_until_the_next_claim(
    uow: UnitOfWork, started: Started
) -> None:
    migration = uow.migrations.add(
        started.first,
        target_environment_id=started.zuid.environment.id,
        target=target_of(started.zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )
    reason = "Document é.pdf ontbreekt in het archief noord."

    uow.migrations.record_failure(
        migration.id,
        reason,
        code="document_missing",
        params=(("filename", "é.pdf"), ("store", "noord")),
    )
    failed = present(uow.migrations.get(migration.id))
    uow.migrations.record_claim(migration.id, lease_for=MINUTE)
    claimed = present(uow.migrations.get(migration.id))

    assert (failed.failure_reason, failed.failure_code, failed.failure_params) == (
        reason,
        "document_missing",
        (("filename", "é.pdf"), ("store", "noord")),
    )
    assert failed.failure_message("en") == (
        ArchiveError("document_missing", filename="é.pdf", store="noord").message("en")
    )
    assert (claimed.failure_reason, claimed.failure_code, claimed.failure_params) == (
        None,
        None,
        (),
    )


def test_the_steps_after_a_finish_are_listed_until_each_is_recorded(
    uow: UnitOfWork, started: Started
) -> None:
    def add(item: OfferItem, code: str) -> Migration:
        return uow.migrations.add(
            item,
            target_environment_id=started.zuid.environment.id,
            target=target_of(started.zuid, code, code, f"div-{code}"),
            at=T0,
        )

    unfinished, finished = add(started.first, "1"), add(started.second, "2")
    uow.migrations.record_finish(finished.id, T0)
    migrations = uow.migrations

    def due(at: datetime, link_attempts: int = 2) -> list[int]:
        listed = migrations.list_after_finish(link_attempts=link_attempts, released_before=at)
        return [m.id for m in listed]

    assert due(T0) == [finished.id]  # its links; its release is not due before T0
    assert due(T0, link_attempts=0) == []
    assert due(T0 + MINUTE, link_attempts=0) == [finished.id]  # its release
    assert unfinished.id not in due(T0 + DAY)

    assert migrations.start_links_attempt(finished.id, attempts_seen=0)
    assert not migrations.start_links_attempt(finished.id, attempts_seen=0)  # held by another
    assert migrations.start_links_attempt(finished.id, attempts_seen=1)
    assert due(T0) == []  # two tries made, none left
    assert due(T0, link_attempts=3) == [finished.id]
    migrations.record_links_rewritten(finished.id, T0 + MINUTE)
    assert not migrations.start_links_attempt(finished.id, attempts_seen=2)
    assert due(T0, link_attempts=3) == []
    assert due(T0 + DAY) == [finished.id]
    migrations.record_source_released(finished.id, T0 + DAY)
    assert due(T0 + DAY) == []

    done = present(migrations.get(finished.id))
    assert (done.links_attempts, done.links_rewritten_at, done.source_released_at) == (
        2,
        T0 + MINUTE,
        T0 + DAY,
    )


# --- access, redeem failures, outbox, charges ------------------------------------------------


def test_access_is_set_changed_listed_and_cleared(uow: UnitOfWork, noord: Office) -> None:
    administration = add_administration(uow, noord, "1001", "Bakkerij")
    piet = uow.users.add(noord.environment.id, "piet@noord.nl", "Piet", Role.USER)
    access = uow.access

    access.set(administration.id, piet.id, granted=True)
    access.set(administration.id, noord.user.id, granted=True)
    access.set(administration.id, piet.id, granted=False)

    assert access.list_for_administration(administration.id) == [
        AccessGrant(administration.id, noord.user.id, True),
        AccessGrant(administration.id, piet.id, False),
    ]
    access.clear_for_administration(administration.id)
    assert access.list_for_administration(administration.id) == []


def test_redeem_failures_are_counted_within_their_window(
    uow: UnitOfWork, noord: Office, zuid: Office
) -> None:
    colleague = uow.users.add(zuid.environment.id, "collega@zuid.nl", "Collega", Role.SUPER_USER)
    attempts = uow.redeem_attempts
    attempts.add_failure(
        user_id=zuid.user.id, environment_id=zuid.environment.id, at=T0 + 9 * MINUTE
    )
    attempts.add_failure(user_id=zuid.user.id, environment_id=zuid.environment.id, at=T0)
    attempts.add_failure(user_id=colleague.id, environment_id=zuid.environment.id, at=T0 + MINUTE)
    attempts.add_failure(user_id=zuid.user.id, environment_id=zuid.environment.id, at=T0 - DAY)
    attempts.add_failure(user_id=noord.user.id, environment_id=noord.environment.id, at=T0)

    assert attempts.failures_for_user(zuid.user.id, since=T0) == [T0, T0 + 9 * MINUTE]
    assert attempts.failures_for_user(zuid.user.id, since=T0 + MINUTE) == [T0 + 9 * MINUTE]
    assert attempts.failures_for_environment(zuid.environment.id, since=T0) == [
        T0,
        T0 + MINUTE,
        T0 + 9 * MINUTE,
    ]
    assert attempts.failures_for_environment(noord.environment.id, since=T0 + MINUTE) == []


def email(kind: str, subject: str = "Migratieverzoek") -> Email:
    return Email(
        to=("super@zuid.nl", "boekhouding@zuid.nl"),
        subject=subject,
        body="Beste collega,\n\nDe overdrachtscode is 02TV-YGG0-ZKZ9-BNKZ-2S0B-0G28. — Noord",
        kind=kind,
        cc=("super@noord.nl",),
    )


def test_outbox_keeps_pending_messages_oldest_first_until_sent(uow: UnitOfWork) -> None:
    later = uow.outbox.add(email("offer_code"), T0 + MINUTE)
    earlier = uow.outbox.add(email("offer_rejected", "Afgewezen: één administratie"), T0)
    third = uow.outbox.add(email("migration_started"), T0 + 2 * MINUTE)

    assert earlier.email == email("offer_rejected", "Afgewezen: één administratie")
    assert uow.outbox.list_pending() == [earlier, later, third]
    assert uow.outbox.list_pending(limit=1) == [earlier]

    uow.outbox.mark_sent(earlier.id, T0 + 3 * MINUTE)

    assert uow.outbox.list_pending() == [later, third]
    assert uow.outbox.list_recent() == [
        third,
        later,
        attrs.evolve(earlier, sent_at=T0 + 3 * MINUTE),
    ]
    assert uow.outbox.list_recent(limit=2) == [third, later]


def test_a_claim_holds_pending_messages_oldest_first_until_it_runs_out_or_is_released(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as uow:
        later = uow.outbox.add(email("offer_code"), T0 + MINUTE)
        earlier = uow.outbox.add(email("offer_rejected"), T0)
        third = uow.outbox.add(email("migration_started"), T0 + 2 * MINUTE)
        sent = uow.outbox.add(email("migration_completed"), T0)
        uow.outbox.mark_sent(sent.id, T0)
        uow.commit()

    def claim(limit: int, now: datetime, until: datetime) -> list[int]:
        with uow_factory() as uow:
            claimed = uow.outbox.claim_pending(limit, now=now, until=until)
            uow.commit()
        assert all(message.claimed_until == until for message in claimed)
        return [message.id for message in claimed]

    assert claim(2, T0, T0 + 5 * MINUTE) == [earlier.id, later.id]
    assert claim(5, T0 + MINUTE, T0 + 6 * MINUTE) == [third.id]  # the rest
    assert claim(5, T0 + 2 * MINUTE, T0 + 7 * MINUTE) == []
    with uow_factory() as uow:  # an old claim's release gives up nothing of a newer one
        uow.outbox.release([earlier.id, third.id], until=T0 + 5 * MINUTE)
        uow.outbox.release([third.id], until=T0 + 99 * MINUTE)
        uow.commit()
    assert claim(5, T0 + 2 * MINUTE, T0 + 8 * MINUTE) == [earlier.id]
    assert claim(5, T0 + 6 * MINUTE, T0 + 9 * MINUTE) == [later.id, third.id]  # ran out
    with uow_factory() as uow:
        assert [m.id for m in uow.outbox.list_pending()] == [earlier.id, later.id, third.id]


def test_a_claim_rolled_back_holds_nothing(uow_factory: Callable[[], UnitOfWork]) -> None:
    with uow_factory() as uow:
        message = uow.outbox.add(email("offer_code"), T0)
        uow.commit()
    with uow_factory() as uow:
        assert [m.id for m in uow.outbox.claim_pending(5, now=T0, until=T0 + DAY)] == [message.id]
    with uow_factory() as uow:
        [again] = uow.outbox.claim_pending(5, now=T0, until=T0 + DAY)
    assert again.id == message.id


def test_a_sent_message_forgets_its_secret(uow_factory: Callable[[], UnitOfWork]) -> None:
    code = "02TV-YGG0-ZKZ9-BNKZ-2S0B-0G28"
    with_code = attrs.evolve(email("offer_code"), body=f"Code: {CODE_PLACEHOLDER}", secret=code)
    with uow_factory() as uow:
        message = uow.outbox.add(with_code, T0)
        uow.commit()
    with uow_factory() as uow:
        [pending] = uow.outbox.list_pending()
        assert pending.email.text() == f"Code: {code}"
        uow.outbox.mark_sent(message.id, T0 + MINUTE)
        uow.commit()
    with uow_factory() as uow:
        [sent] = uow.outbox.list_recent()
    assert sent.email.secret is None
    assert sent.email.text() == f"Code: {CODE_NOT_KEPT}"
    assert sent.email == with_code.without_secret()


def test_a_migration_is_charged_once(uow: UnitOfWork, noord: Office, started: Started) -> None:
    migration = uow.migrations.add(
        started.first,
        target_environment_id=started.zuid.environment.id,
        target=target_of(started.zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )
    charge = Charge(migration.id, started.zuid.environment.id, migration.administration_id, T0)

    assert uow.charges.add(charge) is True
    assert uow.charges.add(attrs.evolve(charge, charged_at=T0 + DAY)) is False
    assert uow.charges.list_for_environment(started.zuid.environment.id) == [charge]
    assert uow.charges.list_for_environment(noord.environment.id) == []


# --- the unit of work ------------------------------------------------------------------------


def test_what_is_committed_is_seen_by_the_next_unit_of_work(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as uow:
        noord = add_office(uow, "Noord")
        uow.commit()
        # After a commit the unit goes on, and commits again.
        zuid = add_office(uow, "Zuid")
        uow.commit()

    with uow_factory() as uow:
        assert uow.environments.list() == [noord.environment, zuid.environment]


def test_leaving_without_commit_or_rolling_back_keeps_nothing(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as uow:
        kept = uow.environments.add("Noord", has_subscription=True, archive_store="a")
        uow.commit()
        uow.environments.add("Weg", has_subscription=True, archive_store="a")
        uow.rollback()
        uow.environments.add("Ook weg", has_subscription=True, archive_store="a")

    with uow_factory() as uow:
        assert uow.environments.list() == [kept]


def test_uncommitted_changes_stay_inside_their_unit_of_work(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as writer:
        added = writer.environments.add("Noord", has_subscription=True, archive_store="a")
        assert writer.environments.get(added.id) == added
        writer.rollback()
    with uow_factory() as reader:
        assert reader.environments.get(added.id) is None


# --- the archive and the engine: pages, copies, redirects, leases ----------------------------


@attrs.frozen
class Moving:
    """Administration 1001 of Noord with its archive on store "noord", and its migration to
    Zuid; a second administration with an archive of its own."""

    noord: Office
    zuid: Office
    administration: Administration
    other: Administration
    item: OfferItem
    migration_id: int


@pytest.fixture
def moving(uow: UnitOfWork, noord: Office, zuid: Office) -> Moving:
    offer = add_offer(uow, noord)
    administration = add_administration(uow, noord, "1001", "Bakkerij")
    other = add_administration(uow, noord, "1002", "Slagerij")
    item = uow.items.add(offer.id, administration, T0)
    migration = uow.migrations.add(
        item,
        target_environment_id=zuid.environment.id,
        target=target_of(zuid, "1001", "Bakkerij", "div-1"),
        at=T0,
    )
    return Moving(noord, zuid, administration, other, item, migration.id)


def add_document(
    uow: UnitOfWork, owner: Administration, n: int, size: int = 100, store: str = "noord"
) -> Document:
    return uow.documents.add(
        owner.id,
        filename=f"factuur-{n}.pdf",
        content_type="application/pdf",
        size=size,
        sha256=f"{n:064x}",
        archive_store=store,
        blob_key=f"blob-{n}",
        received_at=T0,
    )


def copy_of(document: Document, store: str = "zuid", **changes: Any) -> DocumentCopy:
    copy = DocumentCopy(
        document_id=document.id,
        archive_store=store,
        blob_key=f"{store}-{document.blob_key}",
        sha256=document.sha256,
        size=document.size,
        source_store=document.archive_store,
        source_key=document.blob_key,
    )
    return attrs.evolve(copy, **changes)


def test_an_archive_is_read_a_page_at_a_time_in_order_of_id(
    uow: UnitOfWork, moving: Moving
) -> None:
    documents = [add_document(uow, moving.administration, n) for n in range(5)]
    add_document(uow, moving.other, 99)
    pages = uow.documents

    assert pages.list_page(moving.administration.id, limit=2) == documents[:2]
    assert pages.list_page(moving.administration.id, after_id=documents[1].id) == documents[2:]
    assert pages.list_page(moving.administration.id, after_id=documents[4].id) == []


def test_archive_totals_count_documents_and_bytes_in_one_answer(
    uow: UnitOfWork, moving: Moving
) -> None:
    add_document(uow, moving.administration, 1, size=5_000_000_000)
    add_document(uow, moving.administration, 2, size=7)
    add_document(uow, moving.other, 3, size=1000)

    assert uow.documents.totals(moving.administration.id) == ArchiveTotals(2, 5_000_000_007)
    assert uow.documents.totals(moving.administration.id + 1000) == ArchiveTotals(0, 0)


def test_copies_are_recorded_once_per_migration_and_counted(
    uow: UnitOfWork, moving: Moving
) -> None:
    first, second, third = (add_document(uow, moving.administration, n) for n in range(3))

    assert uow.copies.add_many(moving.migration_id, [copy_of(first), copy_of(second)], T0) == 2
    # A batch redone after a crash: what was recorded stays as it was.
    redone = [copy_of(second, blob_key="again"), copy_of(third)]
    assert uow.copies.add_many(moving.migration_id, redone, T0 + MINUTE) == 1
    assert uow.copies.add_many(moving.migration_id, [], T0) == 0

    assert uow.copies.totals(moving.migration_id) == ArchiveTotals(3, 300)
    assert uow.copies.list_page(moving.migration_id) == [
        copy_of(first),
        copy_of(second),
        copy_of(third),
    ]
    assert uow.copies.list_page(moving.migration_id, after_document_id=first.id, limit=1) == [
        copy_of(second)
    ]


def test_uncopied_documents_are_those_without_a_copy_in_this_migration(
    uow: UnitOfWork, moving: Moving
) -> None:
    documents = [add_document(uow, moving.administration, n) for n in range(4)]
    add_document(uow, moving.other, 99)
    uow.copies.add_many(moving.migration_id, [copy_of(documents[1])], T0)
    uncopied = uow.documents.list_uncopied

    assert uncopied(moving.administration.id, moving.migration_id) == [
        documents[0],
        documents[2],
        documents[3],
    ]
    assert uncopied(moving.administration.id, moving.migration_id, after_id=documents[0].id) == [
        documents[2],
        documents[3],
    ]
    assert uncopied(moving.administration.id, moving.migration_id, limit=1) == [documents[0]]
    assert uncopied(
        moving.administration.id, moving.migration_id, after_id=0, up_to_id=documents[2].id
    ) == [documents[0], documents[2]]
    assert uncopied(moving.administration.id, moving.migration_id + 1000) == documents


def test_the_integrity_check_names_missing_and_differing_copies(
    uow: UnitOfWork, moving: Moving
) -> None:
    same, missing, shorter, other_bytes = (
        add_document(uow, moving.administration, n) for n in range(4)
    )
    add_document(uow, moving.other, 99)
    uow.copies.add_many(
        moving.migration_id,
        [copy_of(same), copy_of(shorter, size=99), copy_of(other_bytes, sha256="f" * 64)],
        T0,
    )

    assert uow.copies.list_mismatched(moving.migration_id, moving.administration.id) == [
        missing.id,
        shorter.id,
        other_bytes.id,
    ]
    uow.copies.add_many(moving.migration_id, [copy_of(missing)], T0)
    assert uow.copies.list_mismatched(moving.migration_id, moving.administration.id) == [
        shorter.id,
        other_bytes.id,
    ]


def test_documents_point_at_their_copies_and_old_addresses_redirect(
    uow: UnitOfWork, moving: Moving
) -> None:
    copied, left = (add_document(uow, moving.administration, n) for n in range(2))
    elsewhere = add_document(uow, moving.other, 99)
    uow.copies.add_many(moving.migration_id, [copy_of(copied)], T0)

    assert uow.redirects.add_for_migration(moving.migration_id, moving.administration.id, T0) == 1
    assert uow.documents.point_at_copies(moving.administration.id, moving.migration_id) == 1

    assert uow.documents.get(copied.id) == attrs.evolve(
        copied, archive_store="zuid", blob_key="zuid-blob-0"
    )
    assert uow.documents.get(left.id) == left
    assert uow.documents.get(elsewhere.id) == elsewhere
    assert uow.redirects.resolve(f"noord/{copied.id}") == f"zuid/{copied.id}"
    assert uow.redirects.resolve(f"noord/{left.id}") is None
    assert uow.redirects.list_for_migration(moving.migration_id) == [
        DocumentRedirect(f"noord/{copied.id}", f"zuid/{copied.id}", copied.id, moving.migration_id)
    ]


def test_a_copy_on_the_documents_own_store_needs_no_redirect(
    uow: UnitOfWork, moving: Moving
) -> None:
    document = add_document(uow, moving.administration, 1, store="zuid")
    uow.copies.add_many(moving.migration_id, [copy_of(document, store="zuid")], T0)

    assert uow.redirects.add_for_migration(moving.migration_id, moving.administration.id, T0) == 0
    assert uow.redirects.list_for_migration(moving.migration_id) == []


def redirect_chain(uow: UnitOfWork, moving: Moving, stores: list[str]) -> Document:
    """A document of the administration moved from store to store, one migration per move
    (each a fresh item of a fresh offer)."""
    document = add_document(uow, moving.administration, 1, store=stores[0])
    migration_id = moving.migration_id
    for step, store in enumerate(stores[1:]):
        if step:
            uow.migrations.record_finish(migration_id, T0)
            offer = add_offer(uow, moving.noord, digest=f"{step:064x}")
            item = uow.items.add(offer.id, moving.administration, T0)
            migration_id = uow.migrations.add(
                item,
                target_environment_id=moving.zuid.environment.id,
                target=target_of(moving.zuid, "1001", "Bakkerij", f"div-again-{step}"),
                at=T0,
            ).id
        current = present(uow.documents.get(document.id))
        uow.copies.add_many(migration_id, [copy_of(current, store=store)], T0)
        uow.redirects.add_for_migration(migration_id, moving.administration.id, T0)
        uow.documents.point_at_copies(moving.administration.id, migration_id)
    return document


def test_a_redirect_follows_a_chain_of_moves_to_its_end(uow: UnitOfWork, moving: Moving) -> None:
    document = redirect_chain(uow, moving, ["noord", "zuid", "west"])

    assert uow.redirects.resolve(f"noord/{document.id}") == f"west/{document.id}"
    assert uow.redirects.resolve(f"zuid/{document.id}") == f"west/{document.id}"
    assert uow.redirects.resolve(f"west/{document.id}") is None


def test_a_document_back_on_a_store_it_left_lives_at_its_old_address_again(
    uow: UnitOfWork, moving: Moving
) -> None:
    document = redirect_chain(uow, moving, ["noord", "zuid", "noord"])

    assert uow.redirects.resolve(f"noord/{document.id}") is None
    assert uow.redirects.resolve(f"zuid/{document.id}") == f"noord/{document.id}"


def test_a_blob_is_referenced_while_a_document_keeps_its_bytes_there(
    uow: UnitOfWork, moving: Moving
) -> None:
    add_document(uow, moving.administration, 1)
    add_document(uow, moving.other, 1)  # the same bytes, content-addressed: one blob
    add_document(uow, moving.other, 2, store="zuid")

    referenced = uow.documents.referenced_keys
    assert referenced("noord", ["blob-1", "blob-2", "blob-3"]) == {"blob-1"}
    assert referenced("zuid", {"blob-1", "blob-2"}) == {"blob-2"}
    assert referenced("noord", []) == set()


def test_lock_reads_the_administration(uow: UnitOfWork, moving: Moving) -> None:
    assert uow.administrations.lock(moving.administration.id) == moving.administration
    assert uow.administrations.lock(moving.administration.id + 1000) is None


def test_a_heartbeat_extends_the_lease_only_while_the_migration_is_processing(
    uow: UnitOfWork, moving: Moving
) -> None:
    migrations = uow.migrations

    assert not migrations.heartbeat(moving.migration_id, lease_for=MINUTE)
    assert not migrations.heartbeat(moving.migration_id + 1000, lease_for=MINUTE)
    queued = advance(uow, moving.item, ItemStatus.QUEUED, Event.START)
    advance(uow, queued, ItemStatus.PROCESSING, Event.CLAIM)

    beat = leased(lambda: migrations.heartbeat(moving.migration_id, lease_for=5 * MINUTE))
    assert within(present(migrations.get(moving.migration_id)).lease_expires_at, beat, 5 * MINUTE)
    assert migrations.heartbeat(moving.migration_id, lease_for=5 * MINUTE)


def advance(uow: UnitOfWork, item: OfferItem, to: ItemStatus, event: Event) -> OfferItem:
    assert uow.items.compare_and_set(item, to, event=event, at=T0)
    return present(uow.items.get(item.id))


def test_the_sweeper_sees_queued_migrations_and_processing_ones_whose_lease_ran_out(
    uow: UnitOfWork, moving: Moving
) -> None:
    offer = add_offer(uow, moving.noord, digest="e" * 64)
    other_item = uow.items.add(offer.id, moving.other, T0)
    other = uow.migrations.add(
        other_item,
        target_environment_id=moving.zuid.environment.id,
        target=target_of(moving.zuid, "1002", "Slagerij", "div-2"),
        at=T0,
    )
    assert uow.migrations.list_to_run() == []

    def to_run() -> list[int]:
        return [m.id for m in uow.migrations.list_to_run()]

    advance(uow, moving.item, ItemStatus.QUEUED, Event.START)
    queued = advance(uow, other_item, ItemStatus.QUEUED, Event.START)
    processing = advance(uow, queued, ItemStatus.PROCESSING, Event.CLAIM)
    uow.migrations.record_claim(other.id, lease_for=2 * MINUTE)
    assert to_run() == [moving.migration_id]
    # Leases are compared with the database's clock: one that ran out a moment ago.
    assert uow.migrations.heartbeat(other.id, lease_for=-MILLISECOND * 10)
    assert to_run() == [moving.migration_id, other.id]
    advance(uow, processing, ItemStatus.COMPLETED, Event.COMPLETE)
    assert to_run() == [moving.migration_id]
