"""The audit trail: every action and every refusal, with who, which environment, what,
when and from which address; and the trail's search for the environment's super users.

A use case records what it did inside its own transaction (``record``), so an action and
its event are committed together or not at all. Refusals are recorded by ``@audited``
around the use case, in a transaction of their own, because the refused one is rolled back.
Nothing secret goes in: objects by kind and id, refusals by code and message (no message
holds a code or a token).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import attrs

from migrationkit.domain.audit import (
    CHANNELS,
    SUBJECT_KINDS,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditRecord,
)
from migrationkit.domain.errors import InvalidInput, MigrationError
from migrationkit.domain.model import User
from migrationkit.domain.rules import clean_search
from migrationkit.ports import AuditSearchWord, UnitOfWork
from migrationkit.services import _load
from migrationkit.services.dependencies import Dependencies

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: An object of the product, by kind and id: ("offer", 12), ("migration", 5).
Subject = tuple[str, int]

#: The keyword arguments of the use cases that name their object, most specific first.
_SUBJECT_ARGUMENTS = (
    ("migration_id", "migration"),
    ("item_id", "offer_item"),
    ("offer_id", "offer"),
    ("document_id", "document"),
    ("token_id", "api_token"),
    ("session_id", "session"),
    ("administration_id", "administration"),
    ("connection_id", "connection"),
)
#: The most events one page of the trail shows.
PAGE_SIZE = 100


def _event(
    deps: Dependencies,
    action: AuditAction,
    actor: User | None,
    subject: Subject | None,
    refusal: MigrationError | None = None,
) -> AuditRecord:
    """What the trail keeps of an action or a refusal: the actor as they are now, never
    more of the refusal than its code and messages."""
    return AuditRecord(
        action=action,
        outcome=AuditOutcome.DONE if refusal is None else AuditOutcome.REFUSED,
        origin=deps.origin,
        actor_user_id=None if actor is None else actor.id,
        actor_email=None if actor is None else actor.email,
        environment_id=None if actor is None else actor.environment_id,
        subject_type=None if subject is None else subject[0],
        subject_id=None if subject is None else subject[1],
        error_code=None if refusal is None else refusal.code,
        message_nl=None if refusal is None else refusal.message("nl"),
        message_en=None if refusal is None else refusal.message("en"),
    )


def record(
    uow: UnitOfWork,
    deps: Dependencies,
    actor: User,
    action: AuditAction,
    subject: Subject | None = None,
) -> None:
    """Appends a done action to the trail, in the use case's own transaction."""
    uow.audit.append(_event(deps, action, actor, subject), deps.clock.now())


def record_many(
    uow: UnitOfWork,
    deps: Dependencies,
    actor: User,
    action: AuditAction,
    subjects: Sequence[Subject],
) -> None:
    """``record`` of one action on each of ``subjects``, in one statement."""
    now = deps.clock.now()
    uow.audit.append_many([_event(deps, action, actor, subject) for subject in subjects], now)


def record_refusal(
    deps: Dependencies,
    *,
    action: AuditAction,
    error: MigrationError,
    actor_id: int | None = None,
    subject: Subject | None = None,
) -> None:
    """Appends a refusal in a transaction of its own. A trail that cannot be written is
    logged, never raised: the user hears the refusal itself."""
    try:
        with deps.uow() as uow:
            actor = None if actor_id is None else uow.users.get(actor_id)
            uow.audit.append(_event(deps, action, actor, subject, error), deps.clock.now())
            uow.commit()
    except Exception:  # the trail must not turn a refusal into a crash
        log.exception("could not record the refusal %s of %s", error.code, action.value)


def subject_of(arguments: Mapping[str, Any]) -> Subject | None:
    """The object a use case's keyword arguments name, if any."""
    for argument, kind in _SUBJECT_ARGUMENTS:
        value = arguments.get(argument)
        if isinstance(value, int) and not isinstance(value, bool):
            return (kind, value)
    return None


def audited(action: AuditAction) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Records every refusal of the use case it wraps. The use case takes ``Dependencies``
    first and ``actor_id`` (when it has an actor) by keyword."""

    def decorate(use_case: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(use_case)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return use_case(*args, **kwargs)
            except MigrationError as error:
                deps = args[0]
                assert isinstance(deps, Dependencies)
                actor_id = kwargs.get("actor_id")
                record_refusal(
                    deps,
                    action=action,
                    error=error,
                    actor_id=actor_id if isinstance(actor_id, int) else None,
                    subject=subject_of(kwargs),
                )
                raise

        return wrapped

    return decorate


@attrs.frozen
class AuditPage:
    """One page of the trail, newest first; ``older`` is where the next page starts."""

    events: tuple[AuditEvent, ...]
    older: int | None


def _words(term: str) -> list[AuditSearchWord]:
    """The search's words; a word also finds the actions, outcomes, object kinds and
    channels whose Dutch or English label holds it ("aanbieden", "refused",
    "migratieverzoek", "portaal")."""
    return [
        AuditSearchWord(
            text,
            actions=frozenset(a for a in AuditAction if _names(text, a.label_nl, a.label_en)),
            outcomes=frozenset(o for o in AuditOutcome if _names(text, o.label_nl, o.label_en)),
            subject_types=frozenset(
                k for k, labels in SUBJECT_KINDS.items() if _names(text, *labels)
            ),
            channels=frozenset(c for c, labels in CHANNELS.items() if _names(text, *labels)),
        )
        for text in term.casefold().split()
    ]


def _names(word: str, *labels: str) -> bool:
    return any(word in label.casefold() for label in labels)


@audited(AuditAction.OPEN)
def audit_trail(
    deps: Dependencies,
    *,
    actor_id: int,
    search: str | None = None,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """The actor's environment's trail, newest first, filtered by a search over every
    column (each word anywhere, ignoring case): for super users only (R1)."""
    term = clean_search(search)
    if not 1 <= limit <= PAGE_SIZE:
        raise InvalidInput("page_size_invalid", limit=PAGE_SIZE)
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        events = tuple(
            uow.audit.search(
                actor.environment_id, _words(term), limit=limit + 1, before_id=before_id
            )
        )
    if len(events) > limit:
        return AuditPage(events[:limit], events[limit - 1].id)
    return AuditPage(events, None)
