"""The engine: the job code that every worker runs, RQ's and the embedded one alike.

A job only says "look at migration N"; everything else is read from the database, so a job
may run twice, late, or after a crash and do no harm.

- ``run_migration`` claims a migration by compare-and-set. On one store nothing per
  document is written: the finish follows at once. Across stores an archive that fits one
  batch is copied inline; a bigger one fans out as batch jobs of several batches each
  (``Policy.batches_per_job``) and one finishing job.
- ``copy_batch`` copies the uncopied documents of an id range a batch at a time and commits
  each batch's checkpoints (``DocumentCopy`` rows) with the progress and a heartbeat in one
  transaction (the progress every few seconds): a crash loses at most the batch in flight,
  and a redone batch doubles nothing. The files are copied by a few threads, the next
  batch's while one commits.
- ``finish_migration`` asks the target store itself whether it holds every copy recorded,
  copies again what it lost and what is left (uploads during the move, batches that died),
  checks the copies against the documents and finishes in one transaction.
- ``after_finish`` then rewrites the package's links and, after a grace period, releases the
  source's blobs, each only once the target is seen to hold it; each step is recorded on
  the migration once done, so what a crash left undone is woken again by the sweeper
  (``run_migration`` of a Voltooid migration does it).

The records say what was copied; only the stores say what is there. Before a retry or a
takeover trusts its records, and again before the finish, the target store is asked about
every copy (``_verify_copies``).
"""

from __future__ import annotations

import errno
import logging
import math
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import Enum

import attrs

from migrationkit.domain.errors import (
    ArchiveError,
    MigrationError,
    PackageError,
    RuleViolation,
    in_role,
)
from migrationkit.domain.model import Document, ItemStatus, Migration, document_address
from migrationkit.ports import ArchiveStore, ArchiveStores, DocumentBatch, DocumentCopy, UnitOfWork
from migrationkit.services import _emails, _load
from migrationkit.services.dependencies import Dependencies
from migrationkit.services.moving import (
    claim_migration,
    complete_within,
    completed,
    fail_migration,
    hand_back,
    ids,
)

log = logging.getLogger(__name__)

#: What ends a move as Mislukt, with the error's Dutch message as the reason: the archive
#: (a disk or network error is one too, see ``_copy``), the package, or a rule the finish
#: runs into (R8: the target's code and name taken meanwhile).
_MOVE_ERRORS = (ArchiveError, PackageError, RuleViolation)

#: Where the portal serves a document; a link in the package is this plus its address.
DOCUMENTS_PATH = "/documenten/"

#: How many threads copy a worker's files: they copy the next batch while the worker
#: commits one, and the waits of the disk or the network (the GIL is let go) overlap.
#: More did not help on a local disk (docs/performance.md).
COPY_THREADS = 2

#: How often a worker that copies counts the progress again (the progress bar's freshness).
PROGRESS_EVERY = timedelta(seconds=2)

#: A fan-out plans at least this many batch jobs when it has as many batches, so that as
#: many workers share an archive even when ``Policy.batches_per_job`` would make fewer.
SHARED_JOBS = 8

#: How many copies the target store is asked about at a time before the finish: a few
#: megabytes of records, and a transaction (the lease's heartbeat) per page.
VERIFY_PAGE = 5000

#: How many times a finish copies again what the target store lost since it last looked,
#: before it gives up: a store that keeps losing what was just written into it is broken,
#: and the move ends Mislukt naming the documents.
LOST_ROUNDS = 3


@attrs.frozen
class _Move:
    """A migration Aan het verwerken, with the stores its archive goes from and to."""

    migration: Migration
    offer_id: int
    source_store: str
    target_store: str

    @property
    def ids(self) -> dict[str, int]:
        """What its log lines carry (``moving.ids``)."""
        return ids(self.migration, self.offer_id)

    @property
    def id(self) -> int:
        return self.migration.id

    @property
    def administration_id(self) -> int:
        return self.migration.administration_id

    @property
    def same_store(self) -> bool:
        return self.source_store == self.target_store


class _Finish(Enum):
    """How an attempt at the finishing transaction ended."""

    COMPLETED = "completed"
    #: Documents lack a copy (they arrived after the last copy, or the target store lost
    #: theirs): copy them and try again.
    LEFTOVERS = "leftovers"
    #: Inside the transaction, the target store lacked copies recorded since it was last
    #: asked: they are forgotten; copy them again.
    COPIES_LOST = "copies_lost"
    #: The migration is no longer this worker's (failed, or taken back by the sweeper).
    LOST = "lost"


