"""The use cases on the fakes under random sequences of actions: refusals change nothing and
the invariants of the design hold after every step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from migrationkit import services
from migrationkit.domain import codes
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.machine import TRANSITIONS, Event
from migrationkit.domain.model import ItemStatus, OfferItem
from migrationkit.services import OfferReceipt, TargetChoice

if TYPE_CHECKING:
    from conftest import Office, Scene

T = TypeVar("T")

#: What the packages hold in every office's connection: ids ``<office>-<k>``. The first and
#: the last share a code and name, and ``0042 Bakkerij`` and ``0050 Smit`` are taken in some
#: offices, so R8 can refuse; Zuid has ``Zuid-1`` linked already (R9).
PACKAGE_ADMINISTRATIONS = (
    ("1042", "Bakkerij BV"),
    ("2043", "Vos & Zn"),
    ("0050", "Smit"),
    ("0042", "Bakkerij"),
    ("1042", "Bakkerij BV"),
)
OFFICE = st.integers(0, 2)
#: Items of an offer and, for each, which of the package administrations to put it in.
CHOICES = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, len(PACKAGE_ADMINISTRATIONS))),
    min_size=1,
    max_size=2,
)
#: Who acts: mostly the one who may (``None``), sometimes any office's super user.
ACTOR = st.sampled_from([None, None, None, 0, 1, 2])
INDEX = st.integers(0, 50)
CODE_KINDS = st.sampled_from(["right", "right", "right", "old", "guess", "mistyped"])
STEPS = st.sampled_from(
    [timedelta(minutes=1), timedelta(minutes=16), timedelta(days=1), timedelta(days=4)]
)


def pick(items: list[T], index: int) -> T:
    """One of ``items``, the newest for index 0: what a user acts on is mostly recent."""
    return items[-1 - index % len(items)]


class UseCases(RuleBasedStateMachine):
    def __init__(self, scene: Scene) -> None:
        super().__init__()
        self.scene = scene
        self.offices = [scene.noord, scene.zuid, scene.oost]
        for office in self.offices:
            for k, (code, name) in enumerate(PACKAGE_ADMINISTRATIONS):
                scene.package_administration(
                    f"{office.environment.name}-{k}", code, name, connection=office.connection
                )
        for code, name in (("0042", "Bakkerij"), ("0043", "Vos"), ("0044", "Jansen")):
            scene.administration(code, name)
        for code, name in (("0042", "Bakkerij"), ("0050", "Smit")):
            scene.administration(code, name, office=scene.oost)
        scene.administration("2043", "Vos & Zn", office=scene.zuid, package_admin_id="Zuid-1")
        self.receipts: list[OfferReceipt] = []
        #: offer id -> its codes, the current one last.
        self.codes: dict[int, list[str]] = {}
        #: offer id -> the environments into which redeeming it succeeded.
        self.redeemed_into: dict[int, set[int]] = {}
        self.migration_ids: list[int] = []
        #: offer id -> the office its code was e-mailed to.
        self.meant_for: dict[int, Office] = {}

    # -- helpers --------------------------------------------------------------------------------

    def attempt(self, call: Callable[[], T], *, counts_wrong_codes: bool = False) -> T | None:
        """Runs a use case; a refusal must change nothing but, for a wrong transfer code,
        the one recorded failed attempt."""
        before = self.scene.snapshot()
        try:
            return call()
        except MigrationError as error:
            refusal = error
        after = self.scene.snapshot()
        failures = len(after.pop("redeem_failures", {})) - len(before.pop("redeem_failures", {}))
        wrong_code = counts_wrong_codes and refusal.code in ("code_unknown", "code_malformed")
        assert failures == (1 if wrong_code else 0), refusal
        trail_before = before.pop("audit_events", {})
        added = [e for k, e in after.pop("audit_events", {}).items() if k not in trail_before]
        # A user's refusal is in the trail, and nothing else (the worker's are its own).
        assert [e.record.error_code for e in added] in ([], [refusal.code]), refusal
        assert after == before, refusal
        return None

    def sender(self, receipt: OfferReceipt, actor: int | None) -> Office:
        """The offering office's super user, or another office's when ``actor`` says so."""
        if actor is None:
            return next(
                o for o in self.offices if o.environment.id == receipt.offer.source_environment_id
            )
        return self.offices[actor]

    def recipient(self, receipt: OfferReceipt, actor: int | None) -> Office:
        """The office that redeemed the code, else the one it went to, or another office when
        ``actor`` says so."""
        if actor is not None:
            return self.offices[actor]
        redeemed = self.redeemed_into.get(receipt.offer.id)
        if redeemed:
            return next(o for o in self.offices if o.environment.id in redeemed)
        return self.meant_for[receipt.offer.id]

    def redeemed(self) -> list[OfferReceipt]:
        return [r for r in self.receipts if r.offer.id in self.redeemed_into]

    # -- a start that every run has ----------------------------------------------------------

    @initialize()
    def one_migration_under_way(self) -> None:
        """Noord's 0044 Jansen, offered to Zuid and started: so every run reaches the worker."""
        noord, zuid = self.scene.noord, self.scene.zuid
        with self.scene.world.uow() as uow:
            jansen = uow.administrations.find_by_code_name(noord.environment.id, "0044", "Jansen")
        assert jansen is not None
        receipt = self.scene.offer(jansen)
        self.receipts.append(receipt)
        self.codes[receipt.offer.id] = [receipt.code]
        self.meant_for[receipt.offer.id] = zuid
        self.scene.redeem(receipt)
        self.redeemed_into[receipt.offer.id] = {zuid.environment.id}
        [migration] = services.start_migrations(
            self.scene.deps,
            actor_id=zuid.super_user.id,
            offer_id=receipt.offer.id,
            choices=[TargetChoice(receipt.items[0].id, zuid.connection.id, "Zuid-0")],
        )
        self.migration_ids.append(migration.id)

    # -- the sender -----------------------------------------------------------------------------

    @rule(
        sender=OFFICE,
        picks=st.lists(INDEX, min_size=1, max_size=3),
        recipient=st.sampled_from([1, 2]),
    )
    def offer(self, sender: int, picks: list[int], recipient: int) -> None:
        office = self.offices[sender]
        to = self.offices[(sender + recipient) % 3]
        with self.scene.world.uow() as uow:
            owned = list(uow.administrations.list_for_environment(office.environment.id))
        if not owned:
            return
        chosen = list({pick(owned, i).id: pick(owned, i) for i in picks}.values())
        by_connection = [a for a in chosen if a.connection_id == chosen[0].connection_id]
        receipt = self.attempt(
            lambda: services.offer_administrations(
                self.scene.deps,
                actor_id=office.super_user.id,
                connection_id=by_connection[0].connection_id,
                administration_ids=[a.id for a in by_connection],
                recipients=[office.super_user.email, to.super_user.email],
                accepted_terms=True,
            )
        )
        if receipt is not None:
            self.receipts.append(receipt)
            self.codes[receipt.offer.id] = [receipt.code]
            self.meant_for[receipt.offer.id] = to

    @precondition(lambda self: self.receipts)
    @rule(offer=INDEX, item=INDEX, actor=ACTOR)
    def withdraw(self, offer: int, item: int, actor: int | None) -> None:
        receipt = pick(self.receipts, offer)
        self.attempt(
            lambda: services.withdraw_item(
                self.scene.deps,
                actor_id=self.sender(receipt, actor).super_user.id,
                item_id=pick(list(receipt.items), item).id,
            )
        )

    @precondition(lambda self: self.receipts)
    @rule(offer=INDEX, actor=ACTOR)
    def resend(self, offer: int, actor: int | None) -> None:
        receipt = pick(self.receipts, offer)
        resent = self.attempt(
            lambda: services.resend_code(
                self.scene.deps,
                actor_id=self.sender(receipt, actor).super_user.id,
                offer_id=receipt.offer.id,
            )
        )
        if resent is not None:
            self.codes[receipt.offer.id].append(resent.code)

    # -- the recipient --------------------------------------------------------------------------

    @precondition(lambda self: self.receipts)
    @rule(offer=INDEX, actor=ACTOR, kind=CODE_KINDS)
    def redeem(self, offer: int, actor: int | None, kind: str) -> None:
        receipt = pick(self.receipts, offer)
        known = self.codes[receipt.offer.id]
        typed = {
            "right": known[-1],
            "old": known[0],
            "guess": codes.new_code(),
            "mistyped": known[-1][:-2],
        }[kind]
        self.redeem_code(receipt, actor, typed)

    def redeem_code(self, receipt: OfferReceipt, actor: int | None, typed: str) -> None:
        office = self.recipient(receipt, actor)
        opened = self.attempt(
            lambda: services.redeem_code(
                self.scene.deps,
                actor_id=office.super_user.id,
                code=typed,
                accepted_terms=True,
                accepted_costs=True,
            ),
            counts_wrong_codes=True,
        )
        if opened is not None:
            self.redeemed_into.setdefault(opened.offer.id, set()).add(office.environment.id)

    @precondition(lambda self: self.redeemed_into)
    @rule(offer=INDEX, actor=ACTOR, items=st.none() | st.lists(INDEX, min_size=1, max_size=2))
    def reject(self, offer: int, actor: int | None, items: list[int] | None) -> None:
        receipt = pick(self.redeemed(), offer)
        item_ids = None if items is None else list({pick(list(receipt.items), i).id for i in items})
        self.attempt(
            lambda: services.reject_items(
                self.scene.deps,
                actor_id=self.recipient(receipt, actor).super_user.id,
                offer_id=receipt.offer.id,
                item_ids=item_ids,
                reason="Liever niet",
            )
        )

    @precondition(lambda self: self.redeemed_into)
    @rule(offer=INDEX, actor=ACTOR, choices=CHOICES)
    def start(self, offer: int, actor: int | None, choices: list[tuple[int, int]]) -> None:
        self.start_items(pick(self.redeemed(), offer), actor, choices)

    @precondition(lambda self: self.receipts)
    @rule(offer=INDEX, choices=CHOICES)
    def take_in(self, offer: int, choices: list[tuple[int, int]]) -> None:
        """The recipient's path through the portal: the code, then Start migratie."""
        receipt = pick(self.receipts, offer)
        self.redeem_code(receipt, None, self.codes[receipt.offer.id][-1])
        self.start_items(receipt, None, choices)

    def start_items(
        self, receipt: OfferReceipt, actor: int | None, choices: list[tuple[int, int]]
    ) -> None:
        office = self.recipient(receipt, actor)
        # k == len(PACKAGE_ADMINISTRATIONS) names one the package does not have (R9).
        chosen = {
            pick(list(receipt.items), i).id: f"{office.environment.name}-{k}" for i, k in choices
        }
        migrations = self.attempt(
            lambda: services.start_migrations(
                self.scene.deps,
                actor_id=office.super_user.id,
                offer_id=receipt.offer.id,
                choices=[
                    TargetChoice(item_id, office.connection.id, package_admin_id)
                    for item_id, package_admin_id in chosen.items()
                ],
            )
        )
        self.migration_ids.extend(m.id for m in migrations or ())

    @precondition(lambda self: self.migration_ids)
    @rule(migration=INDEX, actor=ACTOR)
    def retry(self, migration: int, actor: int | None) -> None:
        migration_id = pick(self.migration_ids, migration)
        office = self.offices[actor] if actor is not None else self.target_of(migration_id)
        self.attempt(
            lambda: services.retry_migration(
                self.scene.deps, actor_id=office.super_user.id, migration_id=migration_id
            )
        )

    def target_of(self, migration_id: int) -> Office:
        with self.scene.world.uow() as uow:
            migration = uow.migrations.get(migration_id)
        assert migration is not None
        return next(o for o in self.offices if o.environment.id == migration.target_environment_id)

    # -- the worker and the clock ---------------------------------------------------------------

    @precondition(lambda self: self.migration_ids)
    @rule(migration=INDEX)
    def claim(self, migration: int) -> None:
        self.attempt(
            lambda: services.claim_migration(self.scene.deps, pick(self.migration_ids, migration))
        )

    @precondition(lambda self: self.migration_ids)
    @rule(migration=INDEX)
    def complete(self, migration: int) -> None:
        self.attempt(
            lambda: services.complete_migration(
                self.scene.deps, pick(self.migration_ids, migration)
            )
        )

    @precondition(lambda self: self.migration_ids)
    @rule(migration=INDEX)
    def fail(self, migration: int) -> None:
        self.attempt(
            lambda: services.fail_migration(
                self.scene.deps, pick(self.migration_ids, migration), "verbinding verbroken"
            )
        )

    @precondition(lambda self: self.migration_ids)
    @rule(migration=INDEX, succeeds=st.booleans())
    def run_job(self, migration: int, succeeds: bool) -> None:
        """What a worker's job does: claim, then complete or fail."""
        migration_id = pick(self.migration_ids, migration)
        if self.attempt(lambda: services.claim_migration(self.scene.deps, migration_id)) is None:
            return
        if succeeds:
            self.attempt(lambda: services.complete_migration(self.scene.deps, migration_id))
        else:
            self.attempt(lambda: services.fail_migration(self.scene.deps, migration_id, "time-out"))

    @rule(step=STEPS)
    def advance(self, step: timedelta) -> None:
        self.scene.world.clock.advance(step)

    @rule(step=STEPS)
    def sweep(self, step: timedelta) -> None:
        self.scene.world.clock.advance(step)
        services.sweep_offers(self.scene.deps)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def a_code_is_redeemed_into_at_most_one_environment(self) -> None:
        with self.scene.world.uow() as uow:
            for offer_id, environments in self.redeemed_into.items():
                assert len(environments) == 1
                offer = uow.offers.get(offer_id)
                assert offer is not None
                assert {offer.target_environment_id} == environments

    @invariant()
    def an_administration_is_in_at_most_one_open_offer(self) -> None:
        open_items = Counter(item.administration_id for item in self.items() if item.status.is_open)
        assert all(count == 1 for count in open_items.values()), open_items

    @invariant()
    def an_environment_holds_each_code_and_name_once(self) -> None:
        with self.scene.world.uow() as uow:
            for office in self.offices:
                held = uow.administrations.list_for_environment(office.environment.id)
                pairs = [(a.code, a.name) for a in held]
                assert len(pairs) == len(set(pairs)), pairs

    @invariant()
    def every_status_change_follows_the_table(self) -> None:
        with self.scene.world.uow() as uow:
            for item in self.items():
                first, *rest = uow.items.status_changes(item.id)
                assert (first.from_status, first.to_status, first.event) == (
                    None,
                    ItemStatus.OFFERED,
                    "offer",
                )
                previous = first
                for change in rest:
                    assert change.from_status is previous.to_status
                    event = Event(change.event)
                    assert TRANSITIONS[change.from_status, event] is change.to_status
                    previous = change
                assert previous.to_status is item.status

    @invariant()
    def every_completed_migration_is_charged_once_to_its_target(self) -> None:
        with self.scene.world.uow() as uow:
            charges = [
                charge
                for office in self.offices
                for charge in uow.charges.list_for_environment(office.environment.id)
            ]
            per_migration = Counter(charge.migration_id for charge in charges)
            assert all(count == 1 for count in per_migration.values())
            completed = set()
            for migration_id in self.migration_ids:
                migration = uow.migrations.get(migration_id)
                assert migration is not None
                item = uow.items.get(migration.item_id)
                assert item is not None
                if item.status is ItemStatus.COMPLETED:
                    completed.add(migration_id)
            assert set(per_migration) == completed
            for charge in charges:
                migration = uow.migrations.get(charge.migration_id)
                assert migration is not None
                assert charge.environment_id == migration.target_environment_id

    def items(self) -> list[OfferItem]:
        """Every offered item, in its status now."""
        with self.scene.world.uow() as uow:
            return [
                item
                for receipt in self.receipts
                for item in uow.items.list_for_offer(receipt.offer.id)
            ]


SETTINGS = settings(max_examples=75, stateful_step_count=30, deadline=None)


def test_the_use_cases_keep_the_invariants_of_the_design(new_scene: Callable[[], Scene]) -> None:
    # A factory is documented to work, though the signature names a class.
    run_state_machine_as_test(lambda: UseCases(new_scene()), settings=SETTINGS)  # type: ignore[arg-type]
