"""The repositories of ``migrationkit.ports`` on SQLAlchemy Core, a module per aggregate.

Each takes the unit of work's ``Connection`` and returns frozen domain values, made from rows
by the small ``*_from_row`` functions, one per table, beside the repository of that table.
Writes that a unique constraint guards run inside a SAVEPOINT, so a refusal leaves the
transaction usable (PostgreSQL aborts it otherwise), and the database's refusal becomes the
domain's ``RuleViolation``.
"""

from migrationkit.adapters.sqlalchemy.repositories.migrations import (
    OUTBOX_KEY_LABEL,
    SqlAlchemyAccessRepository,
    SqlAlchemyAdministrationRepository,
    SqlAlchemyApiTokenRepository,
    SqlAlchemyAuditRepository,
    SqlAlchemyAuthorizationFlowRepository,
    SqlAlchemyChargeRepository,
    SqlAlchemyConnectionRepository,
    SqlAlchemyDocumentCopyRepository,
    SqlAlchemyDocumentRedirectRepository,
    SqlAlchemyDocumentRepository,
    SqlAlchemyEnvironmentRepository,
    SqlAlchemyMigrationRepository,
    SqlAlchemyOfferItemRepository,
    SqlAlchemyOfferRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyRateLimitRepository,
    SqlAlchemyRedeemAttemptRepository,
    SqlAlchemySessionRepository,
    SqlAlchemySignInFailureRepository,
    SqlAlchemyUserRepository,
)

__all__ = [
    "OUTBOX_KEY_LABEL",
    "SqlAlchemyAccessRepository",
    "SqlAlchemyAdministrationRepository",
    "SqlAlchemyApiTokenRepository",
    "SqlAlchemyAuditRepository",
    "SqlAlchemyAuthorizationFlowRepository",
    "SqlAlchemyChargeRepository",
    "SqlAlchemyConnectionRepository",
    "SqlAlchemyDocumentCopyRepository",
    "SqlAlchemyDocumentRedirectRepository",
    "SqlAlchemyDocumentRepository",
    "SqlAlchemyEnvironmentRepository",
    "SqlAlchemyMigrationRepository",
    "SqlAlchemyOfferItemRepository",
    "SqlAlchemyOfferRepository",
    "SqlAlchemyOutboxRepository",
    "SqlAlchemyRateLimitRepository",
    "SqlAlchemyRedeemAttemptRepository",
    "SqlAlchemySessionRepository",
    "SqlAlchemySignInFailureRepository",
    "SqlAlchemyUserRepository",
]
