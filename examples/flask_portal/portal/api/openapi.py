"""The OpenAPI 3.1 document of /api/v1, written as a Python structure.

Tests keep it true: every route of the blueprint is here with its methods and every path
here is a route; every answer the tests receive validates against the schema of its status.
Objects are closed (``additionalProperties: false``), in requests and in answers alike.
"""

from __future__ import annotations

import functools
from typing import Any

from migrationkit.domain.audit import AuditAction, AuditOutcome
from migrationkit.domain.model import MAX_ID, AccountingPackage, ItemStatus, Role
from migrationkit.domain.overviews import MAX_CURSOR
from migrationkit.domain.overviews import PAGE_SIZE as MAX_ROWS
from migrationkit.services.archive import MAX_PAGE as MAX_DOCUMENTS
from migrationkit.services.audit import PAGE_SIZE as MAX_EVENTS
from migrationkit.services.preflight import Verdict
from portal.api.bodies import MAX_TEXT

Json = dict[str, Any]
PREFIX = "/api/v1"

TITLES = {
    "200": "OK",
    "201": "Created",
    "401": "No valid API token (api_token_invalid)",
    "403": "Not allowed for the token's user "
    "(not_super_user, no_access, access_not_granted_after_move)",
    "404": "Unknown, or another environment's (they answer alike)",
    "409": "A rule of the product refuses it",
    "413": "The body is too large (request_too_large)",
    "415": "The body is not JSON (request_not_json)",
    "422": "Malformed input (request_invalid) or input a rule refuses",
    "429": (
        "Too many calls of this token or address (api_rate_limited), or too many wrong "
        "transfer codes (redeem_locked); see Retry-After"
    ),
    "500": "An unexpected error; nothing of it is shown (server_error)",
    "502": "The accounting package failed or refused",
    "503": (
        "Busy or away for a moment, nothing changed: try again (database_busy,"
        " database_unavailable, archive_unavailable, and the accounting package's limit:"
        " package_busy, package_rate_limited, package_rate_limited_until); see Retry-After"
    ),
}


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: Json, *, optional: tuple[str, ...] = ()) -> Json:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def nullable(schema: Json) -> Json:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Json, **more: Any) -> Json:
    return {"type": "array", "items": items, **more}


ID: Json = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT: Json = {"type": "string"}
INPUT_TEXT: Json = {"type": "string", "maxLength": MAX_TEXT}
MOMENT: Json = {"type": "string", "format": "date-time"}
BOOLEAN: Json = {"type": "boolean"}
COUNT: Json = {"type": "integer", "minimum": 0}
STATUS: Json = {"type": "string", "enum": [status.value for status in ItemStatus]}
PACKAGE: Json = {"type": "string", "enum": [package.value for package in AccountingPackage]}


def _status() -> Json:
    return {"status": STATUS, "status_label": TEXT}


def _connection() -> Json:
    return {"id": ID, "name": TEXT, "package": PACKAGE, "package_label": TEXT}


def _administration() -> Json:
    return {
        "id": ID,
        "code": TEXT,
        "name": TEXT,
        "email": TEXT,
        "package": PACKAGE,
        "connection_id": ID,
        "package_admin_id": TEXT,
    }


def _item() -> Json:
    return {
        "id": ID,
        "offer_id": ID,
        "administration_id": ID,
        "code": TEXT,
        "name": TEXT,
        "email": TEXT,
        **_status(),
        "status_changed_at": MOMENT,
        "rejection_reason": nullable(TEXT),
    }


def _migration() -> Json:
    return {
        "id": ID,
        "item_id": ID,
        "administration_id": ID,
        "target_environment_id": ID,
        "target": ref("MigrationTarget"),
    }


def _check() -> Json:
    return closed(
        {
            "rule": {"type": "string", "examples": ["R4", "checklist"]},
            "title": TEXT,
            "verdict": {"type": "string", "enum": [verdict.value for verdict in Verdict]},
            "verdict_label": TEXT,
            "code": nullable(TEXT),
            "explanation": nullable(TEXT),
        }
    )


