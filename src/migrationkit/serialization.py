"""The one cattrs converter: domain values to JSON and back, for jobs, the API and the outbox.

Built on ``cattrs.preconf.json`` with ``forbid_extra_keys``: a stored or received document
with a field the model does not know is refused, not silently dropped. Datetimes travel as
ISO 8601 strings with their offset; enums as their value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter, make_converter

from migrationkit.domain.dates import utc

T = TypeVar("T")

converter: JsonConverter = make_converter(forbid_extra_keys=True)
converter.register_unstructure_hook(datetime, lambda moment: utc(moment).isoformat())
converter.register_structure_hook(datetime, lambda value, _: utc(datetime.fromisoformat(value)))


def to_json(value: object) -> str:
    """The JSON text of a domain value."""
    return converter.dumps(value)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """A domain value of type ``cls`` from JSON text; raises on unknown or missing fields."""
    return converter.loads(text, cls)


def to_plain(value: object) -> Any:
    """The value as plain dicts, lists, strings and numbers (for a JSON response)."""
    return converter.unstructure(value)
