"""The repositories of ``migrationkit.ports`` on SQLAlchemy Core, a module per aggregate.

Each takes the unit of work's ``Connection`` and returns frozen domain values, made from rows
by the small ``*_from_row`` functions, one per table, beside the repository of that table.
Writes that a unique constraint guards run inside a SAVEPOINT, so a refusal leaves the
transaction usable (PostgreSQL aborts it otherwise), and the database's refusal becomes the
domain's ``RuleViolation``.
"""

from migrationkit.adapters.sqlalchemy.repositories.accounts import (
    SqlAlchemyApiTokenRepository,
    SqlAlchemyEnvironmentRepository,
    SqlAlchemySessionRepository,
    SqlAlchemySignInFailureRepository,
    SqlAlchemyUserRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.administrations import (
    SqlAlchemyAccessRepository,
    SqlAlchemyAdministrationRepository,
    SqlAlchemyAuthorizationFlowRepository,
    SqlAlchemyConnectionRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.archive import (
    SqlAlchemyDocumentRedirectRepository,
    SqlAlchemyDocumentRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.audit import SqlAlchemyAuditRepository
from migrationkit.adapters.sqlalchemy.repositories.migrations import (
    SqlAlchemyChargeRepository,
    SqlAlchemyDocumentCopyRepository,
    SqlAlchemyMigrationRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.offers import (
    SqlAlchemyOfferItemRepository,
    SqlAlchemyOfferRepository,
    SqlAlchemyRedeemAttemptRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.outbox import (
    OUTBOX_KEY_LABEL,
    SqlAlchemyOutboxRepository,
)
from migrationkit.adapters.sqlalchemy.repositories.rate_limits import SqlAlchemyRateLimitRepository

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
