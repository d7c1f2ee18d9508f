"""The one JSON converter: domain values survive the trip, moments travel as UTC with their
offset, enums as their value, tuples as lists, and a field the model does not know is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from migrationkit.domain.model import (
    AccountingPackage,
    AuthorizationFlow,
    Email,
    ItemStatus,
    Migration,
    MigrationTarget,
    OfferItem,
    Role,
    TransferOffer,
    User,
)
from migrationkit.serialization import from_json, to_json, to_plain

#: 14:05 in Amsterdam in winter is 13:05 UTC.
AMSTERDAM = datetime(2026, 11, 28, 14, 5, tzinfo=ZoneInfo("Europe/Amsterdam"))
T0 = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)

OFFER = TransferOffer(
    id=7,
    source_environment_id=1,
    source_connection_id=3,
    package=AccountingPackage.EXACT_ONLINE_NL,
    sender_user_id=11,
    sender_email="noord@example.nl",
    recipients=("zuid@example.nl", "boekhouding@zuid.example.nl"),
    code_digest="ab" * 32,
    code_hint="G951",
    created_at=T0,
    expires_at=datetime(2026, 12, 13, 13, 5, tzinfo=UTC),
    target_environment_id=2,
    redeemed_by_user_id=12,
    redeemed_at=datetime(2026, 11, 29, 8, 30, 15, 250_000, tzinfo=UTC),
)
MIGRATION = Migration(
    id=3,
    item_id=7,
    administration_id=1001,
    target_environment_id=2,
    target=MigrationTarget(5, "zuid-1002", "7002", "Fietsenmakerij Van Dijk"),
    attempts=2,
    documents_total=10,
    documents_done=4,
    bytes_total=5 * 2**40,
    bytes_done=2**40,
    lease_expires_at=T0,
    started_at=T0,
)
VALUES = [
    OFFER,
    OfferItem(
        7, 7, 1001, "1001", "Bakkerij De Korenschoof", "bakkerij@inbox.nl", ItemStatus.QUEUED, T0
    ),
    OfferItem(
        8, 7, 1002, "1002", "Fietsenmakerij", "fiets@inbox.nl", ItemStatus.REJECTED, T0, "Dubbel"
    ),
    MIGRATION,
    Email(
        to=("zuid@example.nl",),
        cc=("noord@example.nl",),
        subject="Migratieverzoek",
        body="Je overdrachtscode: ...\n\n---\n\nYour transfer code: ...",
        kind="offer_code",
    ),
    AuthorizationFlow(4, 1003, "Inkoopfacturen", (21, 22)),
    User(12, 2, "zuid@example.nl", "Supergebruiker Zuid", Role.SUPER_USER),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_a_domain_value_comes_back_equal_from_json(value: object) -> None:
    assert from_json(to_json(value), type(value)) == value


def test_moments_travel_as_utc_text_enums_as_their_value_tuples_as_lists() -> None:
    plain = json.loads(to_json(OFFER))

    assert plain["created_at"] == "2026-11-28T13:05:00+00:00"
    assert plain["redeemed_at"] == "2026-11-29T08:30:15.250000+00:00"
    assert plain["reminder_sent_at"] is None
    assert plain["package"] == "EXACT_ONLINE_NL"
    assert plain["recipients"] == ["zuid@example.nl", "boekhouding@zuid.example.nl"]
    assert to_plain(OFFER) == plain


def test_tuples_come_back_as_tuples_and_enums_as_members() -> None:
    back = from_json(to_json(OFFER), TransferOffer)

    assert type(back.recipients) is tuple
    assert back.package is AccountingPackage.EXACT_ONLINE_NL


def test_a_moment_in_another_zone_is_stored_as_the_same_instant_in_utc() -> None:
    text = to_json(AMSTERDAM)
    back = from_json(text, datetime)

    assert json.loads(text) == "2026-11-28T13:05:00+00:00"
    assert back == T0
    assert back.tzinfo is UTC


def test_a_moment_received_with_an_offset_is_read_as_utc() -> None:
    back = from_json('"2026-11-28T14:05:00+01:00"', datetime)

    assert back == T0
    assert back.tzinfo is UTC


def test_a_naive_moment_is_taken_to_be_utc() -> None:
    assert from_json('"2026-11-28T13:05:00"', datetime) == T0


def plain_email(**changes: Any) -> str:
    email = to_plain(Email(to=("zuid@example.nl",), subject="Onderwerp", body="Tekst", kind="k"))
    return json.dumps({**email, **changes})


def test_a_field_the_model_does_not_know_is_refused() -> None:
    with pytest.raises(ClassValidationError) as refused:
        from_json(plain_email(bcc=["stiekem@example.nl"]), Email)

    (reason,) = refused.value.exceptions
    assert isinstance(reason, ForbiddenExtraKeysError)
    assert reason.extra_fields == {"bcc"}


def test_a_missing_field_is_refused() -> None:
    text = json.dumps({k: v for k, v in json.loads(plain_email()).items() if k != "kind"})

    with pytest.raises(ClassValidationError):
        from_json(text, Email)


def test_an_unknown_enum_value_is_refused() -> None:
    text = json.dumps({**to_plain(OFFER), "package": "SAGE"})

    with pytest.raises(ClassValidationError):
        from_json(text, TransferOffer)


def test_an_unknown_field_in_a_nested_value_is_refused() -> None:
    plain = to_plain(MIGRATION)
    plain["target"]["bucket"] = "elders"

    with pytest.raises(ClassValidationError):
        from_json(json.dumps(plain), Migration)