def schemas() -> Json:
    """Every body and answer, and the problem."""
    return {
        "Problem": {
            **closed(
                {
                    "type": {"type": "string", "pattern": "^urn:migrationkit:problem:[a-z_]+$"},
                    "title": TEXT,
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "detail": TEXT,
                    "code": {"type": "string", "pattern": "^[a-z_]+$"},
                }
            ),
            "examples": [
                {
                    "type": "urn:migrationkit:problem:not_super_user",
                    "title": "Niet toegestaan",
                    "status": 403,
                    "detail": "Alleen een supergebruiker van deze omgeving mag dit doen.",
                    "code": "not_super_user",
                }
            ],
        },
        "User": closed(
            {
                "id": ID,
                "email": TEXT,
                "name": TEXT,
                "role": {"type": "string", "enum": [role.value for role in Role]},
                "environment_id": ID,
            }
        ),
        "Connection": closed(
            {
                **_connection(),
                "configured": BOOLEAN,
                "needs_authorization": BOOLEAN,
                "authorized": BOOLEAN,
                "can_rewrite_links": BOOLEAN,
            }
        ),
        "ConnectionSummary": closed(_connection()),
        "Administration": closed(_administration()),
        "AdministrationRow": closed(
            {
                **_administration(),
                "connection": ref("ConnectionSummary"),
                "offer_status": nullable(STATUS),
                "offer_status_label": nullable(TEXT),
                "moving": BOOLEAN,
            }
        ),
        "PackageAdministration": closed({"package_admin_id": TEXT, "code": TEXT, "name": TEXT}),
        "Document": closed(
            {
                "id": ID,
                "address": TEXT,
                "filename": TEXT,
                "content_type": TEXT,
                "size": COUNT,
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "received_at": MOMENT,
            }
        ),
        "DocumentPage": closed({"documents": array(ref("Document")), "next_after": nullable(ID)}),
        "UserAccess": closed({"user": ref("User"), "granted": BOOLEAN}),
        "AccessGrant": closed({"administration_id": ID, "user_id": ID, "granted": BOOLEAN}),
        "Offer": closed(
            {
                "id": ID,
                "package": PACKAGE,
                "package_label": TEXT,
                "source_connection_id": ID,
                "sender_email": TEXT,
                "recipients": array(TEXT),
                "masked_code": TEXT,
                "created_at": MOMENT,
                "expires_at": MOMENT,
                "redeemed_at": nullable(MOMENT),
            }
        ),
        "OfferItem": closed(_item()),
        "Items": closed({"items": array(ref("OfferItem"))}),
        "OfferReceipt": {
            **closed(
                {
                    "offer": ref("Offer"),
                    "items": array(ref("OfferItem")),
                    "code": {"type": "string", "pattern": "^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$"},
                }
            ),
            "description": "The only answer that holds the transfer code in full; "
            "sent with Cache-Control: no-store.",
        },
        "OutgoingRow": closed(
            {
                "item_id": ID,
                "offer_id": ID,
                "offered_at": MOMENT,
                "administration_code": TEXT,
                "administration_name": TEXT,
                "administration_email": TEXT,
                "recipients": array(TEXT),
                "expires_at": MOMENT,
                "masked_code": TEXT,
                **_status(),
                "rejection_reason": nullable(TEXT),
                "can_withdraw": BOOLEAN,
            }
        ),
        "IncomingRow": closed(
            {
                "item_id": ID,
                "offer_id": ID,
                "offered_at": MOMENT,
                "administration_code": TEXT,
                "administration_name": TEXT,
                "package": PACKAGE,
                "package_label": TEXT,
                "source_environment_name": TEXT,
                **_status(),
                "migration_id": nullable(ID),
                "rejection_reason": nullable(TEXT),
                "can_retry": BOOLEAN,
            }
        ),
        "RedeemedOffer": closed(
            {
                "offer": ref("Offer"),
                "items": array(ref("OfferItem")),
                "source_environment_name": TEXT,
            }
        ),
        "MigrationTarget": closed(
            {"connection_id": ID, "package_admin_id": TEXT, "code": TEXT, "name": TEXT}
        ),
        "Migration": closed(_migration()),
        "Migrations": closed({"migrations": array(ref("Migration"))}),
        "ReportKey": closed(
            {
                "algorithm": {"type": "string", "const": "Ed25519"},
                "public_key": {
                    "type": "string",
                    "description": "The 32 raw bytes of the key, base64",
                },
                "pem": {"type": "string", "description": "The key as PEM (SubjectPublicKeyInfo)"},
            }
        ),
        "Progress": closed(
            {
                **_migration(),
                "administration_name": TEXT,
                **_status(),
                "documents_done": COUNT,
                "documents_total": COUNT,
                "bytes_done": COUNT,
                "bytes_total": COUNT,
                "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                "attempts": COUNT,
                "started_at": nullable(MOMENT),
                "finished_at": nullable(MOMENT),
                "failure_code": nullable(TEXT),
                "failure": nullable(TEXT),
            }
        ),
        "AuditEvent": closed(
            {
                "id": ID,
                "at": MOMENT,
                "action": {"type": "string", "enum": [action.value for action in AuditAction]},
                "action_label": TEXT,
                "outcome": {"type": "string", "enum": [o.value for o in AuditOutcome]},
                "outcome_label": TEXT,
                "channel": TEXT,
                "address": nullable(TEXT),
                "actor_user_id": nullable(ID),
                "actor_email": nullable(TEXT),
                "subject_type": nullable(TEXT),
                "subject_id": nullable(ID),
                "error_code": nullable(TEXT),
                "message": nullable(TEXT),
            }
        ),
        **{
            f"{side}Page": closed(
                {
                    "rows": array(ref(f"{side}Row")),
                    "older": nullable(CURSOR),
                    "newer": nullable(CURSOR),
                },
            )
            | {
                "description": "One page, newest first. Pass older as cursor for the next "
                "page (older rows), newer for the one before it; null where there is none."
            }
            for side in ("Outgoing", "Incoming")
        },
        "AuditPage": closed({"events": array(ref("AuditEvent")), "older": nullable(ID)}),
        "Check": _check(),
        "OfferPreflight": closed(
            {
                "passed": BOOLEAN,
                "connection": ref("ConnectionSummary"),
                "valid_until": MOMENT,
                "administrations": array(
                    closed(
                        {
                            "administration": ref("Administration"),
                            "passed": BOOLEAN,
                            "checks": array(ref("Check")),
                        }
                    )
                ),
            }
        ),
        "StartPreflight": closed(
            {
                "passed": BOOLEAN,
                "offer_id": ID,
                "items": array(
                    closed(
                        {
                            "item": ref("OfferItem"),
                            "connection_id": {"type": "integer", "minimum": 0},
                            "package_admin_id": TEXT,
                            "package_administration": nullable(ref("PackageAdministration")),
                            "passed": BOOLEAN,
                            "checks": array(ref("Check")),
                        }
                    )
                ),
            }
        ),
        # --- the bodies --------------------------------------------------------------------
        "RelinkRequest": closed({"connection_id": ID, "package_admin_id": INPUT_TEXT}),
        "AccessRequest": closed({"granted": BOOLEAN}),
        "OfferPreflightRequest": closed(
            {"connection_id": ID, "administration_ids": array(ID, minItems=1)}
        ),
        "OfferRequest": closed(
            {
                "connection_id": ID,
                "administration_ids": array(ID, minItems=1),
                "recipients": array(INPUT_TEXT, minItems=1),
                "accept_terms": BOOLEAN,
            }
        ),
        "RedemptionRequest": closed(
            {"code": INPUT_TEXT, "accept_terms": BOOLEAN, "accept_costs": BOOLEAN}
        ),
        "RejectRequest": {
            **closed(
                {"item_ids": nullable(array(ID, minItems=1)), "reason": nullable(INPUT_TEXT)},
                optional=("item_ids", "reason"),
            ),
            "description": "Without item_ids: the whole request.",
        },
        "Target": closed({"item_id": ID, "connection_id": ID, "package_admin_id": INPUT_TEXT}),
        "StartRequest": closed({"targets": array(ref("Target"), minItems=1)}),
        "Empty": closed({}),
    }


