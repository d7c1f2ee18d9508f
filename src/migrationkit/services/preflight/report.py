"""The report model of a dry run: a ``Check`` per rule with its ``Verdict``, the helpers
that judge a rule into a check, and the refusal that carries the report it came from."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TypeVar

import attrs

from migrationkit.domain.errors import MigrationError


class Verdict(enum.Enum):
    """What a check says now: in order, refused (with the library's error), or that it can
    only be decided later (with a note that says when)."""

    PASSED = "passed"
    REFUSED = "refused"
    LATER = "later"

    @property
    def label_nl(self) -> str:
        return _VERDICT_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _VERDICT_LABELS[self][1]


_VERDICT_LABELS = {
    Verdict.PASSED: ("In orde", "Passed"),
    Verdict.REFUSED: ("Geweigerd", "Refused"),
    Verdict.LATER: ("Later gecontroleerd", "Checked later"),
}

#: A text in Dutch and English.
Text = tuple[str, str]


def _error_matches_verdict(
    check: Check, _: attrs.Attribute[MigrationError | None], error: MigrationError | None
) -> None:
    if (error is not None) != (check.verdict is Verdict.REFUSED):
        raise ValueError("a check carries an error exactly when it is refused")


@attrs.frozen
class Check:
    """One line of a pre-flight report: which rule ("R1".."R10", or "checklist" for an item
    of the guide's checklist), its title, its verdict, and the refusal or a note."""

    rule: str
    title_nl: str
    title_en: str
    verdict: Verdict = Verdict.PASSED
    error: MigrationError | None = attrs.field(default=None, validator=_error_matches_verdict)
    #: What to know beside the verdict: when a later check happens, until when a code holds.
    note_nl: str | None = None
    note_en: str | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def refused(self) -> bool:
        return self.verdict is Verdict.REFUSED

    def title(self, language: str = "nl") -> str:
        return self.title_en if language == "en" else self.title_nl

    def explanation(self, language: str = "nl") -> str | None:
        """The refusal's message, or else the note, in ``language`` ("nl" or "en")."""
        if self.error is not None:
            return self.error.message(language)
        return self.note_en if language == "en" else self.note_nl


def passed(rule: str, title: Text, note: Text | None = None) -> Check:
    if note is None:
        return Check(rule, *title)
    return Check(rule, *title, note_nl=note[0], note_en=note[1])


def later(rule: str, title: Text, note: Text) -> Check:
    return Check(rule, *title, verdict=Verdict.LATER, note_nl=note[0], note_en=note[1])


def refused(rule: str, title: Text, error: MigrationError) -> Check:
    return Check(rule, *title, verdict=Verdict.REFUSED, error=error)


def judge(rule: str, title: Text, run: Callable[[], object], note: Text | None = None) -> Check:
    """Runs a rule and keeps its refusal as the verdict."""
    try:
        run()
    except MigrationError as error:
        return refused(rule, title, error)
    return passed(rule, title, note)


def first_refusal(checks: Iterable[Check]) -> MigrationError | None:
    return next((check.error for check in checks if check.error is not None), None)


Report = TypeVar("Report")


def carrying(error: MigrationError, report: object) -> MigrationError:
    """``error`` with the report it was refused by, for the caller to show (one dry run per
    click: the portal and the API never make the report again to show it)."""
    error.report = report
    return error


def report_of(error: MigrationError, kind: type[Report]) -> Report | None:
    """The report of ``kind`` that ``error`` was refused by, if it carries one."""
    return error.report if isinstance(error.report, kind) else None