# --- the jobs ------------------------------------------------------------------------------


def run_migration(deps: Dependencies, archives: ArchiveStores, migration_id: int) -> None:
    """Claims the migration and moves its archive; does nothing unless it is In de wachtrij,
    so of two workers handed the same migration one does the work. A migration whose
    batches were enqueued before (its lease ran out, or it failed and is retried) is planned
    again from its copies, once the target store was seen to hold them. For
    a Voltooid migration it does the steps after the finish that are due (``after_finish``)."""
    if claim_migration(deps, migration_id) is None:
        after_finish(deps, archives, migration_id)
        return
    move = _processing(deps, migration_id)
    if move is None:
        return
    # A first claim has no copies recorded to check.
    if not move.same_store and move.migration.attempts > 1 and not _checked(deps, archives, move):
        _hand_back_when_stopping(deps, move)
        return
    if move.same_store:
        _finish(deps, archives, move)
    elif not _fanned_out(deps, move):
        _finish(deps, archives, move, copy_first=True)


def copy_batch(
    deps: Dependencies, archives: ArchiveStores, migration_id: int, first_id: int, last_id: int
) -> None:
    """Copies the uncopied documents with ids from ``first_id`` to ``last_id``, committing
    the checkpoints of each batch; does nothing unless the migration is Aan het verwerken.
    A worker asked to stop ends after the batch in hand: the finishing job, which runs once
    every batch job has ended, copies what it left."""
    move = _processing(deps, migration_id)
    if move is None:
        return
    with _failing(deps, move):
        _copy_uncopied(deps, archives, move, after_id=first_id - 1, up_to_id=last_id)


def finish_migration(deps: Dependencies, archives: ArchiveStores, migration_id: int) -> None:
    """The finishing job after all batches: copies what is left, then finishes; does
    nothing unless the migration is Aan het verwerken."""
    move = _processing(deps, migration_id)
    if move is not None:
        _finish(deps, archives, move)


# --- the steps -----------------------------------------------------------------------------


def _processing(deps: Dependencies, migration_id: int) -> _Move | None:
    """The move of a migration Aan het verwerken; ``None`` for one in any other status."""
    with deps.uow() as uow:
        migration = _load.migration(uow, migration_id)
        item = _load.item(uow, migration.item_id)
        if item.status is not ItemStatus.PROCESSING:
            return None
        offer = _load.offer(uow, item.offer_id)
        source = _load.environment(uow, offer.source_environment_id)
        target = _load.environment(uow, migration.target_environment_id)
    return _Move(migration, offer.id, source.archive_store, target.archive_store)


@contextmanager
def _failing(deps: Dependencies, move: _Move) -> Iterator[None]:
    """Ends the move as Mislukt, with the error as the reason, when the archive, the package
    or a rule fails it; a retry resumes from the copies recorded."""
    try:
        yield
    except _MOVE_ERRORS as error:
        log.warning(
            "migration %s failed: %s%s",
            move.id,
            error.message("en"),
            _cause(error),
            extra=move.ids | {"error_code": error.code},
        )
        try:
            fail_migration(deps, move.id, error)
        except MigrationError:
            log.warning("migration %s changed meanwhile; its failure is not recorded", move.id)


def _cause(error: BaseException) -> str:
    """What the system said under an error, for the log: the error number of an
    ``OSError`` (``errno ENOSPC: No space left on device, /srv/...``) or the server's
    message, found through the error's causes; empty when there is none."""
    cause = error.__cause__ or error.__context__
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno is not None:
            name = errno.errorcode.get(cause.errno, str(cause.errno))
            where = f", {cause.filename}" if cause.filename else ""
            return f" (errno {name}: {cause.strerror}{where})"
        if not isinstance(cause, MigrationError):
            return f" ({type(cause).__name__}: {cause})"
        cause = cause.__cause__ or cause.__context__
    return ""


def _checked(deps: Dependencies, archives: ArchiveStores, move: _Move) -> bool:
    """Before a claim trusts the copies recorded (a retry, a takeover), the target store is
    asked about each (``_verify_copies``); false when that failed the move or it is no
    longer this worker's."""
    with _failing(deps, move):
        return _verify_copies(deps, archives, move) is not None
    return False