# --- operations ------------------------------------------------------------------------------


def _responses(success: str, schema: Json | None, statuses: str, *, no_store: bool = False) -> Json:
    """The answers of an operation: its success with ``schema`` and a problem for each of
    ``statuses`` (space-separated), plus 401, 429 (the rate limit), 500 and 503 (the
    database busy or away), which every operation can answer."""
    success_answer: Json = {"description": TITLES[success]}
    if schema is not None:
        success_answer["content"] = {"application/json": {"schema": schema}}
    if no_store:
        success_answer["headers"] = {
            "Cache-Control": {
                "description": "no-store: the code is shown once",
                "schema": {"type": "string", "const": "no-store"},
            }
        }
    answers: Json = {success: success_answer}
    for status in sorted({*statuses.split(), "401", "429", "500", "503"}):
        answers[status] = {"$ref": f"#/components/responses/{status}"}
    return answers


def _file_responses(media_type: str, statuses: str, *, also: str | None = None) -> Json:
    """The answers of an operation whose success is a file to save (``attachment``)."""
    answers = _responses("200", None, statuses)
    content = {kind: {"schema": {}} for kind in (media_type, also) if kind is not None}
    answers["200"]["content"] = content
    answers["200"]["headers"] = {
        "Content-Disposition": {
            "description": "attachment, with the file's name",
            "schema": {"type": "string"},
        }
    }
    return answers


