"""The archive on a local (or mounted) filesystem."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import secrets
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from migrationkit.adapters.archive._blobs import (
    CHUNK_SIZE,
    blob_key,
    checksum_mismatch,
    copy_hashing,
    disk_error,
    is_blob_key,
)
from migrationkit.domain.errors import ArchiveError
from migrationkit.ports import ArchiveStore, StoredBlob

#: Why ``os.link`` or ``os.copy_file_range`` refuses a pair of files that another way can
#: still copy: another filesystem, a filesystem without the call, too many links to a blob,
#: a blob that the kernel's link protection keeps another user from linking.
_CANNOT_HERE = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EMLINK, errno.EPERM}
)


#: A temporary file untouched for this long was left by a process killed half-way through a
#: copy: one being written is touched at each chunk, and published within seconds after.
STALE_TEMPORARY_SECONDS = 3600

#: A link whose folder vanishes again each time it is made is given up after this many tries.
_LINK_ATTEMPTS = 3


class LocalArchiveStore(ArchiveStore):
    """Blobs as files under ``root``, content-addressed: a blob's key is ``ab/cd/<sha256>``
    and its bytes never change, so a copy on the same filesystem is a hard link.

    A new blob is written to a temporary file in ``root/.tmp`` (the same filesystem), hashed
    as it streams, flushed to disk with ``fsync`` and only then linked into place, read-only
    (a hard link shares it with other stores), so a key never shows a half-written file; a
    blob already at its key is kept (the same bytes). A crash may leave a temporary file in
    ``.tmp``, never a wrong blob; the first write or copy in each process deletes the
    temporary files older than ``STALE_TEMPORARY_SECONDS``.

    The first write or copy in each process also makes the store's folder when it is not
    there yet; a folder that goes missing after that (a volume unmounted, a folder deleted)
    is reported as missing, never made again under it, so nothing is written where the
    archive no longer is. Errors of the disk each raise their own ``ArchiveError`` naming
    the store (``disk_error``): full, read-only, no permission, its folder missing, or else
    ``archive_unavailable``; a missing blob raises ``FileNotFoundError``.
    """

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self._root = os.fspath(root)
        #: The process that cleared the stale temporary files (a forked one has not).
        self._cleared_in: int | None = None
        #: The folders inside the store that this process made or found (``_link``).
        self._folders: set[str] = set()
        #: The folders of the local stores on another filesystem, which cannot be linked.
        self._unlinkable: set[str] = set()

    def __repr__(self) -> str:
        return f"LocalArchiveStore({self.name!r}, {self._root!r})"

    def path(self, key: str) -> Path:
        """Where the blob at ``key`` lives; ``FileNotFoundError`` for what is not a key."""
        return Path(self._file(key))

    def write(self, stream: BinaryIO) -> StoredBlob:
        self._prepare()
        with self._unavailable(), self._temporary() as temporary:
            sha256, _ = copy_hashing(stream, temporary)
            return self._publish(temporary, sha256)

    def open(self, key: str) -> BinaryIO:
        """The blob's bytes; ``FileNotFoundError`` when there is no blob at ``key``."""
        with self._unavailable():
            return open(self._file(key), "rb")

    def exists(self, key: str) -> bool:
        with self._unavailable():
            return is_blob_key(key) and os.path.isfile(self._file(key))

    def sizes(self, keys: Collection[str]) -> dict[str, int]:
        """A ``stat`` per blob: its inode's size (a hard link's too), no byte read."""
        found = {}
        with self._unavailable():
            for key in keys:
                if is_blob_key(key):
                    with suppress(FileNotFoundError):
                        found[key] = os.stat(self._file(key)).st_size
        return found

    def delete(self, key: str) -> None:
        """Deleting what is not there is no error."""
        with self._unavailable(), suppress(FileNotFoundError):
            os.unlink(self._file(key))

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        """A hard link from a local store on the same filesystem; a copy inside the kernel
        (``copy_file_range``, else ``sendfile``) from one on another filesystem; a stream
        from any other store. A real copy's bytes are hashed at the new key. A hard link is
        the source's own file (one inode), so its bytes are the source's, hashed when they
        were written: given the expected ``size``, a link is verified by its inode and size
        and not read again. An error of the source's disk names the source."""
        self._prepare()
        with self._unavailable():
            if isinstance(source, LocalArchiveStore):
                return self._copy_file(source, key, sha256, size)
            with source.open(key) as stream, self._temporary() as temporary:
                actual, _ = copy_hashing(stream, temporary)
                if actual != sha256:
                    raise checksum_mismatch(key)
                return self._publish(temporary, sha256)

    def _copy_file(
        self, store: LocalArchiveStore, key: str, sha256: str, size: int | None
    ) -> StoredBlob:
        """Links the source's file into place, or copies it when the two are on different
        filesystems: a file of at most a chunk is read once and hashed as it is written, a
        bigger one is copied in the kernel and hashed at the new key. A link whose size is
        not known is hashed too."""
        source = store._file(key)
        target = self._file(blob_key(sha256))
        if store._root not in self._unlinkable:
            try:
                made = self._link(source, target)
            except OSError as error:
                if error.errno not in _CANNOT_HERE:
                    raise
                if error.errno == errno.EXDEV:  # another filesystem: no link will do
                    self._unlinkable.add(store._root)
            else:
                return self._verify_link(source, target, made, key, sha256, size)
        with store._unavailable():
            stream = open(source, "rb")  # noqa: SIM115 (closed by the with below)
        with stream, self._temporary() as temporary:
            length = os.fstat(stream.fileno()).st_size
            if length <= CHUNK_SIZE:  # read once, hashed in memory, written
                data = stream.read()
                if hashlib.sha256(data).hexdigest() != sha256:
                    raise checksum_mismatch(key)
                temporary.write(data)
            else:
                _copy_in_kernel(stream, temporary, length)
                temporary.seek(0)
                if hashlib.file_digest(temporary, "sha256").hexdigest() != sha256:
                    raise checksum_mismatch(key)
            return self._publish(temporary, sha256)

    def _verify_link(
        self, source: str, target: str, made: bool, key: str, sha256: str, size: int | None
    ) -> StoredBlob:
        """The blob at ``target`` once ``source`` was linked there (``made``) or found there:
        the source's own inode of the expected size needs no read; anything else is hashed.
        A link of other bytes is undone."""
        held = os.stat(target)
        same = made or _same_file(held, os.stat(source))
        if size is not None and same:
            if held.st_size != size:
                if made:
                    os.unlink(target)
                raise checksum_mismatch(key)
        else:
            with open(target, "rb") as blob:
                if hashlib.file_digest(blob, "sha256").hexdigest() != sha256:
                    if made:
                        os.unlink(target)
                    raise checksum_mismatch(key)
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=held.st_size)

    def _publish(self, temporary: io.BufferedRandom, sha256: str) -> StoredBlob:
        """Makes the complete temporary file the blob ``sha256``: to disk first, then linked
        under its name in one step, keeping a blob that is there already."""
        temporary.flush()
        size = os.fstat(temporary.fileno()).st_size
        target = self._file(blob_key(sha256))
        if not os.path.exists(target):
            os.fchmod(temporary.fileno(), 0o444)
            os.fsync(temporary.fileno())
            try:
                self._link(temporary.name, target)
            except FileNotFoundError:  # the temporary file went with the store's folder
                raise ArchiveError("archive_folder_missing", store=self.name) from None
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=size)

    def _file(self, key: str) -> str:
        if not is_blob_key(key):
            raise FileNotFoundError(f"archive {self.name} has no blob {key!r}")
        return f"{self._root}/{key}"

    def _link(self, existing: str, target: str) -> bool:
        """Links ``existing`` under the name ``target``, making its ``ab/cd`` folder first
        when this process has not made or seen it yet (cheaper than a link that fails
        first); false when a blob is there already (blobs never change: the same bytes).
        ``FileNotFoundError`` only when ``existing`` is missing: a target folder that goes
        away meanwhile (another thread's copy may have made it just before) is this store's
        ``archive_folder_missing``, never a document missing from the source."""
        folder = os.path.dirname(target)
        if folder not in self._folders:
            self._folder(folder)
        for _ in range(_LINK_ATTEMPTS):
            try:
                os.link(existing, target)
            except FileExistsError:
                return False
            except FileNotFoundError:
                if not os.path.lexists(existing):
                    raise
                self._folders.discard(folder)
                self._folder(folder)
            else:
                return True
        raise ArchiveError("archive_folder_missing", store=self.name)

    def _folder(self, path: str) -> None:
        """Makes a folder inside the store's, one level at a time so that the store's own
        folder is never made again here, and remembers it: ``archive_folder_missing`` when
        the store's folder is gone (a volume unmounted), even when it goes between two steps."""
        if not path.startswith(f"{self._root}/"):
            raise ValueError(f"{path!r} is not inside the archive {self.name}")
        made = self._root
        for part in path[len(self._root) + 1 :].split("/"):
            made = f"{made}/{part}"
            try:
                os.mkdir(made)
            except FileExistsError:
                continue
            except FileNotFoundError:
                raise ArchiveError("archive_folder_missing", store=self.name) from None
        self._folders.add(path)

    def _prepare(self) -> None:
        """Once per process: makes the store's folder if it is not there yet, and deletes
        the temporary files that a process killed half-way through a copy left in
        ``.tmp``. Two threads doing it at once do no harm."""
        if self._cleared_in == os.getpid():
            return
        stale_before = time.time() - STALE_TEMPORARY_SECONDS
        with self._unavailable():
            os.makedirs(self._root, exist_ok=True)
            self._cleared_in = os.getpid()
            try:
                entries = os.scandir(f"{self._root}/.tmp")
            except FileNotFoundError:
                return
            with entries:
                for entry in entries:
                    with suppress(FileNotFoundError):
                        if entry.stat().st_mtime < stale_before:
                            os.unlink(entry.path)

    @contextmanager
    def _temporary(self) -> Iterator[io.BufferedRandom]:
        """A new temporary file in this store's root, open for writing and reading; gone on
        leaving (its bytes stay only where ``_publish`` linked them)."""
        name = f"{self._root}/.tmp/{secrets.token_hex(8)}"
        try:
            temporary = open(name, "x+b")  # noqa: SIM115 (closed below, before the unlink)
        except FileNotFoundError:
            self._folder(os.path.dirname(name))
            temporary = open(name, "x+b")  # noqa: SIM115
        try:
            with temporary:
                yield temporary
        finally:
            with suppress(FileNotFoundError):  # the store's folder went missing meanwhile
                os.unlink(name)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Turns an error of the disk into the ``ArchiveError`` that says what it is
        (``disk_error``); a missing blob stays ``FileNotFoundError``."""
        try:
            yield
        except FileNotFoundError:
            raise
        except OSError as error:
            raise disk_error(self.name, error) from error


def _same_file(one: os.stat_result, other: os.stat_result) -> bool:
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


def _copy_in_kernel(source: BinaryIO, target: BinaryIO, size: int) -> None:
    """Copies ``size`` bytes from one open file to another without passing them through
    Python: ``copy_file_range`` (which reflinks where the filesystem can), or ``sendfile``
    where the kernel refuses ``copy_file_range`` between these two filesystems."""
    copy_range = True
    done = 0
    while done < size:
        try:
            if copy_range:
                step = os.copy_file_range(source.fileno(), target.fileno(), size - done)
            else:
                step = os.sendfile(target.fileno(), source.fileno(), None, size - done)
        except OSError as error:
            if not copy_range or done or error.errno not in _CANNOT_HERE:
                raise
            copy_range = False
            continue
        if step == 0:
            return
        done += step