def _verify_copies(
    deps: Dependencies,
    archives: ArchiveStores,
    move: _Move,
    *,
    unverified: bool = False,
    give_up: bool = False,
) -> int | None:
    """Asks the target store itself whether it holds each copy recorded for the move (with
    ``unverified`` only those recorded since it was last asked), with its size, a page of
    copies at a time (the memory stays flat) and outside any long transaction: a volume
    lost and restored empty, or a bucket emptied by mistake, shows here. A copy the store
    does not hold is forgotten, so its document is copied again; the rest are marked
    verified, and the finish looks again inside its transaction only at copies recorded
    since. With ``give_up`` a lost copy fails the move instead, naming the documents. Each
    page's transaction beats the lease. How many copies were forgotten; ``None``, stopping,
    when the migration is no longer this worker's or the worker is asked to stop."""
    forgotten = 0
    after = 0
    while not deps.stopping.is_set():
        with deps.uow() as uow:
            copies = uow.copies.list_page(
                move.id, after_document_id=after, limit=VERIFY_PAGE, unverified=unverified
            )
        if not copies:
            break
        lost = _lost(archives, copies)
        with deps.uow() as uow:
            if not uow.migrations.heartbeat(move.id, lease_for=deps.policy.lease_for):
                return None
            if lost and give_up:
                raise _copies_lost(uow, move, lost)
            kept = [copy.document_id for copy in copies if copy.document_id not in lost]
            uow.copies.record_verified(move.id, kept)
            forgotten += uow.copies.forget(move.id, lost)
            uow.commit()
        after = copies[-1].document_id
    if deps.stopping.is_set():
        return None
    if forgotten:
        log.warning(
            "migration %s: the target store %s lacks %s copies recorded; they are copied again",
            move.id,
            move.target_store,
            forgotten,
        )
    return forgotten


def _copies_lost(uow: UnitOfWork, move: _Move, lost: Collection[int]) -> ArchiveError:
    """The failure of a move whose target store keeps losing these copies, naming the
    first few documents (the log and the records have them all)."""
    documents = (uow.documents.get(document_id) for document_id in lost)
    names = sorted(document.filename for document in documents if document)
    return ArchiveError(
        "copies_lost",
        store=move.target_store,
        count=len(lost),
        filenames=", ".join(names[:_NAMED]),
    )


def _lost(archives: ArchiveStores, copies: Sequence[DocumentCopy]) -> set[int]:
    """The ids of the documents whose copy's blob its store does not hold with the copy's
    size, asked of each store once for the lot (``ArchiveStore.sizes``). An error of the
    store names it as the target."""
    by_store: dict[str, list[DocumentCopy]] = {}
    for copy in copies:
        by_store.setdefault(copy.archive_store, []).append(copy)
    lost = set()
    for name, held in by_store.items():
        with _as_target():
            sizes = archives.store(name).sizes({copy.blob_key for copy in held})
        lost |= {copy.document_id for copy in held if sizes.get(copy.blob_key) != copy.size}
    return lost


@contextmanager
def _as_target() -> Iterator[None]:
    """An archive error inside names its store as the move's target."""
    try:
        yield
    except ArchiveError as error:
        named = in_role(error, "target")
        if named is error:
            raise
        raise named from error


def _uncopied(
    deps: Dependencies,
    move: _Move,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Document]:
    with deps.uow() as uow:
        return uow.documents.list_uncopied(
            move.administration_id,
            move.id,
            after_id=after_id,
            up_to_id=up_to_id,
            limit=deps.policy.batch_size if limit is None else limit,
        )


def _fanned_out(deps: Dependencies, move: _Move) -> bool:
    """For an archive with more than a batch still to copy, records the totals as progress
    and enqueues its batches and the finishing job; whether it did (a smaller one is copied
    inline, and its batch's commit records the progress). The lease is renewed once they
    are enqueued: the first batch job has a whole lease to begin, however long the claim,
    the look at the target store and the planning took."""
    batch_size = deps.policy.batch_size
    if len(_uncopied(deps, move, limit=batch_size + 1)) <= batch_size:
        return False
    _record_progress_now(deps, move)
    deps.queue.enqueue_batches(move.id, _plan_batches(deps, move))
    _heartbeat(deps, move)
    return True


