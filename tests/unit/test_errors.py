"""Errors carry a stable code and a message in Dutch and English."""

from __future__ import annotations

import string

import pytest

from migrationkit.domain.errors import (
    MESSAGES,
    Conflict,
    InvalidInput,
    Locked,
    MigrationError,
    NotAllowed,
    NotFound,
    RuleViolation,
)
from migrationkit.domain.machine import Event
from migrationkit.domain.model import ItemStatus


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_exists_in_dutch_and_english_with_the_same_placeholders(code: str) -> None:
    dutch, english = MESSAGES[code]

    assert dutch.strip()
    assert english.strip()
    assert dutch != english
    assert placeholders(dutch) == placeholders(english)


@pytest.mark.parametrize("language", [0, 1], ids=["nl", "en"])
def test_no_two_codes_share_a_message(language: int) -> None:
    """A person can tell every refusal from every other by its words, as a program can by
    its code."""
    messages = [pair[language] for pair in MESSAGES.values()]

    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_can_be_filled_from_its_params(code: str) -> None:
    params = {name: f"<{name}>" for name in placeholders(MESSAGES[code][0])}
    error = MigrationError(code, **params)

    for value in params.values():
        assert value in str(error)
        assert value in error.message("en")


def test_the_dutch_message_is_the_string_and_english_is_asked_for() -> None:
    error = RuleViolation("code_name_taken", environment="Zuid", code="0042", name="Bakkerij")

    assert str(error) == "Omgeving Zuid heeft al een administratie met code 0042 en naam Bakkerij."
    assert error.message("nl") == str(error)
    assert error.message("en") == (
        "Environment Zuid already has an administration with code 0042 and name Bakkerij."
    )
    assert error.code == "code_name_taken"
    assert error.params == {"environment": "Zuid", "code": "0042", "name": "Bakkerij"}


def test_the_super_user_refusal_reads_in_both_languages() -> None:
    """The one place its text is tested: elsewhere tests assert its code, not_super_user."""
    error = NotAllowed("not_super_user")

    assert str(error) == "Alleen een supergebruiker van deze omgeving mag dit doen."
    assert error.message("en") == "Only a super user of this environment may do this."


def test_a_status_or_an_event_in_a_message_reads_in_the_message_language() -> None:
    error = RuleViolation("transition_refused", event=Event.CLAIM, status=ItemStatus.OFFERED)

    assert str(error) == "Verwerken kan niet bij status Aangeboden."
    assert error.message("en") == "Process is not possible in status Offered."


def test_an_unknown_language_falls_back_to_dutch() -> None:
    error = NotAllowed("not_super_user")

    assert error.message("de") == error.message("nl")


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="no_such_code"):
        MigrationError("no_such_code")


@pytest.mark.parametrize(
    "error_class", [NotAllowed, NotFound, RuleViolation, InvalidInput, Conflict, Locked]
)
def test_every_refusal_is_a_migration_error(error_class: type[MigrationError]) -> None:
    error = error_class("unknown_offer")

    assert isinstance(error, MigrationError)
    assert repr(error) == f"{error_class.__name__}('unknown_offer', {{}})"
