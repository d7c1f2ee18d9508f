"""What the security tests share besides the portal's fixtures."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from served import csrf_token as page_csrf_token

T = TypeVar("T")


def get_paths(app: Flask) -> list[str]:
    """A path for every GET route of the app, its arguments filled with 1 (an id of the
    demo, or a name of nothing)."""
    paths = []
    rule: Rule
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()):
                continue
            values = dict.fromkeys(rule.arguments, 1)
            if rule.endpoint == "static":
                values = {"filename": "portal.css"}
            paths.append(url_for(rule.endpoint, **values))
    return paths


@contextlib.contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` answering real HTTP requests on a free port of 127.0.0.1, a thread per
    request (as a threaded server in production); its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="served portal", daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        serving.join()
        server.server_close()


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Runs every call in a thread of its own, released together, and returns their
    results in order: a burst of requests that arrive at the same moment."""
    start = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(released, calls))


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token, as any page's forms carry it (read once: it holds for the
    session)."""
    token: str | None = getattr(client, "csrf_token", None)
    if token is None:
        token = page_csrf_token(client.get("/inloggen").text)
        client.csrf_token = token  # type: ignore[attr-defined]
    return token