def _operation(
    operation_id: str,
    summary: str,
    answers: Json,
    *,
    parameters: tuple[str, ...] = (),
    query: tuple[Json, ...] = (),
    body: str | None = None,
    example: Json | None = None,
    optional_body: bool = False,
) -> Json:
    found: Json = {
        "operationId": operation_id,
        "summary": summary,
        "responses": answers,
    }
    listed = [{"$ref": f"#/components/parameters/{name}"} for name in parameters]
    listed.extend(query)
    if listed:
        found["parameters"] = listed
    if body is not None:
        media: Json = {"schema": ref(body)}
        if example is not None:
            media["examples"] = {"example": {"value": example}}
        found["requestBody"] = {
            "required": not optional_body,
            "content": {"application/json": media},
        }
    return found


def _query(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


SEARCH = _query(
    "search",
    {"type": "string", "maxLength": 200},
    "Words that must each appear in some column, ignoring case.",
)
#: A place in an overview, opaque: handed out as a page's older or newer.
CURSOR: Json = {"type": "string", "maxLength": MAX_CURSOR, "pattern": "^[A-Za-z0-9_-]+$"}
OVERVIEW_QUERY = (
    SEARCH,
    _query(
        "cursor",
        CURSOR,
        "Where the page starts: the older or newer of a page before, as it was given. "
        "Another value is refused with the problem cursor_invalid (422).",
    ),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
        f"The most rows on the page (default {MAX_ROWS}).",
    ),
)


