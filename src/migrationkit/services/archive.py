"""An administration's archive, for the portal and the API: upload, list, open, and follow an
old address to where a document lives now.

An upload is taken only when its bytes are a document a bookkeeping archive holds
(``domain.documents``): the type is decided from the bytes, never from the name or the
type the upload claims, and a refused upload leaves nothing behind, neither row nor blob.

Who may: a super user of the administration's environment, or a user of it with access
(Toegang Ja). Anyone else is refused, and a user of another environment hears that the
document (or administration) is unknown, exactly as for one that does not exist: the
answer tells nothing about other environments.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

from defusedxml import ElementTree

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.documents import (
    HEAD_BYTES,
    may_be_xml,
    require_document_size,
    require_document_type,
)
from migrationkit.domain.errors import ArchiveError, MigrationError, NotAllowed, NotFound
from migrationkit.domain.model import MAX_ID, Administration, Document, User
from migrationkit.domain.rules import clean_filename
from migrationkit.ports import ArchiveStore, ArchiveStores, StoredBlob, UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies

#: The most documents one page of ``list_documents`` holds.
MAX_PAGE = 1000
#: An upload that cannot be read twice is spooled in memory up to this size, beyond on disk.
SPOOL_IN_MEMORY = 1024 * 1024


@audited(AuditAction.UPLOAD_DOCUMENT)
def add_document(
    deps: Dependencies,
    archives: ArchiveStores,
    *,
    actor_id: int,
    administration_id: int,
    filename: str,
    stream: BinaryIO,
) -> Document:
    """Uploads a document into an administration's archive. Its type comes from its first
    bytes (``document_type_refused`` for what an archive does not hold, ``document_empty``);
    then the bytes go to the environment's store, at most ``MAX_DOCUMENT_BYTES`` of them
    (``document_too_large``, and nothing stays in the store), then one transaction holds the
    administration (the finish of a move takes the same lock) and the blob (the release of a
    move's source takes that hold), makes sure the blob is still there, and adds the row. An
    administration that is moving takes uploads too; the move carries them over. An upload
    refused there (the move finished first) deletes its blob again, unless a document keeps
    its bytes in it.

    The same bytes may be a blob that the release of another administration's move is
    deleting from this store at that very moment: the upload then finds its blob gone
    under the hold and writes it again (``_kept``), so its document never lacks its bytes.
    A stream that cannot be read twice is spooled first (in memory up to a megabyte)."""
    name = clean_filename(filename)
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        administration = _readable(uow, actor, administration_id, "unknown_administration")
        store = archives.store(_load.environment(uow, administration.environment_id).archive_store)
    with _rewindable(stream) as readable:
        head = _head(readable)
        kind = require_document_type(head, _xml_root(head) if may_be_xml(head) else None)
        blob = _written(store, io.BufferedReader(_Upload(head, readable)))
        with deps.uow() as uow:
            # Held, and checked again: a move that finished meanwhile took it elsewhere.
            uow.administrations.lock(administration_id)
            uow.documents.hold_blobs(store.name, {blob.key})
            try:
                administration = _readable(uow, actor, administration_id, "unknown_administration")
            except MigrationError:
                if not uow.documents.referenced_keys(store.name, {blob.key}):
                    with suppress(ArchiveError, OSError):  # the refusal is what the user hears
                        store.delete(blob.key)
                raise
            _kept(store, blob, readable)
            document = uow.documents.add(
                administration.id,
                filename=name,
                content_type=kind.content_type,
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


@contextmanager
def _rewindable(stream: BinaryIO) -> Iterator[BinaryIO]:
    """The stream, or a spooled copy of it when it cannot seek back to its start (at most
    ``MAX_DOCUMENT_BYTES`` of it: ``document_too_large`` beyond)."""
    if stream.seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(io.BufferedReader(_Upload(b"", stream)), spool)
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _kept(store: ArchiveStore, blob: StoredBlob, stream: BinaryIO) -> None:
    """Under the blob's hold: the blob is in the store with its size, or is written again
    from the stream (a release of the same bytes deleted it after the first write)."""
    if store.sizes({blob.key}).get(blob.key) == blob.size:
        return
    stream.seek(0)
    again = _written(store, stream)
    if again.key != blob.key:  # the stream gave other bytes the second time
        raise ArchiveError("checksum_mismatch", filename=blob.key)


def _written(store: ArchiveStore, stream: BinaryIO) -> StoredBlob:
    try:
        return store.write(stream)
    except OSError as error:
        raise ArchiveError("archive_unavailable", store=store.name) from error


def _head(stream: BinaryIO) -> bytes:
    """The first ``HEAD_BYTES`` of the stream (all of it when it is shorter)."""
    head = b""
    while len(head) < HEAD_BYTES and (chunk := stream.read(HEAD_BYTES - len(head))):
        head += chunk
    return head


def _xml_root(head: bytes) -> tuple[str, str] | None:
    """The root element (namespace, name) of the XML that ``head`` begins, or ``None`` when
    it begins none. Read by defusedxml, which refuses a DTD and with it every entity, so
    neither an entity bomb nor an external reference is ever expanded; only as far as the
    root element."""
    try:
        for _event, element in ElementTree.iterparse(
            io.BytesIO(head), events=("start",), forbid_dtd=True
        ):
            namespace, _, name = element.tag.removeprefix("{").rpartition("}")
            return namespace, name
    except (ElementTree.ParseError, ValueError, LookupError):
        # Not well-formed, a DTD or entity (defusedxml's refusals are ValueErrors), an
        # encoding nobody knows.
        return None
    return None


class _Upload(io.RawIOBase):
    """An upload's bytes for the store: the head already read, then the rest of the stream;
    refuses to give more than ``MAX_DOCUMENT_BYTES`` (the store keeps nothing then)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(target), len(self._head))
            target[:count] = self._head[:count]
            self._head = self._head[count:]
        else:
            chunk = self._rest.read(len(target))
            count = len(chunk)
            target[:count] = chunk
        self._size += count
        require_document_size(self._size)
        return count
