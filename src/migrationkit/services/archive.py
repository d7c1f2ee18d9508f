"""An administration's archive, for the portal and the API: upload, list, open, and follow an
old address to where a document lives now.

Who may: a super user of the administration's environment, or a user of it with access
(Toegang Ja). Anyone else is refused, and a user of another environment hears that the
document (or administration) is unknown, exactly as for one that does not exist: the
answer tells nothing about other environments.
"""

from __future__ import annotations

from contextlib import suppress
from typing import BinaryIO

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import ArchiveError, MigrationError, NotAllowed, NotFound
from migrationkit.domain.model import MAX_ID, Administration, Document, User
from migrationkit.domain.rules import clean_filename
from migrationkit.ports import ArchiveStore, ArchiveStores, StoredBlob, UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies

#: The most documents one page of ``list_documents`` holds.
MAX_PAGE = 1000

#: Document ids are 32-bit integers in the database; a larger number is no document.


@audited(AuditAction.UPLOAD_DOCUMENT)
def add_document(
    deps: Dependencies,
    archives: ArchiveStores,
    *,
    actor_id: int,
    administration_id: int,
    filename: str,
    content_type: str,
    stream: BinaryIO,
) -> Document:
    """Uploads a document into an administration's archive: the bytes go to its
    environment's store first, then one transaction holds the administration (the finish of
    a move takes the same lock) and adds the row. An administration that is moving takes
    uploads too; the move carries them over. An upload refused there (the move finished
    first) deletes its blob again, unless a document keeps its bytes in it."""
    name = clean_filename(filename)
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        administration = _readable(uow, actor, administration_id, "unknown_administration")
        store = archives.store(_load.environment(uow, administration.environment_id).archive_store)
    blob = _written(store, stream)
    with deps.uow() as uow:
        # Held, and checked again: a move that finished meanwhile took it elsewhere.
        uow.administrations.lock(administration_id)
        try:
            administration = _readable(uow, actor, administration_id, "unknown_administration")
        except MigrationError:
            if not uow.documents.referenced_keys(store.name, {blob.key}):
                with suppress(ArchiveError, OSError):  # the refusal is what the user hears
                    store.delete(blob.key)
            raise
        document = uow.documents.add(
            administration.id,
            filename=name,
            content_type=content_type,
            size=blob.size,
            sha256=blob.sha256,
            archive_store=store.name,
            blob_key=blob.key,
            received_at=deps.clock.now(),
        )
        record(uow, deps, actor, AuditAction.UPLOAD_DOCUMENT, ("document", document.id))
        uow.commit()
    return document


@audited(AuditAction.OPEN)
def list_documents(
    deps: Dependencies,
    *,
    actor_id: int,
    administration_id: int,
    after_id: int = 0,
    limit: int = 100,
) -> tuple[Document, ...]:
    """A page of an administration's archive: up to ``limit`` documents (at most
    ``MAX_PAGE``) with an id above ``after_id``, in order of id."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        administration = _readable(uow, actor, administration_id, "unknown_administration")
        page = uow.documents.list_page(
            administration.id, after_id=after_id, limit=max(1, min(limit, MAX_PAGE))
        )
    return tuple(page)


@audited(AuditAction.OPEN)
def open_document(
    deps: Dependencies, archives: ArchiveStores, *, actor_id: int, address: str
) -> tuple[Document, BinaryIO]:
    """The document at ``address`` (an old one leads to where it lives now) and a stream of
    its bytes, which the caller closes."""
    with deps.uow() as uow:
        document = _current(uow, _load.user(uow, actor_id), address)
    store = archives.store(document.archive_store)
    try:
        return document, store.open(document.blob_key)
    except FileNotFoundError as error:
        raise ArchiveError(
            "document_missing", filename=document.filename, store=store.name
        ) from error


@audited(AuditAction.OPEN)
def resolve_address(deps: Dependencies, *, actor_id: int, address: str) -> str:
    """The current address of the document at ``address``: itself, or where the redirects
    of its moves lead."""
    with deps.uow() as uow:
        return _current(uow, _load.user(uow, actor_id), address).address


def _readable(uow: UnitOfWork, actor: User, administration_id: int, unknown: str) -> Administration:
    """The administration, when the actor may use its archive. ``NotFound(unknown)`` when it
    does not exist or belongs to another environment; ``NotAllowed("no_access")`` for a
    user of its environment without access; ``NotAllowed("access_not_granted_after_move")``
    for a super user without a grant to one that arrived by a move: as the guide says, the
    recipient gives even themselves access first (R14)."""
    administration = uow.administrations.get(administration_id)
    if administration is None or administration.environment_id != actor.environment_id:
        raise NotFound(unknown)
    granted = any(
        grant.user_id == actor.id and grant.granted
        for grant in uow.access.list_for_administration(administration.id)
    )
    if granted:
        return administration
    if not actor.is_super_user:
        raise NotAllowed("no_access")
    if uow.migrations.finished_into(administration.id, actor.environment_id):
        raise NotAllowed("access_not_granted_after_move", code=administration.code)
    return administration


def _current(uow: UnitOfWork, actor: User, address: str) -> Document:
    """The document that ``address`` leads to, when the actor may read it."""
    document = _at(uow, uow.redirects.resolve(address) or address)
    if document is None:
        raise NotFound("unknown_document")
    _readable(uow, actor, document.administration_id, "unknown_document")
    return document


def _at(uow: UnitOfWork, address: str) -> Document | None:
    """The document whose address is ``address`` (``<store>/<id>``), if any."""
    store, _, number = address.rpartition("/")
    if not (store and number.isascii() and number.isdigit() and 0 < int(number) <= MAX_ID):
        return None
    document = uow.documents.get(int(number))
    if document is None or document.archive_store != store:
        return None
    return document


def _written(store: ArchiveStore, stream: BinaryIO) -> StoredBlob:
    try:
        return store.write(stream)
    except OSError as error:
        raise ArchiveError("archive_unavailable", store=store.name) from error