def paths() -> Json:
    p = PREFIX
    json_object: Json = {"type": "object"}
    return {
        f"{p}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": json_object}},
                    },
                    "429": {"$ref": "#/components/responses/429"},
                },
            }
        },
        f"{p}/me": {
            "get": _operation("me", "The token's user", _responses("200", ref("User"), ""))
        },
        f"{p}/administrations": {
            "get": _operation(
                "listAdministrations",
                "The environment's administrations (a plain user: those with Toegang Ja)",
                _responses("200", array(ref("AdministrationRow")), ""),
            )
        },
        f"{p}/administrations/{{administration_id}}/documents": {
            "get": _operation(
                "listDocuments",
                "A page of an administration's archive, in order of id",
                _responses("200", ref("DocumentPage"), "403 404 422"),
                parameters=("administration_id",),
                query=(
                    _query(
                        "after",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                        "Only documents with a higher id (the previous page's next_after).",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_DOCUMENTS},
                        "The most documents on the page (default 100).",
                    ),
                ),
            )
        },
        f"{p}/administrations/{{administration_id}}/relink": {
            "post": _operation(
                "relinkAdministration",
                "Interne migratie: link to another administration of the package (R16)",
                _responses("200", ref("Administration"), "403 404 409 413 415 422 502"),
                parameters=("administration_id",),
                body="RelinkRequest",
                example={"connection_id": 1, "package_admin_id": "noord-1001"},
            )
        },
        f"{p}/administrations/{{administration_id}}/access": {
            "get": _operation(
                "listAccess",
                "Every user of the environment with Toegang Ja or Nee",
                _responses("200", array(ref("UserAccess")), "403 404"),
                parameters=("administration_id",),
            )
        },
        f"{p}/administrations/{{administration_id}}/access/{{user_id}}": {
            "put": _operation(
                "setAccess",
                "Toegang Ja/Nee for one user of the environment (R14)",
                _responses("200", ref("AccessGrant"), "403 404 413 415 422"),
                parameters=("administration_id", "user_id"),
                body="AccessRequest",
                example={"granted": True},
            )
        },
        f"{p}/connections": {
            "get": _operation(
                "listConnections",
                "The environment's accounting system connections",
                _responses("200", array(ref("Connection")), "403"),
            )
        },
        f"{p}/connections/{{connection_id}}/package-administrations": {
            "get": _operation(
                "listPackageAdministrations",
                "The package's administrations not linked in the environment yet (R9)",
                _responses("200", array(ref("PackageAdministration")), "403 404 502"),
                parameters=("connection_id",),
            )
        },
        f"{p}/connections/{{connection_id}}/offerable-administrations": {
            "get": _operation(
                "listOfferableAdministrations",
                "The connection's administrations that can be offered now (R4)",
                _responses("200", array(ref("Administration")), "403 404"),
                parameters=("connection_id",),
            )
        },
        f"{p}/offers/preflight": {
            "post": _operation(
                "preflightOffer",
                "Dry run of an offer: every check with its verdict; changes nothing",
                _responses("200", ref("OfferPreflight"), "403 404 409 413 415 422"),
                body="OfferPreflightRequest",
                example={"connection_id": 1, "administration_ids": [1, 2]},
            )
        },
        f"{p}/offers": {
            "post": _operation(
                "offerAdministrations",
                "Offer administrations to another environment (R1-R5, R10); the code once",
                _responses("201", ref("OfferReceipt"), "403 404 409 413 415 422", no_store=True),
                body="OfferRequest",
                example={
                    "connection_id": 1,
                    "administration_ids": [2],
                    "recipients": ["zuid@example.nl"],
                    "accept_terms": True,
                },
            )
        },
        f"{p}/offers/outgoing": {
            "get": _operation(
                "listOutgoing",
                "The administrations this environment offered, newest first",
                _responses("200", ref("OutgoingPage"), "403 422"),
                query=OVERVIEW_QUERY,
            )
        },
        f"{p}/offer-items/{{item_id}}/withdraw": {
            "post": _operation(
                "withdrawItem",
                "Intrekken: take an offered administration back while Aangeboden (R12)",
                _responses("200", ref("OfferItem"), "403 404 409 413 415 422"),
                parameters=("item_id",),
                body="Empty",
                optional_body=True,
            )
        },
        f"{p}/offers/{{offer_id}}/resend": {
            "post": _operation(
                "resendCode",
                "A new transfer code; the old one stops working (R5)",
                _responses("200", ref("OfferReceipt"), "403 404 409 413 415 422", no_store=True),
                parameters=("offer_id",),
                body="Empty",
                optional_body=True,
            )
        },
        f"{p}/redemptions": {
            "post": _operation(
                "redeemCode",
                "Enter a transfer code: take the offer in (R5-R7)",
                _responses("200", ref("RedeemedOffer"), "403 409 413 415 422 429"),
                body="RedemptionRequest",
                example={
                    "code": "7KQ2-M9XD-A4BC-DEFG-HJKM-NPQR",
                    "accept_terms": True,
                    "accept_costs": True,
                },
            )
        },
        f"{p}/offers/incoming": {
            "get": _operation(
                "listIncoming",
                "The administrations offered to this environment, newest first",
                _responses("200", ref("IncomingPage"), "403 422"),
                query=OVERVIEW_QUERY,
            )
        },
        f"{p}/offers/{{offer_id}}": {
            "get": _operation(
                "getRedeemedOffer",
                "An offer this environment took in, with its items",
                _responses("200", ref("RedeemedOffer"), "403 404"),
                parameters=("offer_id",),
            )
        },
        f"{p}/offers/{{offer_id}}/reject": {
            "post": _operation(
                "rejectItems",
                "Afwijzen: the whole request or some items, with a reason (R11)",
                _responses("200", ref("Items"), "403 404 409 413 415 422"),
                parameters=("offer_id",),
                body="RejectRequest",
                example={"item_ids": [1], "reason": "Deze klant blijft bij ons."},
            )
        },
        f"{p}/offers/{{offer_id}}/start/preflight": {
            "post": _operation(
                "preflightStart",
                "Dry run of Start migratie: every check with its verdict; changes nothing",
                _responses("200", ref("StartPreflight"), "403 404 409 413 415 422 502"),
                parameters=("offer_id",),
                body="StartRequest",
                example={
                    "targets": [{"item_id": 1, "connection_id": 6, "package_admin_id": "zuid-1002"}]
                },
            )
        },
        f"{p}/offers/{{offer_id}}/start": {
            "post": _operation(
                "startMigrations",
                "Start migratie: each item In de wachtrij, moved in the background (R13)",
                _responses("201", ref("Migrations"), "403 404 409 413 415 422 502"),
                parameters=("offer_id",),
                body="StartRequest",
                example={
                    "targets": [{"item_id": 1, "connection_id": 6, "package_admin_id": "zuid-1002"}]
                },
            )
        },
        f"{p}/migrations/{{migration_id}}": {
            "get": _operation(
                "getMigration",
                "A migration's progress: status, documents and bytes done, failure",
                _responses("200", ref("Progress"), "403 404"),
                parameters=("migration_id",),
            )
        },
        f"{p}/migrations/{{migration_id}}/retry": {
            "post": _operation(
                "retryMigration",
                "Mislukt -> In de wachtrij: resume where it stopped (R13)",
                _responses("200", ref("Progress"), "403 404 409 413 415 422"),
                parameters=("migration_id",),
                body="Empty",
                optional_body=True,
            )
        },
        f"{p}/migrations/{{migration_id}}/report": {
            "get": _operation(
                "getMigrationReport",
                "The Migratieverslag of a Voltooid migration: a one-page PDF (Dutch, or English"
                " with Accept-Language: en), its signed statement attached (docs/report.md)",
                _file_responses("application/pdf", "404"),
                parameters=("migration_id",),
            )
        },
        f"{p}/migrations/{{migration_id}}/manifest": {
            "get": _operation(
                "getMigrationManifest",
                "The manifest of a Voltooid migration: every document with its old and new"
                " address, file name, size, SHA-256 and upload time, in canonical JSON Lines"
                " or CSV (docs/report.md)",
                _file_responses("application/jsonl", "404 422", also="text/csv"),
                parameters=("migration_id",),
                query=(
                    _query(
                        "format",
                        {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"},
                        "The manifest's form.",
                    ),
                ),
            )
        },
        f"{p}/offers/{{offer_id}}/report": {
            "get": _operation(
                "getOfferReport",
                "The summary Migratieverslag of every migration of an offer (an office"
                " takeover), as a PDF with its signed statement attached",
                _file_responses("application/pdf", "404"),
                parameters=("offer_id",),
            )
        },
        f"{p}/report-key": {
            "get": {
                **_operation(
                    "getReportKey",
                    "The server's Ed25519 public key that signs every Migratieverslag",
                    _responses("200", ref("ReportKey"), ""),
                ),
                "security": [],
            }
        },
        f"{p}/audit": {
            "get": _operation(
                "auditTrail",
                "The environment's audit trail, newest first",
                _responses("200", ref("AuditPage"), "403 422"),
                query=(
                    SEARCH,
                    _query("before", ID, "Only older events (the previous page's older)."),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS},
                        f"The most events on the page (default {MAX_EVENTS}).",
                    ),
                ),
            )
        },
    }