def _plan_batches(deps: Dependencies, move: _Move) -> list[DocumentBatch]:
    """The uncopied documents in id ranges of ``Policy.batches_per_job`` batches each, read
    a page at a time; ranges of fewer batches when that makes at least ``SHARED_JOBS``."""
    batches = []
    after = 0
    while documents := _uncopied(deps, move, after_id=after):
        batches.append((documents[0].id, documents[-1].id))
        after = documents[-1].id
    if not batches:
        return []
    jobs = max(
        math.ceil(len(batches) / deps.policy.batches_per_job), min(len(batches), SHARED_JOBS)
    )
    # Spread evenly: the first ``extra`` ranges get one batch more.
    per_job, extra = divmod(len(batches), jobs)
    planned = []
    start = 0
    for job in range(jobs):
        end = start + per_job + (1 if job < extra else 0)
        planned.append(DocumentBatch(move.id, batches[start][0], batches[end - 1][1]))
        start = end
    return planned


def _record_progress(uow: UnitOfWork, move: _Move) -> None:
    """Progress from the database: the archive as it is now, and what has a copy."""
    documents = uow.documents.totals(move.administration_id)
    copied = uow.copies.totals(move.id)
    uow.migrations.record_progress(
        move.id,
        documents_total=documents.documents,
        documents_done=copied.documents,
        bytes_total=documents.bytes,
        bytes_done=copied.bytes,
    )


def _record_progress_now(deps: Dependencies, move: _Move) -> None:
    with deps.uow() as uow:
        _record_progress(uow, move)
        uow.commit()


def _heartbeat(deps: Dependencies, move: _Move) -> bool:
    """Extends the lease in a transaction of its own; false when the migration is no longer
    Aan het verwerken, and the worker must stop."""
    with deps.uow() as uow:
        beating = uow.migrations.heartbeat(move.id, lease_for=deps.policy.lease_for)
        uow.commit()
    return beating


class _Lease:
    """The worker's hold on a migration while threads copy its files: whichever thread
    asks renews the lease (a heartbeat in a transaction of its own) once a third of it has
    passed. Once a heartbeat finds the migration no longer this worker's, it stays lost."""

    def __init__(self, deps: Dependencies, move: _Move) -> None:
        self._deps = deps
        self._move = move
        self._lock = threading.Lock()
        self._renewed_at = deps.clock.now()
        self._held = True

    def held(self) -> bool:
        with self._lock:
            now = self._deps.clock.now()
            if self._held and now - self._renewed_at >= self._deps.policy.lease_for / 3:
                self._held = _heartbeat(self._deps, self._move)
                self._renewed_at = now
            return self._held

    def renewed(self) -> None:
        """A commit renewed the lease."""
        with self._lock:
            self._renewed_at = self._deps.clock.now()


def _copy_uncopied(
    deps: Dependencies,
    archives: ArchiveStores,
    move: _Move,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    progress: bool = True,
) -> bool:
    """Copies the documents without a copy, ids above ``after_id`` (up to ``up_to_id``), a
    batch at a time: ``COPY_THREADS`` threads copy the files, and a batch's checkpoints are
    committed once every one of its files is copied and verified (with ``progress``, now
    and then, the progress), while the threads go on with the next batch. False, with the
    batch in hand not committed, when the migration is no longer this worker's; false, with
    the batch in hand committed, when the worker is asked to stop
    (``Dependencies.stopping``)."""
    target = archives.store(move.target_store)
    lease = _Lease(deps, move)
    pool = ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="migrationkit-copy")

    def started(documents: Sequence[Document]) -> list[Future[list[DocumentCopy] | None]]:
        # A share of the batch per thread, not a task per document: handing thousands of
        # small tasks to the pool cost a tenth of a move.
        share = math.ceil(len(documents) / COPY_THREADS) or 1
        return [
            pool.submit(_copy_share, lease, archives, target, documents[start : start + share])
            for start in range(0, len(documents), share)
        ]

    try:
        documents = _uncopied(deps, move, after_id=after_id, up_to_id=up_to_id)
        copying, began = started(documents), time.monotonic()
        counted_at: datetime | None = None
        while documents:
            copies = _copied(copying)
            if copies is None:
                return False
            # Asked to stop: this batch is committed, the next is not begun.
            stopping = deps.stopping.is_set()
            following = (
                []
                if stopping
                else _uncopied(deps, move, after_id=documents[-1].id, up_to_id=up_to_id)
            )
            # Counting the progress reads the whole archive: at the first and the last batch,
            # and at most every PROGRESS_EVERY in between (from before the next batch began).
            now = deps.clock.now()
            copying, batch_began, began = started(following), began, time.monotonic()
            count = progress and (
                counted_at is None or not following or now - counted_at >= PROGRESS_EVERY
            )
            if not _commit_copies(deps, move, lease, copies, progress=count):
                return False
            _committed(deps, move, copies, time.monotonic() - batch_began)
            counted_at = now if count else counted_at
            documents = following
        return not deps.stopping.is_set()
    finally:
        pool.shutdown(cancel_futures=True)


