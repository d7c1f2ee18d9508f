"""Builders shared by the unit tests: domain values with sensible defaults, and a check that
a refusal carries the right class, code and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from migrationkit import services
from migrationkit.domain.audit import AuditOutcome
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Connection,
    Document,
    Email,
    Environment,
    ItemStatus,
    Migration,
    MigrationTarget,
    OfferItem,
    PackageAdministration,
    Role,
    TransferOffer,
    User,
)
from migrationkit.services import Dependencies, OfferReceipt, RedeemedOffer, TargetChoice
from migrationkit.testing import FakeWorld, make_world

#: A winter moment: 13:05 UTC is 14:05 in Amsterdam.
T0 = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)

Caught = pytest.ExceptionInfo[MigrationError]
Refused = Callable[..., AbstractContextManager[Caught]]


@contextmanager
def _refused(error_class: type[MigrationError], code: str, /, **params: object) -> Iterator[Caught]:
    with pytest.raises(error_class) as caught:
        yield caught
    error = caught.value
    assert type(error) is error_class
    assert error.code == code
    assert {name: error.params.get(name) for name in params} == params


@pytest.fixture
def refused() -> Refused:
    """``with refused(RuleViolation, "code", name=value, ...):`` asserts the error's exact
    class, its code and the params given (what fills its message's placeholders). Its
    sentences are tested once per code, in test_errors.py."""
    return _refused


class Build:
    """Domain values with defaults: Noord (environment 1) offers administrations of its
    Exact Online connection 1 to Zuid (environment 2), at ``now``."""

    now = T0

    def environment(self, id: int = 1, **changes: Any) -> Environment:
        name = {1: "Noord", 2: "Zuid"}.get(id, f"Omgeving {id}")
        return attrs.evolve(Environment(id, name, True, "local"), **changes)

    def user(self, id: int = 1, environment_id: int = 1, **changes: Any) -> User:
        user = User(
            id,
            environment_id,
            f"user{id}@kantoor{environment_id}.nl",
            f"Gebruiker {id}",
            Role.SUPER_USER,
        )
        return attrs.evolve(user, **changes)

    def connection(self, id: int = 1, environment_id: int = 1, **changes: Any) -> Connection:
        connection = Connection(
            id, environment_id, AccountingPackage.EXACT_ONLINE_NL, f"Exact Online {id}"
        )
        return attrs.evolve(connection, **changes)

    def administration(self, id: int = 1, **changes: Any) -> Administration:
        administration = Administration(
            id=id,
            environment_id=1,
            connection_id=1,
            package=AccountingPackage.EXACT_ONLINE_NL,
            code=f"000{id}",
            name=f"Bakkerij {id}",
            email=f"bakkerij{id}@inbox.example",
            package_admin_id=f"div-{id}",
        )
        return attrs.evolve(administration, **changes)

    def package_administration(
        self, package_admin_id: str = "div-9", code: str = "0099", name: str = "Bakkerij 1"
    ) -> PackageAdministration:
        return PackageAdministration(package_admin_id, code, name)

    def offer(self, id: int = 1, **changes: Any) -> TransferOffer:
        offer = TransferOffer(
            id=id,
            source_environment_id=1,
            source_connection_id=1,
            package=AccountingPackage.EXACT_ONLINE_NL,
            sender_user_id=1,
            sender_email="user1@kantoor1.nl",
            recipients=("baas@zuid.nl",),
            code_digest="0" * 64,
            code_hint="ABCD",
            created_at=T0,
            expires_at=T0 + timedelta(days=15),
        )
        return attrs.evolve(offer, **changes)

    def item(
        self, id: int = 1, status: ItemStatus = ItemStatus.OFFERED, **changes: Any
    ) -> OfferItem:
        item = OfferItem(
            id=id,
            offer_id=1,
            administration_id=id,
            code=f"000{id}",
            name=f"Bakkerij {id}",
            email=f"bakkerij{id}@inbox.example",
            status=status,
            status_changed_at=T0,
        )
        return attrs.evolve(item, **changes)

    def migration(self, id: int = 1, **changes: Any) -> Migration:
        migration = Migration(
            id=id,
            item_id=1,
            administration_id=1,
            target_environment_id=2,
            target=MigrationTarget(2, "div-9", "0099", "Bakkerij 1"),
        )
        return attrs.evolve(migration, **changes)


@pytest.fixture
def build() -> Build:
    return Build()


# --- use cases on the fakes ------------------------------------------------------------------


@attrs.frozen
class Office:
    """One environment with a super user, a plain user and an Exact Online connection."""

    environment: Environment
    super_user: User
    user: User
    connection: Connection


class Scene:
    """A world of fakes with three offices: Noord offers, Zuid takes in, Oost looks on.

    The helpers take the happy path; a test arranges with them and then calls the use case
    it is about itself.
    """

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.deps = world.deps
        self.noord = self.office("Noord")
        self.zuid = self.office("Zuid")
        self.oost = self.office("Oost")

    # arranging

    def office(
        self,
        name: str,
        *,
        subscription: bool = True,
        package: AccountingPackage = AccountingPackage.EXACT_ONLINE_NL,
    ) -> Office:
        domain = f"{name.lower()}.nl"
        with self.world.uow() as uow:
            environment = uow.environments.add(
                name, has_subscription=subscription, archive_store=name.lower()
            )
            super_user = uow.users.add(
                environment.id, f"baas@{domain}", f"Baas {name}", Role.SUPER_USER
            )
            user = uow.users.add(environment.id, f"medewerker@{domain}", f"Mw {name}", Role.USER)
            connection = uow.connections.add(environment.id, package, f"{package.label} {name}")
            uow.commit()
        return Office(environment, super_user, user, connection)

    def connection(self, office: Office, package: AccountingPackage) -> Connection:
        with self.world.uow() as uow:
            connection = uow.connections.add(
                office.environment.id, package, f"{package.label} {office.environment.name}"
            )
            uow.commit()
        return connection

    def administration(
        self,
        code: str = "0042",
        name: str = "Bakkerij de Korenschoof",
        *,
        office: Office | None = None,
        connection: Connection | None = None,
        package_admin_id: str | None = None,
    ) -> Administration:
        office = office or self.noord
        connection = connection or office.connection
        with self.world.uow() as uow:
            administration = uow.administrations.add(
                office.environment.id,
                connection.id,
                code,
                name,
                f"{code}@inbox.example",
                package_admin_id or f"{office.environment.name}-{code}-{name}",
            )
            uow.commit()
        return administration

    def flow(self, administration: Administration, name: str, *authorizers: User) -> None:
        with self.world.uow() as uow:
            uow.flows.add(administration.id, name, [a.id for a in authorizers])
            uow.commit()

    def document(self, administration: Administration, filename: str) -> Document:
        with self.world.uow() as uow:
            document = uow.documents.add(
                administration.id,
                filename=filename,
                content_type="application/pdf",
                size=3,
                sha256="ab" * 32,
                archive_store="noord",
                blob_key="ab" * 32,
                received_at=self.world.clock.now(),
            )
            uow.commit()
        return document

    def package_administration(
        self,
        package_admin_id: str,
        code: str = "0042",
        name: str = "Bakkerij de Korenschoof",
        *,
        connection: Connection | None = None,
    ) -> PackageAdministration:
        """Makes the package know an administration under a connection (Zuid's by default)."""
        connection = connection or self.zuid.connection
        found = PackageAdministration(package_admin_id, code, name)
        self.world.connectors.connector(connection.package).add_package_administration(
            connection.id, found
        )
        return found

    # the happy path

    def offer(
        self,
        *administrations: Administration,
        to: Sequence[str] = ("baas@zuid.nl",),
        sender: Office | None = None,
    ) -> OfferReceipt:
        sender = sender or self.noord
        chosen = administrations or (self.administration(office=sender),)
        return services.offer_administrations(
            self.deps,
            actor_id=sender.super_user.id,
            connection_id=chosen[0].connection_id,
            administration_ids=[a.id for a in chosen],
            recipients=to,
            accepted_terms=True,
        )

    def redeem(
        self, receipt: OfferReceipt, *, office: Office | None = None, code: str | None = None
    ) -> RedeemedOffer:
        return services.redeem_code(
            self.deps,
            actor_id=(office or self.zuid).super_user.id,
            code=code or receipt.code,
            accepted_terms=True,
            accepted_costs=True,
        )

    def choice(self, item: OfferItem, package_admin_id: str | None = None) -> TargetChoice:
        """Zuid's choice for an item: a package administration under the item's code and name
        in Zuid's connection, made known to the package when no id is given."""
        if package_admin_id is None:
            package_admin_id = f"zuid-{item.id}"
            self.package_administration(package_admin_id, item.code, item.name)
        return TargetChoice(item.id, self.zuid.connection.id, package_admin_id)

    def start(self, receipt: OfferReceipt) -> tuple[Migration, ...]:
        """Zuid starts every item of a redeemed offer."""
        return services.start_migrations(
            self.deps,
            actor_id=self.zuid.super_user.id,
            offer_id=receipt.offer.id,
            choices=[self.choice(item) for item in receipt.items],
        )

    def started(self, *administrations: Administration) -> tuple[OfferReceipt, Migration]:
        """Offered by Noord, redeemed and started by Zuid: the first migration."""
        receipt = self.offer(*administrations)
        self.redeem(receipt)
        return receipt, self.start(receipt)[0]

    def processing(self, *administrations: Administration) -> tuple[OfferReceipt, Migration]:
        receipt, migration = self.started(*administrations)
        claimed = services.claim_migration(self.deps, migration.id)
        assert claimed is not None
        return receipt, claimed

    def race(self, rival: Callable[[Dependencies], object]) -> None:
        """Runs ``rival`` (committed in its own unit of work) the next time a use case reads
        the clock: after it loaded what it acts on, before its compare-and-set."""
        self.deps = attrs.evolve(self.deps, clock=_RacingClock(self.world.deps, rival))

    # inspecting

    def item(self, item_id: int) -> OfferItem:
        with self.world.uow() as uow:
            item = uow.items.get(item_id)
        assert item is not None
        return item

    def reloaded(self, administration: Administration) -> Administration:
        """The administration as it stands now."""
        with self.world.uow() as uow:
            stored = uow.administrations.get(administration.id)
        assert stored is not None
        return stored

    def status(self, item_id: int) -> ItemStatus:
        return self.item(item_id).status

    def emails(self) -> list[Email]:
        """Every e-mail in the outbox, oldest first."""
        with self.world.uow() as uow:
            return [m.email for m in reversed(uow.outbox.list_recent(1000))]

    def emails_of_kind(self, kind: str) -> list[Email]:
        return [email for email in self.emails() if email.kind == kind]

    def snapshot(self) -> dict[str, Any]:
        """The committed state of every table, and what was enqueued."""
        state: dict[str, Any] = dict(self.world.database.snapshot())
        state["queue"] = list(self.world.queue.enqueued)
        return state

    @contextmanager
    def refused(
        self,
        error_class: type[MigrationError],
        code: str,
        /,
        *,
        wrong_code_recorded: bool = False,
        **params: object,
    ) -> Iterator[Caught]:
        """Like ``refused``, and asserts that nothing changed; a wrong transfer code may add
        exactly one failed attempt."""
        before = self.snapshot()
        with _refused(error_class, code, **params) as caught:
            yield caught
        after = self.snapshot()
        failures_before = before.pop("redeem_failures", {})
        failures_after = after.pop("redeem_failures", {})
        trail_before = before.pop("audit_events", {})
        trail_after = after.pop("audit_events", {})
        assert after == before
        assert len(failures_after) == len(failures_before) + (1 if wrong_code_recorded else 0)
        # The trail keeps the refusal (at most one event, by its code), and nothing else.
        added = [event for key, event in trail_after.items() if key not in trail_before]
        assert len(added) <= 1
        assert all(
            event.record.outcome is AuditOutcome.REFUSED and event.record.error_code == code
            for event in added
        )


class _RacingClock:
    def __init__(self, deps: Dependencies, rival: Callable[[Dependencies], object]) -> None:
        self._deps = deps
        self._rival: Callable[[Dependencies], object] | None = rival

    def now(self) -> datetime:
        rival, self._rival = self._rival, None
        if rival is not None:
            rival(self._deps)
        return self._deps.clock.now()


@pytest.fixture
def scene() -> Scene:
    return Scene(make_world())


@pytest.fixture
def new_scene() -> Callable[[], Scene]:
    """Makes fresh scenes: for a state machine, which needs one per run."""
    return lambda: Scene(make_world())
