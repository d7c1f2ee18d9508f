"""A started move across stores, arranged through the use cases on any database: Noord
(store "noord") offers an administration with an archive to Zuid (store "zuid"), Zuid
redeems the code and starts the migration. For the runtime's tests (RQ, the worker)."""

from __future__ import annotations

import io

import attrs

from migrationkit import services
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.domain.model import AccountingPackage, PackageAdministration, Role
from migrationkit.ports import ArchiveStores
from migrationkit.services.dependencies import Dependencies

EXACT = AccountingPackage.EXACT_ONLINE_NL


@attrs.frozen
class Move:
    migration_id: int
    item_id: int
    recipient_id: int
    #: The documents' bytes by SHA-256, as written to Noord's store.
    blobs: dict[str, bytes]


def start_move(
    deps: Dependencies,
    archives: ArchiveStores,
    connectors: InMemoryConnectorRegistry,
    *,
    documents: int,
) -> Move:
    """Noord's administration 0042 with ``documents`` documents, started by Zuid."""
    store = archives.store("noord")
    blobs = {}
    with deps.uow() as uow:
        noord = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        zuid = uow.environments.add("Zuid", has_subscription=True, archive_store="zuid")
        sender = uow.users.add(noord.id, "baas@noord.nl", "Baas Noord", Role.SUPER_USER)
        recipient = uow.users.add(zuid.id, "baas@zuid.nl", "Baas Zuid", Role.SUPER_USER)
        source = uow.connections.add(noord.id, EXACT, "Exact Noord")
        target = uow.connections.add(zuid.id, EXACT, "Exact Zuid")
        administration = uow.administrations.add(
            noord.id, source.id, "0042", "Bakkerij", "0042@inbox.nl", "noord-0042"
        )
        for number in range(documents):
            content = f"factuur {number:05d}".encode()
            blob = store.write(io.BytesIO(content))
            blobs[blob.sha256] = content
            uow.documents.add(
                administration.id,
                filename=f"factuur-{number:05d}.pdf",
                content_type="application/pdf",
                size=blob.size,
                sha256=blob.sha256,
                archive_store=store.name,
                blob_key=blob.key,
                received_at=deps.clock.now(),
            )
        uow.commit()
    connectors.connector(EXACT).add_package_administration(
        target.id, PackageAdministration("zuid-0042", "0042", "Bakkerij")
    )
    receipt = services.offer_administrations(
        deps,
        actor_id=sender.id,
        connection_id=source.id,
        administration_ids=[administration.id],
        recipients=["baas@zuid.nl"],
        accepted_terms=True,
    )
    services.redeem_code(
        deps, actor_id=recipient.id, code=receipt.code, accepted_terms=True, accepted_costs=True
    )
    [migration] = services.start_migrations(
        deps,
        actor_id=recipient.id,
        offer_id=receipt.offer.id,
        choices=[services.TargetChoice(receipt.items[0].id, target.id, "zuid-0042")],
    )
    return Move(migration.id, migration.item_id, recipient.id, blobs)


def status(deps: Dependencies, move: Move) -> str:
    """The Dutch word for the move's status now."""
    with deps.uow() as uow:
        item = uow.items.get(move.item_id)
    assert item is not None
    return item.status.label_nl
