"""The packages' own answers, as their published sources show them: one JSON file per answer
under ``fixtures/<package>/``.

A file holds the answer (``status``, ``headers``, and ``json`` or ``body`` with its
``content_type``) and says where it comes from:

- ``source``: the published sources of its shape (repository@commit and path, or a page's
  address), each with what it shows;
- ``shape``: how the answer was put together from them (trimmed, values that are examples);
- ``assumed``: the part no published example shows, and why it is taken as it is. Every
  fixture with an ``assumed`` part is listed in docs/connectors.md ("What is unconfirmed");
- ``message``: the package's own message in the answer, when it has one, so a test can put
  another in its place.

Names, numbers and tokens are examples unless a note says otherwise; the field names, the
nesting, the status and the header names are the package's.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).parent / "fixtures"


@functools.cache
def _read(package: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / package / f"{name}.json").read_text("utf-8"))
    return data


def fixture(package: str, name: str) -> dict[str, Any]:
    """The whole fixture file, a copy the caller may change."""
    return copy.deepcopy(_read(package, name))


def document(package: str, name: str) -> Any:
    """The answer's JSON body, a copy the caller may change."""
    return fixture(package, name)["json"]


def answer(
    package: str,
    name: str,
    *,
    headers: dict[str, str] | None = None,
    message: str | None = None,
    json_body: Any = None,
) -> dict[str, Any]:
    """The keyword arguments of ``responses.add`` for the answer: its status, headers and
    body. ``headers`` are added to the answer's, ``message`` takes the place of the answer's
    own message, ``json_body`` the place of its JSON body (built from ``document``)."""
    found = fixture(package, name)
    if json_body is not None:
        found["json"] = json_body
    if "json" in found:
        body = json.dumps(found["json"])
        content_type = "application/json; charset=utf-8"
    else:
        body = found.get("body", "")
        content_type = found.get("content_type", "text/plain")
    if message is not None:
        # The message as it stands in the body: escaped for JSON, or for XML.
        quote = (lambda text: json.dumps(text)[1:-1]) if "json" in found else escape
        original = quote(found["message"])
        assert original in body, f"{package}/{name}: its message is not in its body"
        body = body.replace(original, quote(message))
    return {
        "status": found["status"],
        "headers": {**found.get("headers", {}), **(headers or {})},
        "body": body,
        "content_type": content_type,
    }


def all_fixtures() -> list[tuple[str, str]]:
    """(package, name) of every fixture file."""
    return sorted((path.parent.name, path.stem) for path in FIXTURES.glob("*/*.json"))