def _copy_share(
    lease: _Lease, archives: ArchiveStores, target: ArchiveStore, documents: Sequence[Document]
) -> list[DocumentCopy] | None:
    """The copies of these documents, one after the other; ``None``, copying no more, once
    the lease is lost."""
    copies = []
    for document in documents:
        if not lease.held():
            return None
        copies.append(_copy(archives.store(document.archive_store), target, document))
    return copies


def _copied(copying: Sequence[Future[list[DocumentCopy] | None]]) -> list[DocumentCopy] | None:
    """A batch's copies, in order, once each share is done; ``None`` when the lease was lost
    before one of them. A copy that failed raises its error here."""
    copies = []
    for future in copying:
        share = future.result()
        if share is None:
            return None
        copies.extend(share)
    return copies


def _commit_copies(
    deps: Dependencies,
    move: _Move,
    lease: _Lease,
    copies: Sequence[DocumentCopy],
    *,
    progress: bool,
) -> bool:
    """Commits a batch's checkpoints, with ``progress`` the progress, and a heartbeat in one
    transaction; false, committing nothing, when the migration is no longer this worker's."""
    with deps.uow() as uow:
        now = deps.clock.now()
        # The heartbeat first: on PostgreSQL it locks the migration's row, so batches that
        # commit at once take turns and each counts the others' copies.
        if not uow.migrations.heartbeat(move.id, lease_for=deps.policy.lease_for):
            return False
        uow.copies.add_many(move.id, copies, now)
        if progress:
            _record_progress(uow, move)
        uow.commit()
    lease.renewed()
    return True


def _committed(
    deps: Dependencies, move: _Move, copies: Sequence[DocumentCopy], seconds: float
) -> None:
    """Logs and counts a committed batch: its documents and bytes, and the seconds from
    the start of its copying to its commit."""
    copied = sum(copy.size for copy in copies)
    deps.metrics.batch_committed(documents=len(copies), bytes_copied=copied, seconds=seconds)
    log.info(
        "batch_committed",
        extra=move.ids | {"documents": len(copies), "bytes": copied, "seconds": seconds},
    )


def _copy(source: ArchiveStore, target: ArchiveStore, document: Document) -> DocumentCopy:
    """Copies one document's bytes into the target store, verified by its SHA-256; a
    failure becomes an ``ArchiveError`` that names the document."""
    try:
        blob = target.copy_from(
            source, document.blob_key, sha256=document.sha256, size=document.size
        )
    except FileNotFoundError as error:
        raise ArchiveError(
            "document_missing", filename=document.filename, store=source.name
        ) from error
    except OSError as error:
        store = f"{source.name} / {target.name}"
        raise ArchiveError("archive_unavailable", store=store) from error
    except ArchiveError as error:
        if error.code == "checksum_mismatch":
            raise ArchiveError("checksum_mismatch", filename=document.filename) from error
        named = in_role(error, "source" if error.params.get("store") == source.name else "target")
        if named is error:
            raise
        raise named from error
    return DocumentCopy(
        document_id=document.id,
        archive_store=target.name,
        blob_key=blob.key,
        sha256=blob.sha256,
        size=blob.size,
        source_store=source.name,
        source_key=document.blob_key,
    )


