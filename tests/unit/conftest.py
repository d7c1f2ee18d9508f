"""Builders shared by the unit tests: domain values with sensible defaults, and a check that
a refusal carries the right class, code and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Connection,
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

#: A winter moment: 13:05 UTC is 14:05 in Amsterdam.
T0 = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)

Caught = pytest.ExceptionInfo[MigrationError]
Refused = Callable[..., AbstractContextManager[Caught]]


@contextmanager
def _refused(
    error_class: type[MigrationError], code: str, dutch: str, english: str | None = None
) -> Iterator[Caught]:
    with pytest.raises(error_class) as caught:
        yield caught
    error = caught.value
    assert type(error) is error_class
    assert error.code == code
    assert str(error) == dutch
    if english is not None:
        assert error.message("en") == english


@pytest.fixture
def refused() -> Refused:
    """``with refused(RuleViolation, "code", "Dutch text"[, "English text"]):`` asserts the
    error's exact class, its code and its messages."""
    return _refused


class Build:
    """Domain values with defaults: Noord (environment 1) offers administrations of its
    Exact Online connection 1 to Zuid (environment 2), at ``now``."""

    now = T0

    def environment(self, id: int = 1, **changes: object) -> Environment:
        name = {1: "Noord", 2: "Zuid"}.get(id, f"Omgeving {id}")
        return attrs.evolve(Environment(id, name, True, "local"), **changes)

    def user(self, id: int = 1, environment_id: int = 1, **changes: object) -> User:
        user = User(
            id,
            environment_id,
            f"user{id}@kantoor{environment_id}.nl",
            f"Gebruiker {id}",
            Role.SUPER_USER,
        )
        return attrs.evolve(user, **changes)

    def connection(self, id: int = 1, environment_id: int = 1, **changes: object) -> Connection:
        connection = Connection(
            id, environment_id, AccountingPackage.EXACT_ONLINE_NL, f"Exact Online {id}"
        )
        return attrs.evolve(connection, **changes)

    def administration(self, id: int = 1, **changes: object) -> Administration:
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

    def offer(self, id: int = 1, **changes: object) -> TransferOffer:
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
        self, id: int = 1, status: ItemStatus = ItemStatus.OFFERED, **changes: object
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

    def migration(self, id: int = 1, **changes: object) -> Migration:
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
