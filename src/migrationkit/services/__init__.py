"""The use cases. Each takes ``Dependencies`` first and keyword arguments after; each opens
its own unit of work, and either does all it says or changes nothing and raises a
``MigrationError`` with a stable code."""

from migrationkit.domain.manifest import MigrationReport, OfferReport
from migrationkit.services._pages import OverviewPage
from migrationkit.services.accounts import choose_language, sign_in
from migrationkit.services.administrations import (
    AdministrationRow,
    UserAccess,
    add_administrations,
    has_access,
    list_access,
    list_administrations,
    relink_administration,
    set_access,
)
from migrationkit.services.api_tokens import (
    IssuedApiToken,
    authenticate_api_token,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from migrationkit.services.archive import (
    add_document,
    list_documents,
    open_document,
    resolve_address,
)
from migrationkit.services.audit import AuditPage, audit_trail, record_refusal
from migrationkit.services.connections import (
    ConnectionRow,
    begin_authorization,
    finish_authorization,
    list_connections,
)
from migrationkit.services.dependencies import Dependencies, Policy
from migrationkit.services.engine import copy_batch, finish_migration, run_migration
from migrationkit.services.expiry import SweepReport, sweep_offers
from migrationkit.services.listings import PackageListings
from migrationkit.services.matching import TargetProposals, propose_targets
from migrationkit.services.moving import (
    Progress,
    claim_migration,
    complete_migration,
    fail_migration,
    migration_progress,
    record_progress,
    requeue_stale,
)
from migrationkit.services.offering import (
    OfferReceipt,
    OutgoingRow,
    offer_administrations,
    offerable_administrations,
    outgoing_overview,
    resend_code,
    withdraw_item,
)
from migrationkit.services.outbox import DispatchReport, dispatch_outbox
from migrationkit.services.preflight import (
    AdministrationChecks,
    Check,
    ItemChecks,
    OfferPreflight,
    StartPreflight,
    TargetChoice,
    Verdict,
    preflight_offer,
    preflight_start,
    report_of,
)
from migrationkit.services.rate_limits import count_api_call
from migrationkit.services.receiving import (
    IncomingRow,
    RedeemedOffer,
    available_package_administrations,
    incoming_overview,
    redeem_code,
    redeemed_offer,
    reject_items,
    retry_migration,
    start_migrations,
)
from migrationkit.services.reports import (
    migration_manifest,
    migration_report,
    offer_report,
)
from migrationkit.services.sessions import (
    IssuedSession,
    ResumedSession,
    change_password,
    end_other_sessions,
    end_session,
    list_sessions,
    open_session,
    resume_session,
    sign_out,
)
from migrationkit.services.sweeping import SweeperReport, sweep

__all__ = [
    "AdministrationChecks",
    "AdministrationRow",
    "AuditPage",
    "Check",
    "ConnectionRow",
    "Dependencies",
    "DispatchReport",
    "IncomingRow",
    "IssuedApiToken",
    "IssuedSession",
    "ItemChecks",
    "MigrationReport",
    "OfferPreflight",
    "OfferReceipt",
    "OfferReport",
    "OutgoingRow",
    "OverviewPage",
    "PackageListings",
    "Policy",
    "Progress",
    "RedeemedOffer",
    "ResumedSession",
    "StartPreflight",
    "SweepReport",
    "SweeperReport",
    "TargetChoice",
    "TargetProposals",
    "UserAccess",
    "Verdict",
    "add_administrations",
    "add_document",
    "audit_trail",
    "authenticate_api_token",
    "available_package_administrations",
    "begin_authorization",
    "change_password",
    "choose_language",
    "claim_migration",
    "complete_migration",
    "copy_batch",
    "count_api_call",
    "create_api_token",
    "dispatch_outbox",
    "end_other_sessions",
    "end_session",
    "fail_migration",
    "finish_authorization",
    "finish_migration",
    "has_access",
    "incoming_overview",
    "list_access",
    "list_administrations",
    "list_api_tokens",
    "list_connections",
    "list_documents",
    "list_sessions",
    "migration_manifest",
    "migration_progress",
    "migration_report",
    "offer_administrations",
    "offer_report",
    "offerable_administrations",
    "open_document",
    "open_session",
    "outgoing_overview",
    "preflight_offer",
    "preflight_start",
    "propose_targets",
    "record_progress",
    "record_refusal",
    "redeem_code",
    "redeemed_offer",
    "reject_items",
    "relink_administration",
    "report_of",
    "requeue_stale",
    "resend_code",
    "resolve_address",
    "resume_session",
    "retry_migration",
    "revoke_api_token",
    "run_migration",
    "set_access",
    "sign_in",
    "sign_out",
    "start_migrations",
    "sweep",
    "sweep_offers",
    "withdraw_item",
]
