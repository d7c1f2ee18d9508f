"""In-memory repositories: each one the contract of its Protocol in ``migrationkit.ports``,
database rules included; a module per aggregate, as in ``adapters.sqlalchemy.repositories``."""

from migrationkit.testing._repositories.accounts import (
    InMemoryApiTokenRepository,
    InMemoryEnvironmentRepository,
    InMemorySessionRepository,
    InMemorySignInFailureRepository,
    InMemoryUserRepository,
)
from migrationkit.testing._repositories.administrations import (
    InMemoryAccessRepository,
    InMemoryAdministrationRepository,
    InMemoryAuthorizationFlowRepository,
    InMemoryConnectionRepository,
)
from migrationkit.testing._repositories.archive import (
    InMemoryDocumentRedirectRepository,
    InMemoryDocumentRepository,
)
from migrationkit.testing._repositories.audit import InMemoryAuditRepository
from migrationkit.testing._repositories.migrations import (
    InMemoryChargeRepository,
    InMemoryDocumentCopyRepository,
    InMemoryMigrationRepository,
)
from migrationkit.testing._repositories.offers import (
    InMemoryOfferItemRepository,
    InMemoryOfferRepository,
    InMemoryRedeemAttemptRepository,
)
from migrationkit.testing._repositories.outbox import InMemoryOutboxRepository
from migrationkit.testing._repositories.rate_limits import InMemoryRateLimitRepository

__all__ = [
    "InMemoryAccessRepository",
    "InMemoryAdministrationRepository",
    "InMemoryApiTokenRepository",
    "InMemoryAuditRepository",
    "InMemoryAuthorizationFlowRepository",
    "InMemoryChargeRepository",
    "InMemoryConnectionRepository",
    "InMemoryDocumentCopyRepository",
    "InMemoryDocumentRedirectRepository",
    "InMemoryDocumentRepository",
    "InMemoryEnvironmentRepository",
    "InMemoryMigrationRepository",
    "InMemoryOfferItemRepository",
    "InMemoryOfferRepository",
    "InMemoryOutboxRepository",
    "InMemoryRateLimitRepository",
    "InMemoryRedeemAttemptRepository",
    "InMemorySessionRepository",
    "InMemorySignInFailureRepository",
    "InMemoryUserRepository",
]