def _finish(
    deps: Dependencies, archives: ArchiveStores, move: _Move, *, copy_first: bool = False
) -> None:
    """Copies what is left (with ``copy_first`` before anything else: an archive of one
    batch, copied inline) and finishes; after a finish across stores, tries the steps after
    the finish at once (the sweeper wakes a worker again for what is left)."""
    completed = False
    with _failing(deps, move):
        completed = _copy_and_complete(deps, archives, move, copy_first=copy_first)
    if not completed:
        _hand_back_when_stopping(deps, move)
    elif not move.same_store:
        after_finish(deps, archives, move.id)


def _hand_back_when_stopping(deps: Dependencies, move: _Move) -> None:
    """A worker asked to stop, which ended the move's claim or finish early, gives the
    migration back (``moving.hand_back``) for the next worker to take over."""
    if deps.stopping.is_set():
        hand_back(deps, move.id, attempt=move.migration.attempts)


def _copy_and_complete(
    deps: Dependencies, archives: ArchiveStores, move: _Move, *, copy_first: bool = False
) -> bool:
    """Asks the target store about every copy recorded (``_verify_copies``), then finishes,
    after copying what is left when the counts say documents lack a copy (no scan of the
    archive when the batches copied everything) and asking the store about those copies,
    again while documents keep arriving or the target store loses copies (at most
    ``LOST_ROUNDS`` times); whether the migration is Voltooid. With ``copy_first`` the
    uncopied documents are copied before the store is asked (a small archive: no finish
    is tried only to learn that it has leftovers)."""
    if copy_first:
        # One batch, copied just now: the finish's transaction asks the store about each of
        # its copies (as about any recorded since the store was last asked), and its commit
        # records the progress.
        if not _copy_uncopied(deps, archives, move, progress=False):
            return False
    elif not move.same_store and _verify_copies(deps, archives, move) is None:
        return False
    lost_rounds = 0
    while (finished := _complete(deps, archives, move, lost_rounds)) is not _Finish.COMPLETED:
        if finished is _Finish.LOST:
            return False
        lost_rounds += finished is _Finish.COPIES_LOST
        if not _copy_uncopied(deps, archives, move):
            return False
        # What was copied since is asked about here, so the transaction asks about little.
        give_up = lost_rounds >= LOST_ROUNDS
        forgotten = _verify_copies(deps, archives, move, unverified=True, give_up=give_up)
        if forgotten is None:
            return False
        lost_rounds += forgotten > 0
    return True


def _complete(
    deps: Dependencies, archives: ArchiveStores, move: _Move, lost_rounds: int = 0
) -> _Finish:
    """The finish in one transaction, holding the administration so that no upload slips
    in between the last look for uncopied documents and the commit. On one store nothing
    per document is written. Across stores the checks come first: Voltooid only when every
    document has a copy of its size and SHA-256 and the counts and bytes agree, source
    against target, and the target store holds the copies recorded since its last look
    (``_lost_since_verified``); then the old addresses redirect to the new ones and the
    documents point at their copies."""
    with deps.uow() as uow:
        now = deps.clock.now()
        if not uow.migrations.heartbeat(move.id, lease_for=deps.policy.lease_for):
            return _Finish.LOST
        uow.administrations.lock(move.administration_id)
        documents = uow.documents.totals(move.administration_id)
        if not move.same_store:
            copied = uow.copies.totals(move.id)
            # Every copy is of one of its documents, which stay with it while it moves.
            if copied.documents < documents.documents:
                return _Finish.LEFTOVERS
            mismatched = uow.copies.list_mismatched(move.id, move.administration_id)
            if mismatched or copied != documents:
                raise ArchiveError(
                    "integrity_failed", missing=len(mismatched), total=documents.documents
                )
            give_up = lost_rounds >= LOST_ROUNDS
            if _lost_since_verified(deps, uow, archives, move, give_up=give_up):
                uow.commit()
                return _Finish.COPIES_LOST
            uow.redirects.add_for_migration(move.id, move.administration_id, now)
            uow.documents.point_at_copies(move.administration_id, move.id)
        uow.migrations.record_progress(
            move.id,
            documents_total=documents.documents,
            documents_done=documents.documents,
            bytes_total=documents.bytes,
            bytes_done=documents.bytes,
        )
        complete_within(uow, move.id, now, deps.policy.portal_url)
        if move.same_store:  # no address changed, no blob to let go
            uow.migrations.record_links_rewritten(move.id, now)
            uow.migrations.record_source_released(move.id, now)
        uow.commit()
    finished = attrs.evolve(
        move.migration, documents_total=documents.documents, bytes_total=documents.bytes
    )
    completed(deps, finished, move.offer_id)
    return _Finish.COMPLETED


