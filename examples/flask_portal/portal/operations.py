"""What an operator's tools read, with no sign-in and no office data: ``/healthz`` (the
process lives), ``/readyz`` (it can serve: ``migrationkit.health``) and ``/metrics``
(Prometheus, with the ``metrics`` extra). And a request id on every request: the
``X-Request-ID`` header when it is sane, else a new one, on every log line of the request
and in the jobs it enqueues, and returned in the response."""

from __future__ import annotations

import re
import uuid

import structlog
from flask import Blueprint, Flask, Response, g, jsonify, request

from migrationkit.health import readiness
from portal.runtime import runtime

bp = Blueprint("operations", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
#: A request id taken from the client: letters, digits and ``-._:``, at most 128 of them.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def init_app(app: Flask) -> None:
    """Gives every request of ``app`` its id; call it before any other ``before_request``."""

    @app.before_request
    def bind_request_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def return_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def unbind_request_id(_: BaseException | None) -> None:
        structlog.contextvars.unbind_contextvars("request_id")

    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    found = readiness(runtime())
    return jsonify(found.as_json()), 200 if found.ready else 503


@bp.get("/metrics")
def metrics() -> Response | tuple[str, int]:
    try:
        from migrationkit.adapters.metrics import CONTENT_TYPE_LATEST, scrape
    except ImportError:  # without the ``metrics`` extra
        return "prometheus-client is not installed (the metrics extra)\n", 404
    return Response(scrape(runtime().metrics_collector()), content_type=CONTENT_TYPE_LATEST)
