"""What the API reads: JSON bodies into attrs classes, and query parameters, strictly.

The bodies go through the API's own cattrs converter, a copy of the library's (which already
refuses unknown keys) with hooks that refuse what Python would quietly convert: ``"5"`` or
``5.0`` or ``true`` for an id, a string for a list, ``1`` for a boolean. Any refusal is
``request_invalid`` (422) naming the field, such as ``targets[0].item_id``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs
from cattrs.cols import is_sequence, list_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn
from cattrs.preconf.json import JsonConverter
from flask import request
from flask_babel import lazy_gettext as _l

from migrationkit import serialization
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import MAX_ID
from portal.api.problems import WHOLE, ApiRefusal, Reason
from portal.security import FORM_MAX_BYTES

T = TypeVar("T")

#: The largest JSON body the API reads (the most any request but an upload may weigh); its
#: bodies are a few ids and addresses.
MAX_BODY = FORM_MAX_BYTES
#: The longest string a body may hold (the library bounds each field more tightly).
MAX_TEXT = 2000

MISSING = Reason(_l("ontbreekt"))
UNKNOWN = Reason(_l("is geen veld van dit verzoek"))
NOT_JSON = Reason(_l("is geen geldige JSON"))
NOT_OBJECT = Reason(_l("moet een JSON-object zijn"))
NOT_LIST = Reason(_l("moet een lijst zijn"))
NOT_ID = Reason(_l("moet een geheel getal van 1 tot 2147483647 zijn"))
NOT_TEXT = Reason(_l("moet tekst zijn"))
NOT_BOOLEAN = Reason(_l("moet true of false zijn"))
BAD_CHARACTER = Reason(_l("bevat een teken dat niet mag"))
TOO_LONG = Reason(_l("is te lang (hoogstens 2000 tekens)"))


class Refused(ValueError):
    """A value the strict hooks refuse, with what is wrong with it."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(str(reason.text))
        self.reason = reason


# --- the bodies ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Empty:
    """The body of an action that takes none: nothing, or ``{}``."""


@attrs.frozen(kw_only=True)
class Relink:
    connection_id: int
    package_admin_id: str


@attrs.frozen(kw_only=True)
class Access:
    granted: bool


@attrs.frozen(kw_only=True)
class OfferCheck:
    connection_id: int
    administration_ids: list[int]


@attrs.frozen(kw_only=True)
class Offer:
    connection_id: int
    administration_ids: list[int]
    recipients: list[str]
    accept_terms: bool


@attrs.frozen(kw_only=True)
class Redemption:
    code: str
    accept_terms: bool
    accept_costs: bool


@attrs.frozen(kw_only=True)
class Rejection:
    """``item_ids`` left out: the whole request."""

    item_ids: list[int] | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class Target:
    item_id: int
    connection_id: int
    package_admin_id: str


@attrs.frozen(kw_only=True)
class Start:
    targets: list[Target]


# --- the strict converter --------------------------------------------------------------------


def _id(value: object, _: object) -> int:
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise Refused(NOT_ID)
    return value


def _text(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise Refused(NOT_TEXT)
    if len(value) > MAX_TEXT:
        raise Refused(TOO_LONG)
    if not plain_text(value):
        raise Refused(BAD_CHARACTER)
    return value


def _boolean(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise Refused(NOT_BOOLEAN)
    return value


def _lists(kind: Any, converter: Any) -> Callable[[object, object], list[Any]]:
    structure = list_structure_factory(kind, converter)

    def hook(value: object, given: object) -> list[Any]:
        if not isinstance(value, list):
            raise Refused(NOT_LIST)
        return structure(value, given)

    return hook


def _objects(cls: Any, converter: Any) -> Callable[[object, object], Any]:
    structure = make_dict_structure_fn(cls, converter)

    def hook(value: object, given: object) -> Any:
        if not isinstance(value, dict):
            raise Refused(NOT_OBJECT)
        return structure(value, given)

    return hook


def _strict() -> JsonConverter:
    strict = serialization.converter.copy()
    strict.register_structure_hook(int, _id)
    strict.register_structure_hook(str, _text)
    strict.register_structure_hook(bool, _boolean)
    strict.register_structure_hook_factory(is_sequence, _lists)
    strict.register_structure_hook_factory(attrs.has, _objects)
    return strict


converter = _strict()


def plain_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8)."""
    return "\x00" not in value and not any("\ud800" <= char <= "\udfff" for char in value)


# --- reading a request -----------------------------------------------------------------------


def body(cls: type[T]) -> T:
    """The request's JSON body as ``cls``. Refuses another Content-Type (415), a body too
    large (413), and anything but exactly the fields of ``cls`` with their types (422)."""
    if not request.is_json:
        raise ApiRefusal(415, "request_not_json")
    if (request.content_length or 0) > MAX_BODY:
        raise ApiRefusal(413, "request_too_large", limit=MAX_BODY)
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY:
        raise ApiRefusal(413, "request_too_large", limit=MAX_BODY)
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise InvalidInput("request_invalid", field=WHOLE, reason=NOT_JSON) from None
    try:
        return converter.structure(value, cls)
    except Exception as error:
        field, reason = next(_problems(error, ""), (WHOLE, NOT_OBJECT))
        raise InvalidInput("request_invalid", field=field or WHOLE, reason=reason) from None


def no_body() -> None:
    """An action without fields: no body at all, or an empty JSON object."""
    if request.content_length or request.get_data(cache=True):
        body(Empty)


def _problems(error: BaseException, path: str) -> Iterator[tuple[str, Reason]]:
    """Each refused field of a cattrs error, with what is wrong with it."""
    if isinstance(error, ForbiddenExtraKeysError):
        for name in sorted(error.extra_fields):
            yield _join(path, name), UNKNOWN
    elif isinstance(error, ClassValidationError):
        named, unnamed = error.group_exceptions()
        for inner, note in named:
            yield from _problems(inner, _join(path, note.name))
        for inner in unnamed:
            yield from _problems(inner, path)
    elif isinstance(error, IterableValidationError):
        indexed, unindexed = error.group_exceptions()
        for inner, index_note in indexed:
            yield from _problems(inner, f"{path}[{index_note.index}]")
        for inner in unindexed:
            yield from _problems(inner, path)
    elif isinstance(error, Refused):
        yield path, error.reason
    elif isinstance(error, KeyError):
        yield path, MISSING
    else:
        yield path, NOT_OBJECT


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def query_number(name: str, *, low: int, high: int) -> int | None:
    """An integer query parameter from ``low`` to ``high``; ``None`` when it is absent."""
    given = request.args.get(name)
    if given is None:
        return None
    if not (given.isascii() and given.isdigit() and len(given) <= 10 and low <= int(given) <= high):
        reason = Reason(
            _l("moet een geheel getal van %(low)s tot %(high)s zijn", low=low, high=high)
        )
        raise InvalidInput("request_invalid", field=name, reason=reason)
    return int(given)


def query_text(name: str) -> str | None:
    given = request.args.get(name)
    if given is not None and not plain_text(given):
        raise InvalidInput("request_invalid", field=name, reason=BAD_CHARACTER)
    return given


def query_choice(name: str, choices: tuple[str, ...]) -> str:
    """A query parameter that is one of ``choices``; the first when it is absent."""
    given = request.args.get(name)
    if given is None:
        return choices[0]
    if given not in choices:
        reason = Reason(_l("moet een van %(choices)s zijn", choices=", ".join(choices)))
        raise InvalidInput("request_invalid", field=name, reason=reason)
    return given
