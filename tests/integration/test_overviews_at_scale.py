"""The Migratie overzicht's lists at office scale, on SQLite, PostgreSQL and the in-memory
fake: a fixed number of statements per page whatever the number of offers, pages that never
show a row twice nor leave one out while offers keep arriving, and a search that finds each
word anywhere in the row, ignoring case, with accents as they are stored."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from sqlalchemy import Engine, event

from migrationkit import services
from migrationkit.adapters.sqlalchemy import unit_of_work_factory
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.machine import Event
from migrationkit.domain.model import (
    AccountingPackage,
    ItemStatus,
    MigrationTarget,
    Role,
    TransferOffer,
    User,
)
from migrationkit.domain.overviews import HISTORY_STATUSES, READY_STATUSES
from migrationkit.ports import UnitOfWork
from migrationkit.services import Dependencies, OverviewPage
from migrationkit.testing import FakeClock, make_dependencies

SECRET = b"integration-tests-server-secret-0123456789"
EXACT = AccountingPackage.EXACT_ONLINE_NL
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)


@attrs.frozen
class Offices:
    """Noord offers, Zuid takes in; ``deps`` read the pages at ``NOW``."""

    deps: Dependencies
    noord: User
    zuid: User
    #: The administrations' numbers, each used once.
    numbers: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def uow(self) -> UnitOfWork:
        return self.deps.uow()


def offices(uow_factory: Callable[[], UnitOfWork]) -> Offices:
    with uow_factory() as uow:
        noord = uow.environments.add("Kantoor Noord", has_subscription=True, archive_store="a")
        zuid = uow.environments.add("Kantoor Zuid", has_subscription=True, archive_store="a")
        sender = uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER)
        recipient = uow.users.add(zuid.id, "baas@zuid.nl", "Baas Zuid", Role.SUPER_USER)
        uow.connections.add(noord.id, EXACT, "Exact Noord")
        uow.connections.add(zuid.id, EXACT, "Exact Zuid")
        uow.commit()
    deps = make_dependencies(uow=uow_factory, clock=FakeClock(NOW))
    return Offices(deps, sender, recipient)


def offer(
    uow: UnitOfWork,
    offices: Offices,
    name: str,
    *,
    at: datetime,
    redeemed: bool = True,
    valid_for: timedelta = timedelta(days=15),
) -> TransferOffer:
    """One administration of Noord offered at ``at``, and redeemed by Zuid (one offer, one
    item: how the benchmark builds its 10,000 too, as the use cases write them)."""
    noord = offices.noord
    [connection] = uow.connections.list_for_environment(noord.environment_id)
    number = next(offices.numbers)
    administration = uow.administrations.add(
        noord.environment_id,
        connection.id,
        f"{number:05d}",
        name,
        f"{number:05d}@inbox.example.nl",
        f"pa-{number}",
    )
    made = uow.offers.add(
        source_environment_id=noord.environment_id,
        source_connection_id=connection.id,
        package=EXACT,
        sender_user_id=noord.id,
        sender_email=noord.email,
        recipients=["baas@zuid.nl"],
        code_digest=f"{number:064x}",
        code_hint="0G28",
        created_at=at,
        expires_at=at + valid_for,
    )
    uow.items.add(made.id, administration, at)
    if redeemed:
        uow.offers.bind_target(
            made.id, environment_id=offices.zuid.environment_id, user_id=offices.zuid.id, at=at
        )
    return made


def offer_many(offices: Offices, count: int, *, start: datetime = T0) -> None:
    """``count`` offers, two a minute (so pairs share their moment and the item id decides),
    every third one started by Zuid (a migration in the queue)."""
    with offices.uow() as uow:
        [target] = uow.connections.list_for_environment(offices.zuid.environment_id)
        for n in range(count):
            made = offer(uow, offices, f"Administratie {n}", at=start + timedelta(minutes=n // 2))
            if n % 3 == 0:
                [item] = uow.items.list_for_offer(made.id)
                uow.items.compare_and_set(item, ItemStatus.QUEUED, event=Event.START, at=NOW)
                uow.migrations.add(
                    item,
                    target_environment_id=offices.zuid.environment_id,
                    target=MigrationTarget(target.id, f"pz-{made.id}", item.code, item.name),
                    at=NOW,
                )
        uow.commit()


# --- statements per page ---------------------------------------------------------------------


def counted(engine: Engine, call: Callable[[], Any]) -> int:
    """How many statements ``call`` sends to the database."""
    statements = []

    def count(*_args: Any) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def every_page_kind(offices: Offices) -> dict[str, Callable[[], Any]]:
    """Each kind of page of both lists: plain, searched, filtered, and a page further on."""
    deps, noord, zuid = offices.deps, offices.noord.id, offices.zuid.id
    second_out = services.outgoing_overview(deps, actor_id=noord, limit=3).older
    second_in = services.incoming_overview(deps, actor_id=zuid, limit=3).older
    return {
        "outgoing": lambda: services.outgoing_overview(deps, actor_id=noord),
        "outgoing searched": lambda: services.outgoing_overview(
            deps, actor_id=noord, search="administratie aangeboden"
        ),
        "outgoing, next page": lambda: services.outgoing_overview(
            deps, actor_id=noord, cursor=second_out
        ),
        "incoming": lambda: services.incoming_overview(deps, actor_id=zuid),
        "incoming searched": lambda: services.incoming_overview(
            deps, actor_id=zuid, search="noord wachtrij"
        ),
        "incoming ready": lambda: services.incoming_overview(
            deps, actor_id=zuid, statuses=READY_STATUSES
        ),
        "incoming history, next page": lambda: services.incoming_overview(
            deps, actor_id=zuid, cursor=second_in, statuses=HISTORY_STATUSES
        ),
    }


def test_a_page_takes_as_many_statements_at_1000_offers_as_at_10(engine: Engine) -> None:
    scene = offices(unit_of_work_factory(engine, SECRET))
    offer_many(scene, 10)
    for call in every_page_kind(scene).values():
        call()  # the engine's first connection asks the server about itself
    at_10 = {kind: counted(engine, call) for kind, call in every_page_kind(scene).items()}

    offer_many(scene, 990, start=T0 + timedelta(days=1))
    at_1000 = {kind: counted(engine, call) for kind, call in every_page_kind(scene).items()}

    assert at_1000 == at_10
    # SQLite's BEGIN, the actor, the page; and on the recipient's side the page's migrations.
    assert max(at_10.values()) <= 4


def test_a_full_page_at_1000_offers_holds_fifty_rows_newest_first(engine: Engine) -> None:
    scene = offices(unit_of_work_factory(engine, SECRET))
    offer_many(scene, 1000)

    page = services.incoming_overview(scene.deps, actor_id=scene.zuid.id)

    assert len(page.rows) == 50
    assert [row.administration_name for row in page.rows[:3]] == [
        "Administratie 999",
        "Administratie 998",
        "Administratie 997",
    ]
    assert [row.migration is not None for row in page.rows[:4]] == [True, False, False, True]
    assert page.newer is None
    assert page.older is not None


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def scene(uow_factory: Callable[[], UnitOfWork]) -> Offices:
    return offices(uow_factory)


def walk(
    read: Callable[[str | None], OverviewPage[Any]], between: Callable[[], None] = lambda: None
) -> tuple[list[int], list[int]]:
    """The item ids of every page from the first on with Volgende, then back with Vorige
    from the last; ``between`` runs after each page."""
    forward, backward = [], []
    page = read(None)
    while True:
        forward += [row.item_id for row in page.rows]
        between()
        if page.older is None:
            break
        page = read(page.older)
    while True:
        backward = [row.item_id for row in page.rows] + backward
        if page.newer is None:
            break
        page = read(page.newer)
    return forward, backward


def test_pages_show_every_row_once_while_offers_keep_arriving(scene: Offices) -> None:
    offer_many(scene, 40)
    before = [row.item_id for row in _all_outgoing(scene)]
    arrivals = itertools.count()

    def another_arrives() -> None:
        with scene.uow() as uow:
            offer(uow, scene, f"Nieuw {next(arrivals)}", at=NOW)
            uow.commit()

    forward, backward = walk(
        lambda cursor: services.outgoing_overview(
            scene.deps, actor_id=scene.noord.id, cursor=cursor, limit=7
        ),
        another_arrives,
    )

    assert forward == before
    after = [row.item_id for row in _all_outgoing(scene)]
    assert backward == after
    assert len(set(after)) == len(after) == 40 + next(arrivals)


def _all_outgoing(scene: Offices) -> tuple[services.OutgoingRow, ...]:
    rows: tuple[services.OutgoingRow, ...] = ()
    cursor = None
    while True:
        page = services.outgoing_overview(scene.deps, actor_id=scene.noord.id, cursor=cursor)
        rows += page.rows
        if page.older is None:
            return rows
        cursor = page.older


def test_the_lists_are_newest_first_with_the_later_item_first_at_one_moment(
    scene: Offices,
) -> None:
    with scene.uow() as uow:
        first = offer(uow, scene, "Eerste", at=T0)
        same_a = offer(uow, scene, "Tegelijk A", at=T0 + timedelta(hours=1))
        same_b = offer(uow, scene, "Tegelijk B", at=T0 + timedelta(hours=1))
        uow.commit()

    rows = services.incoming_overview(scene.deps, actor_id=scene.zuid.id).rows

    assert [row.offer_id for row in rows] == [same_b.id, same_a.id, first.id]


def test_a_searched_list_comes_a_page_at_a_time_too(scene: Offices) -> None:
    offer_many(scene, 30)

    forward, backward = walk(
        lambda cursor: services.incoming_overview(
            scene.deps, actor_id=scene.zuid.id, search="WACHTRIJ", cursor=cursor, limit=4
        )
    )

    assert len(forward) == 10 == len(set(forward))
    assert backward == forward


def test_the_ready_list_and_the_history_split_the_incoming_rows(scene: Offices) -> None:
    offer_many(scene, 6)
    with scene.uow() as uow:
        offer(uow, scene, "Verlopen", at=T0, valid_for=timedelta(days=1))
        uow.commit()

    def names(statuses: frozenset[ItemStatus]) -> list[str]:
        page = services.incoming_overview(scene.deps, actor_id=scene.zuid.id, statuses=statuses)
        return [row.administration_name for row in page.rows]

    assert names(READY_STATUSES) == [f"Administratie {n}" for n in (5, 4, 3, 2, 1, 0)]
    assert names(HISTORY_STATUSES) == ["Verlopen"]


def test_a_page_past_the_end_is_empty_and_leads_back(scene: Offices) -> None:
    offer_many(scene, 4)
    first = services.outgoing_overview(scene.deps, actor_id=scene.noord.id, limit=2)

    # The search changed on the way: nothing older holds its words.
    beyond = services.outgoing_overview(
        scene.deps, actor_id=scene.noord.id, search="niemand", cursor=first.older
    )

    assert (beyond.rows, beyond.older) == ((), None)
    assert beyond.newer is not None
    back = services.outgoing_overview(scene.deps, actor_id=scene.noord.id, cursor=beyond.newer)
    assert back.rows == first.rows
    assert back.newer is None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "not a cursor",
        "bzIwMjYxMzAyMDkwMDAwMDAwMDAwLjU",
        "eDIwMjYxMTAyMDkwMDAwMDAwMDAwLjU",
        "bzIwMjYxMTAyMDkwMDAwMDAwMDAwLi01",
        "A" * 101,
        "%%%",
        "bjEuMQ",
    ],
)
def test_a_cursor_that_is_not_ours_is_refused_and_changes_nothing(
    scene: Offices, cursor: str
) -> None:
    offer_many(scene, 3)
    before = services.outgoing_overview(scene.deps, actor_id=scene.noord.id)

    for read in (
        lambda: services.outgoing_overview(scene.deps, actor_id=scene.noord.id, cursor=cursor),
        lambda: services.incoming_overview(scene.deps, actor_id=scene.zuid.id, cursor=cursor),
    ):
        with pytest.raises(InvalidInput) as refused:
            read()
        assert refused.value.code == "cursor_invalid"

    assert services.outgoing_overview(scene.deps, actor_id=scene.noord.id) == before


# --- the search ------------------------------------------------------------------------------


def searched_out(scene: Offices, search: str) -> list[str]:
    page = services.outgoing_overview(scene.deps, actor_id=scene.noord.id, search=search)
    return sorted(row.administration_name for row in page.rows)


def searched_in(scene: Offices, search: str) -> list[str]:
    page = services.incoming_overview(scene.deps, actor_id=scene.zuid.id, search=search)
    return sorted(row.administration_name for row in page.rows)


@pytest.fixture
def dutch(scene: Offices) -> Offices:
    with scene.uow() as uow:
        for name in (
            "Café De Ster",
            "CAFÉ NOORD",
            "Cafe Zonder Accent",
            "Ĳzerhandel Één",
            "Bakkerij 100%",
            "Bakkerij_Zuid",
            "Straße Müller",
        ):
            offer(uow, scene, name, at=T0)
        offer(uow, scene, "Verlopen Zaak", at=T0 - timedelta(days=20))
        uow.commit()
    return scene


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("café", ["CAFÉ NOORD", "Café De Ster"]),
        ("CAFÉ", ["CAFÉ NOORD", "Café De Ster"]),
        ("cafe", ["Cafe Zonder Accent"]),
        ("ster café", ["Café De Ster"]),
        ("fé ster", ["Café De Ster"]),
        # "de" is in Aangeboden too: a status's words count as the row's.
        ("fé de", ["CAFÉ NOORD", "Café De Ster"]),
        ("één", ["Ĳzerhandel Één"]),
        ("ĳzer", ["Ĳzerhandel Één"]),
        ("100%", ["Bakkerij 100%"]),
        ("%", ["Bakkerij 100%"]),
        ("_", ["Bakkerij_Zuid"]),
        ("müller", ["Straße Müller"]),
        ("STRASSE", ["Straße Müller"]),
        ("verlopen", ["Verlopen Zaak"]),
        ("expired zaak", ["Verlopen Zaak"]),
        ("aangeboden zaak", []),
        ("café noord aangeboden", ["CAFÉ NOORD"]),
        ("02-11-2026 ster", ["Café De Ster"]),
        ("17-11-2026 ster", ["Café De Ster"]),
        ("••••-0g28 bakkerij", ["Bakkerij 100%", "Bakkerij_Zuid"]),
        ("baas@zuid.nl zonder", ["Cafe Zonder Accent"]),
        ("inbox.example.nl ster", ["Café De Ster"]),
        ("ster noord", []),
    ],
)
def test_the_senders_search_finds_each_word_anywhere_ignoring_case(
    dutch: Offices, search: str, found: list[str]
) -> None:
    assert searched_out(dutch, search) == found


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("kantoor noord café", ["CAFÉ NOORD", "Café De Ster"]),
        ("exact online ster", ["Café De Ster"]),
        ("Ster 02-11-2026", ["Café De Ster"]),
        ("offered één", ["Ĳzerhandel Één"]),
        # What only the sender's list shows is not looked in here.
        ("baas@zuid.nl", []),
        ("0g28", []),
        ("17-11-2026", []),
    ],
)
def test_the_recipients_search_finds_each_word_anywhere_ignoring_case(
    dutch: Offices, search: str, found: list[str]
) -> None:
    assert searched_in(dutch, search) == found


def test_the_sender_finds_a_rejection_by_its_reason_and_a_resent_code_by_its_new_group(
    dutch: Offices,
) -> None:
    scene = dutch
    [row] = [r for r in _all_outgoing(scene) if r.administration_name == "Café De Ster"]
    with scene.uow() as uow:
        item = uow.items.get(row.item_id)
        assert item is not None
        uow.items.compare_and_set(
            item,
            ItemStatus.REJECTED,
            event=Event.REJECT,
            at=NOW,
            rejection_reason="Verkeerd Kantoor",
        )
        uow.offers.replace_code(
            row.offer_id,
            code_digest="f" * 64,
            code_hint="ZZ99",
            expires_at=NOW + timedelta(days=15),
        )
        uow.commit()

    assert searched_out(scene, "KANTOOR verkeerd") == ["Café De Ster"]
    assert searched_out(scene, "zz99 afgewezen") == ["Café De Ster"]
    assert searched_out(scene, "18-11-2026") == []
    assert searched_out(scene, "20-11-2026 rejected") == ["Café De Ster"]