def _lost_since_verified(
    deps: Dependencies, uow: UnitOfWork, archives: ArchiveStores, move: _Move, *, give_up: bool
) -> int:
    """Inside the finishing transaction: asks the target store about the copies recorded
    since its last look, a page at a time, and forgets those it does not hold; how many.
    With ``give_up``, a lost copy fails the move instead, naming the documents."""
    forgotten = 0
    after = 0
    page = deps.policy.batch_size
    while copies := uow.copies.list_page(
        move.id, after_document_id=after, limit=page, unverified=True
    ):
        lost = _lost(archives, copies)
        if lost and give_up:
            raise _copies_lost(uow, move, lost)
        forgotten += uow.copies.forget(move.id, lost)
        after = copies[-1].document_id
    return forgotten


#: How many documents a failure names (the log and the copies' records have them all).
_NAMED = 5


# --- after the finish ----------------------------------------------------------------------

#: How many times the package's links are tried (at the finish, then once per sweep) before
#: the recipient is told that they were not rewritten.
LINK_ATTEMPTS = 5


def after_finish(deps: Dependencies, archives: ArchiveStores, migration_id: int) -> None:
    """The steps after a finish across stores that are due, each recorded on the migration
    once done and harmless when done twice: the package's links are rewritten (at most
    ``LINK_ATTEMPTS`` tries), and once ``Policy.release_source_after`` has passed since the
    finish, the source's blobs are released. Neither undoes Voltooid. Does nothing for a
    migration that is not Voltooid, or has nothing due."""
    with deps.uow() as uow:
        migration = _load.migration(uow, migration_id)
    if migration.finished_at is None:
        return
    if migration.links_rewritten_at is None and migration.links_attempts < LINK_ATTEMPTS:
        _relink(deps, migration)
    released_before = deps.clock.now() - deps.policy.release_source_after
    if migration.source_released_at is None and migration.finished_at < released_before:
        _release_source(deps, archives, migration)


def _relink(deps: Dependencies, migration: Migration) -> None:
    """One try at pointing the package's links at the documents' new addresses, when its
    connector can; the last try that fails tells the recipient. Meanwhile the old links
    keep working through the redirects."""
    attempt = migration.links_attempts + 1
    with deps.uow() as uow:
        connection = _load.connection(
            uow, migration.target.connection_id, migration.target_environment_id
        )
        connector = deps.connectors.connector_for(connection)
        if not connector.can_rewrite_links:  # nothing to try: the redirects serve
            uow.migrations.record_links_rewritten(migration.id, deps.clock.now())
            uow.commit()
            return
        # Of two workers that try at once, one holds this try.
        if not uow.migrations.start_links_attempt(
            migration.id, attempts_seen=migration.links_attempts
        ):
            return
        uow.commit()
    if connector.can_rewrite_links:
        try:
            for copies in _copy_pages(deps, migration.id):
                links = {
                    _link(deps, copy.source_store, copy.document_id): _link(
                        deps, copy.archive_store, copy.document_id
                    )
                    for copy in copies
                    if copy.source_store != copy.archive_store
                }
                if links:
                    connector.rewrite_links(connection, migration.target.package_admin_id, links)
        except PackageError as error:
            log.warning(
                "migration %s: links in the package not rewritten (try %s of %s): %s",
                migration.id,
                attempt,
                LINK_ATTEMPTS,
                error.message("en"),
            )
            if attempt == LINK_ATTEMPTS:
                _report_links_not_rewritten(deps, migration, error)
            return
    with deps.uow() as uow:
        uow.migrations.record_links_rewritten(migration.id, deps.clock.now())
        uow.commit()


def _copy_pages(deps: Dependencies, migration_id: int) -> Iterator[Sequence[DocumentCopy]]:
    """The migration's copies, a batch at a time."""
    after = 0
    while True:
        with deps.uow() as uow:
            copies = uow.copies.list_page(
                migration_id, after_document_id=after, limit=deps.policy.batch_size
            )
        if not copies:
            return
        yield copies
        after = copies[-1].document_id