def _problem_answer(status: str) -> Json:
    answer: Json = {
        "description": TITLES[status],
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }
    headers: Json = {}
    if status == "401":
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
    if status == "429":
        headers["Retry-After"] = {
            "description": "Seconds until a call is taken again (the lockout or the window ends)",
            "schema": {"type": "integer", "minimum": 1},
        }
    if status == "503":
        headers["Retry-After"] = {
            "description": "Seconds after which to try again (the database busy or away, "
            "the accounting package's limit)",
            "schema": {"type": "integer", "minimum": 1},
        }
    if headers:
        answer["headers"] = headers
    return answer


@functools.cache
def document() -> Json:
    ids = ("administration_id", "user_id", "connection_id", "item_id", "offer_id", "migration_id")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "migrationkit portal API",
            "version": "1",
            "summary": "Move administrations with their archive between office environments.",
            "description": (
                "Authenticate with a personal API token (Instellingen > API-tokens) in "
                "`Authorization: Bearer <token>`; it acts with exactly its user's rights. "
                "The session cookie is not accepted. Every refusal is application/problem+json "
                "with a stable `code`; `detail` is in Dutch, or English with "
                "`Accept-Language: en`. Another environment's object answers 404, exactly "
                "like a missing one. Calls are limited per token and per client address "
                "(429 api_rate_limited with Retry-After)."
            ),
        },
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token: mkt_ and 43 characters.",
                }
            },
            "parameters": {
                name: {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": ID,
                    "examples": {f"id {n}": {"value": n} for n in (1, 2, 3)},
                }
                for name in ids
            },
            "responses": {status: _problem_answer(status) for status in TITLES if status >= "4"},
            "schemas": schemas(),
        },
    }
