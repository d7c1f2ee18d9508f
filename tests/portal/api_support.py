"""What the API tests share: a client that calls /api/v1 with a user's token and checks every
answer against the OpenAPI document (its status documented for the operation, its media
type, its body valid against the schema), tokens, and a dump that shows a refusal changed
nothing. Test modules import the fixtures from here (tests/security may too)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import Scene
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.adapters.sqlalchemy import metadata

PREFIX = "/api/v1"
#: The methods Flask answers by itself on every route.
AUTOMATIC = frozenset({"HEAD", "OPTIONS"})


def openapi_document(app: Flask) -> dict[str, Any]:
    # Imported here: the portal is importable once portal_support has put it on the path.
    from portal.api.openapi import document

    with app.app_context():
        return document()


def operation_of(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The documented operation that answers ``method path``, if any."""
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            found: dict[str, Any] | None = operations.get(method.lower())
            return found
    return None


def _resolved(document: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    reference = answer.get("$ref")
    if reference is None:
        return answer
    found: dict[str, Any] = document["components"]["responses"][reference.rsplit("/", 1)[1]]
    return found


def validate(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """Validates ``value`` against a schema of the document (JSON Schema 2020-12, formats
    checked), resolving its references inside the document."""
    jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    ).validate(value)


def conforms(document: dict[str, Any], method: str, path: str, response: TestResponse) -> None:
    """Asserts that the answer is one the document promises for ``method path``."""
    status = response.status_code
    operation = None if method in AUTOMATIC else operation_of(document, method, path)
    if operation is None:
        # No such operation: only an unknown path or method, answered as a problem.
        assert status in (404, 405) or method in AUTOMATIC, f"{method} {path}: {status}"
        if method in AUTOMATIC:
            return
        media = "application/problem+json"
        schema: dict[str, Any] = {"$ref": "#/components/schemas/Problem"}
    else:
        answers = operation["responses"]
        assert str(status) in answers, f"{method} {path} answered an undocumented {status}"
        content = _resolved(document, answers[str(status)]).get("content")
        if content is None:
            assert not response.data
            return
        ((media, described),) = content.items()
        schema = described["schema"]
    assert response.mimetype == media, f"{method} {path}: {response.mimetype}"
    assert response.headers["Content-Language"] in ("nl", "en")
    validate(document, schema, response.get_json(force=True))


class Api:
    """A client of /api/v1 as one token (or none), checking each answer against the
    document."""

    def __init__(self, app: Flask, token: str | None, *, client: FlaskClient | None = None) -> None:
        self.app = app
        self.token = token
        self.client = client or app.test_client()
        self.document = openapi_document(app)

    def call(
        self,
        method: str,
        path: str,
        *,
        language: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if language is not None:
            sent["Accept-Language"] = language
        url = path if path.startswith("/") else f"{PREFIX}/{path}"
        response = self.client.open(url, method=method, headers=sent, **kwargs)
        conforms(self.document, method, url.split("?", 1)[0], response)
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, **kwargs)


def token_for(scene: Scene, email: str) -> str:
    """A new API token of the demo user with this address."""
    issued = services.create_api_token(scene.deps, actor_id=scene.user(email), name="tests")
    return issued.secret


@pytest.fixture
def api_as(app: Flask, scene: Scene) -> Callable[[str], Api]:
    """An API client with a new token of the demo user with this address."""
    return lambda email: Api(app, token_for(scene, email))


#: Where each use of a token leaves its mark; not a change a refusal made.
_LAST_USED = list(metadata.tables["api_tokens"].columns.keys()).index("last_used_at")


@pytest.fixture
def unchanged_dump(
    database_dump: Callable[[], dict[str, list[tuple[Any, ...]]]],
) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """The database dump (all but the audit trail), without the moment each token was
    last used: what a refused call must leave as it was."""

    def dump() -> dict[str, list[tuple[Any, ...]]]:
        tables = database_dump()
        tables["api_tokens"] = [
            (*row[:_LAST_USED], None, *row[_LAST_USED + 1 :]) for row in tables["api_tokens"]
        ]
        return tables

    return dump