def _link(deps: Dependencies, store: str, document_id: int) -> str:
    """A link to a document as the package holds it: the portal's URL and the address."""
    portal = deps.policy.portal_url.rstrip("/")
    return f"{portal}{DOCUMENTS_PATH}{document_address(store, document_id)}"


def _report_links_not_rewritten(
    deps: Dependencies, migration: Migration, error: PackageError
) -> None:
    """Tells the recipient; the old links keep working through the redirects."""
    log.error(
        "migration %s: links in the package not rewritten, given up: %s",
        migration.id,
        error.message("en"),
    )
    with deps.uow() as uow:
        item = _load.item(uow, migration.item_id)
        recipient = _load.redeemer(uow, _load.offer(uow, item.offer_id))
        letter = _emails.links_not_rewritten(
            recipient.email, item, migration.target.code, error.message
        )
        _emails.post(uow, letter, deps.clock.now())
        uow.commit()


def _release_source(deps: Dependencies, archives: ArchiveStores, migration: Migration) -> None:
    """Deletes the source blobs of the migration's copies that may go (``_let_go``), a page
    of copies at a time, and records the release once every one of them is gone; a blob
    that cannot be deleted now, or is kept in doubt, stays, and a later sweep tries again."""
    released = True
    for copies in _copy_pages(deps, migration.id):
        released = _let_go(deps, archives, copies) and released
    if released:
        with deps.uow() as uow:
            uow.migrations.record_source_released(migration.id, deps.clock.now())
            uow.commit()


def _let_go(deps: Dependencies, archives: ArchiveStores, copies: Sequence[DocumentCopy]) -> bool:
    """Deletes the source blob of each of these copies, only when the target store holds
    the copy (asked of the store itself; a copy it lost is copied again from the source
    first) and no document on the source store refers to the blob (blobs are
    content-addressed, so another document may share one). Both are checked, and the blob
    deleted, while the transaction holds the blob (``hold_blobs``): an upload of the same
    bytes into the source store either came first, and its document keeps the blob, or
    comes after and writes it again. A blob in doubt (a store that cannot be asked) stays.
    Whether every blob that may go is gone."""
    moved = [c for c in copies if (c.source_store, c.source_key) != (c.archive_store, c.blob_key)]
    sources: dict[str, dict[str, list[DocumentCopy]]] = {}
    for copy in moved:
        sources.setdefault(copy.source_store, {}).setdefault(copy.source_key, []).append(copy)
    try:
        kept = _restored(archives, moved)
        with deps.uow() as uow:
            for store, keyed in sorted(sources.items()):
                uow.documents.hold_blobs(store, keyed.keys())
            gone = not kept
            for store, keyed in sorted(sources.items()):
                referenced = uow.documents.referenced_keys(store, keyed.keys())
                free = {
                    key: held
                    for key, held in keyed.items()
                    if key not in referenced and not any(c.document_id in kept for c in held)
                }
                # The target once more, now: what it lost since is kept in the source.
                lost = _lost(archives, [copy for held in free.values() for copy in held])
                for key, held in sorted(free.items()):
                    if any(copy.document_id in lost for copy in held):
                        gone = False
                    else:
                        archives.store(store).delete(key)
            uow.commit()
    except (ArchiveError, OSError) as error:
        log.warning("source blobs kept, a later sweep tries again: %s%s", error, _cause(error))
        return False
    return gone


def _restored(archives: ArchiveStores, copies: Sequence[DocumentCopy]) -> set[int]:
    """Copies again from the source the copies that the target store lost since the move
    (verified by SHA-256); the ids of the documents whose copy could not be made again, so
    that their source blobs stay."""
    kept = set()
    for copy in copies:
        if copy.document_id not in _lost(archives, [copy]):
            continue
        target, source = archives.store(copy.archive_store), archives.store(copy.source_store)
        try:
            target.copy_from(source, copy.source_key, sha256=copy.sha256, size=copy.size)
        except (ArchiveError, OSError) as error:
            log.warning(
                "document %s: the target store %s lost its copy, and it could not be copied"
                " again from %s (%s%s); its source blob stays",
                copy.document_id,
                target.name,
                source.name,
                error,
                _cause(error),
            )
            kept.add(copy.document_id)
        else:
            log.warning(
                "document %s: the target store %s lost its copy; copied again from %s",
                copy.document_id,
                target.name,
                source.name,
            )
    return kept
