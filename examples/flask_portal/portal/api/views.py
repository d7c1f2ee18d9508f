"""The endpoints of /api/v1: each reads its input strictly, calls one use case (R1 and every
other rule are the library's) and answers with a plain shape of the result.

Authentication is a personal API token in ``Authorization: Bearer``; the session cookie
counts for nothing here, so no other site can make a browser call the API (no CSRF).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.adapters.signing import encode
from migrationkit.domain.errors import MigrationError, NotAllowed
from migrationkit.domain.model import MAX_ID
from migrationkit.domain.overviews import PAGE_SIZE as MAX_ROWS
from migrationkit.services.archive import MAX_PAGE as MAX_DOCUMENTS
from migrationkit.services.audit import PAGE_SIZE as MAX_EVENTS
from portal.api import bodies, shapes
from portal.api.openapi import document as openapi_document
from portal.api.problems import (
    TOKEN_INVALID,
    ApiRefusal,
    http_problem,
    language,
    problem,
)
from portal.reports import MANIFEST_FORMS, manifest_file, offer_report_file, report_file, signer
from portal.runtime import deps, is_api_request

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: Ids in paths: 32-bit, as in the database; anything else is an unknown path.
ID = "int(min=1)"
#: The endpoints that take no token.
PUBLIC = frozenset({"api.openapi", "api.report_key"})
#: A code appears in an answer once: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )
    response.headers.update(headers or {})
    return response


# --- every request ---------------------------------------------------------------------------


@bp.before_app_request
def refuse_unknown_api_paths() -> Response | None:
    """An unknown path or a method a path does not take, under /api/: problem+json too.
    (Flask finds no blueprint for a request that matched no route.)"""
    error = request.routing_exception
    if is_api_request() and isinstance(error, HTTPException) and (error.code or 500) >= 400:
        return http_problem(error)
    return None


@bp.before_request
def authenticate() -> None:
    """Counts the call against the rate limits of its client address and its token (429
    beyond them); then the token's user goes in ``g.user``; without a valid token nothing
    else runs. The counts are in the database, so they hold across every worker process
    and machine."""
    g.user = None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    token = given.strip() if scheme.lower() == "bearer" else ""
    services.count_api_call(deps(), address=request.remote_addr, token=token or None)
    if request.endpoint in PUBLIC:
        return
    if not token:
        raise NotAllowed(TOKEN_INVALID)
    g.user = services.authenticate_api_token(deps(), token=token)


@bp.after_request
def every_answer(response: Response) -> Response:
    response.headers.setdefault("Content-Language", language())
    response.vary.add("Accept-Language")
    response.vary.add("Authorization")
    return response


@bp.errorhandler(MigrationError)
def refused(error: MigrationError) -> Response:
    return problem(error)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return http_problem(error)


@bp.errorhandler(Exception)
def crashed(error: Exception) -> Response:
    """An unexpected error: logged in full, answered without any of it."""
    current_app.logger.exception("API request %s %s failed", request.method, request.path)
    return problem(ApiRefusal(500, "server_error"))


# --- the document and the user ---------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return answer(openapi_document())


@bp.get("/me")
def me() -> Response:
    return answer(shapes.user(g.user))


# --- administrations -------------------------------------------------------------------------


@bp.get("/administrations")
def administrations() -> Response:
    rows = services.list_administrations(deps(), actor_id=g.user.id)
    return answer([shapes.administration_row(row, language()) for row in rows])


@bp.get(f"/administrations/<{ID}:administration_id>/documents")
def documents(administration_id: int) -> Response:
    after = bodies.query_number("after", low=0, high=MAX_ID) or 0
    limit = bodies.query_number("limit", low=1, high=MAX_DOCUMENTS) or 100
    page = services.list_documents(
        deps(), actor_id=g.user.id, administration_id=administration_id, after_id=after, limit=limit
    )
    return answer(shapes.documents(page, limit))


@bp.post(f"/administrations/<{ID}:administration_id>/relink")
def relink(administration_id: int) -> Response:
    given = bodies.body(bodies.Relink)
    relinked = services.relink_administration(
        deps(),
        actor_id=g.user.id,
        administration_id=administration_id,
        connection_id=given.connection_id,
        package_admin_id=given.package_admin_id,
    )
    return answer(shapes.administration(relinked))


@bp.get(f"/administrations/<{ID}:administration_id>/access")
def access(administration_id: int) -> Response:
    rows = services.list_access(deps(), actor_id=g.user.id, administration_id=administration_id)
    return answer([shapes.access(row) for row in rows])


@bp.put(f"/administrations/<{ID}:administration_id>/access/<{ID}:user_id>")
def set_access(administration_id: int, user_id: int) -> Response:
    given = bodies.body(bodies.Access)
    grant = services.set_access(
        deps(),
        actor_id=g.user.id,
        administration_id=administration_id,
        user_id=user_id,
        granted=given.granted,
    )
    return answer(shapes.access_grant(grant))


# --- connections -----------------------------------------------------------------------------


@bp.get("/connections")
def connections() -> Response:
    rows = services.list_connections(deps(), actor_id=g.user.id)
    return answer([shapes.connection_row(row) for row in rows])


@bp.get(f"/connections/<{ID}:connection_id>/package-administrations")
def package_administrations(connection_id: int) -> Response:
    found = services.available_package_administrations(
        deps(), actor_id=g.user.id, connection_id=connection_id
    )
    return answer([shapes.package_administration(each) for each in found])


@bp.get(f"/connections/<{ID}:connection_id>/offerable-administrations")
def offerable_administrations(connection_id: int) -> Response:
    found = services.offerable_administrations(
        deps(), actor_id=g.user.id, connection_id=connection_id
    )
    return answer([shapes.administration(each) for each in found])


# --- the sender ------------------------------------------------------------------------------


@bp.post("/offers/preflight")
def offer_preflight() -> Response:
    given = bodies.body(bodies.OfferCheck)
    report = services.preflight_offer(
        deps(),
        actor_id=g.user.id,
        connection_id=given.connection_id,
        administration_ids=given.administration_ids,
    )
    return answer(shapes.offer_preflight(report, language()))


@bp.post("/offers")
def offer() -> Response:
    given = bodies.body(bodies.Offer)
    receipt = services.offer_administrations(
        deps(),
        actor_id=g.user.id,
        connection_id=given.connection_id,
        administration_ids=given.administration_ids,
        recipients=given.recipients,
        accepted_terms=given.accept_terms,
    )
    return answer(shapes.receipt(receipt, language()), 201, NO_STORE)


@bp.get("/offers/outgoing")
def outgoing() -> Response:
    page = services.outgoing_overview(
        deps(),
        actor_id=g.user.id,
        search=bodies.query_text("search"),
        cursor=bodies.query_text("cursor"),
        limit=bodies.query_number("limit", low=1, high=MAX_ROWS) or MAX_ROWS,
    )
    return answer(shapes.overview_page(page, shapes.outgoing_row, language()))


@bp.post(f"/offer-items/<{ID}:item_id>/withdraw")
def withdraw(item_id: int) -> Response:
    bodies.no_body()
    item = services.withdraw_item(deps(), actor_id=g.user.id, item_id=item_id)
    return answer(shapes.item(item, language()))


@bp.post(f"/offers/<{ID}:offer_id>/resend")
def resend(offer_id: int) -> Response:
    bodies.no_body()
    receipt = services.resend_code(deps(), actor_id=g.user.id, offer_id=offer_id)
    return answer(shapes.receipt(receipt, language()), 200, NO_STORE)


# --- the recipient ---------------------------------------------------------------------------


@bp.post("/redemptions")
def redeem() -> Response:
    given = bodies.body(bodies.Redemption)
    redeemed = services.redeem_code(
        deps(),
        actor_id=g.user.id,
        code=given.code,
        accepted_terms=given.accept_terms,
        accepted_costs=given.accept_costs,
    )
    return answer(shapes.redeemed(redeemed, language()))


@bp.get("/offers/incoming")
def incoming() -> Response:
    page = services.incoming_overview(
        deps(),
        actor_id=g.user.id,
        search=bodies.query_text("search"),
        cursor=bodies.query_text("cursor"),
        limit=bodies.query_number("limit", low=1, high=MAX_ROWS) or MAX_ROWS,
    )
    return answer(shapes.overview_page(page, shapes.incoming_row, language()))


@bp.get(f"/offers/<{ID}:offer_id>")
def redeemed_offer(offer_id: int) -> Response:
    redeemed = services.redeemed_offer(deps(), actor_id=g.user.id, offer_id=offer_id)
    return answer(shapes.redeemed(redeemed, language()))


@bp.post(f"/offers/<{ID}:offer_id>/reject")
def reject(offer_id: int) -> Response:
    given = bodies.body(bodies.Rejection)
    rejected = services.reject_items(
        deps(), actor_id=g.user.id, offer_id=offer_id, item_ids=given.item_ids, reason=given.reason
    )
    return answer(shapes.items(rejected, language()))


def _choices(given: bodies.Start) -> list[services.TargetChoice]:
    return [
        services.TargetChoice(
            item_id=target.item_id,
            connection_id=target.connection_id,
            package_admin_id=target.package_admin_id,
        )
        for target in given.targets
    ]


@bp.post(f"/offers/<{ID}:offer_id>/start/preflight")
def start_preflight(offer_id: int) -> Response:
    given = bodies.body(bodies.Start)
    report = services.preflight_start(
        deps(), actor_id=g.user.id, offer_id=offer_id, choices=_choices(given)
    )
    return answer(shapes.start_preflight(report, language()))


@bp.post(f"/offers/<{ID}:offer_id>/start")
def start(offer_id: int) -> Response:
    given = bodies.body(bodies.Start)
    started = services.start_migrations(
        deps(), actor_id=g.user.id, offer_id=offer_id, choices=_choices(given)
    )
    return answer({"migrations": [shapes.migration(each) for each in started]}, 201)


@bp.get(f"/migrations/<{ID}:migration_id>")
def migration(migration_id: int) -> Response:
    progress = services.migration_progress(deps(), actor_id=g.user.id, migration_id=migration_id)
    return answer(shapes.progress(progress, language()))


@bp.post(f"/migrations/<{ID}:migration_id>/retry")
def retry(migration_id: int) -> Response:
    bodies.no_body()
    services.retry_migration(deps(), actor_id=g.user.id, migration_id=migration_id)
    progress = services.migration_progress(deps(), actor_id=g.user.id, migration_id=migration_id)
    return answer(shapes.progress(progress, language()))


# --- the Migratieverslag ---------------------------------------------------------------------


@bp.get(f"/migrations/<{ID}:migration_id>/report")
def migration_report(migration_id: int) -> Response:
    """The Migratieverslag as a PDF, in the language of Accept-Language."""
    return report_file(migration_id, language())


@bp.get(f"/migrations/<{ID}:migration_id>/manifest")
def migration_manifest(migration_id: int) -> Response:
    """The manifest as JSON Lines (``?format=jsonl``, the default) or CSV, streamed."""
    return manifest_file(migration_id, bodies.query_choice("format", tuple(MANIFEST_FORMS)))


@bp.get(f"/offers/<{ID}:offer_id>/report")
def offer_report(offer_id: int) -> Response:
    """The summary Migratieverslag of every migration of an offer, as a PDF."""
    return offer_report_file(offer_id, language())


@bp.get("/report-key")
def report_key() -> Response:
    """The server's public key that signs every Migratieverslag; no token needed."""
    key = signer()
    return answer(
        {"algorithm": "Ed25519", "public_key": encode(key.public_key), "pem": key.public_key_pem}
    )


# --- the audit trail -------------------------------------------------------------------------


@bp.get("/audit")
def audit() -> Response:
    page = services.audit_trail(
        deps(),
        actor_id=g.user.id,
        search=bodies.query_text("search"),
        before_id=bodies.query_number("before", low=1, high=MAX_ID),
        limit=bodies.query_number("limit", low=1, high=MAX_EVENTS) or MAX_EVENTS,
    )
    return answer(shapes.audit_page(page, language()))
