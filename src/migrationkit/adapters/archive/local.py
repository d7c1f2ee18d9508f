"""The archive on a local (or mounted) filesystem."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from migrationkit.adapters.archive._blobs import (
    blob_key,
    checksum_mismatch,
    copy_hashing,
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


class LocalArchiveStore(ArchiveStore):
    """Blobs as files under ``root``, content-addressed: a blob's key is ``ab/cd/<sha256>``
    and its bytes never change, so a copy on the same filesystem is a hard link.

    A new blob is written to a temporary file in ``root/.tmp`` (the same filesystem), hashed
    as it streams, flushed to disk with ``fsync`` and only then linked into place, so a key
    never shows a half-written file; a blob already at its key is kept (the same bytes). A
    crash may leave a temporary file in ``.tmp``, never a wrong blob. Errors of the disk
    (full, read-only, gone) raise ``ArchiveError("archive_unavailable")``.
    """

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def __repr__(self) -> str:
        return f"LocalArchiveStore({self.name!r}, {str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where the blob at ``key`` lives; ``FileNotFoundError`` for what is not a key."""
        if not is_blob_key(key):
            raise FileNotFoundError(f"archive {self.name} has no blob {key!r}")
        return self.root / key

    def write(self, stream: BinaryIO) -> StoredBlob:
        with self._unavailable(), self._temporary() as temporary:
            sha256, size = copy_hashing(stream, temporary)
            self._publish(temporary, blob_key(sha256))
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=size)

    def open(self, key: str) -> BinaryIO:
        """The blob's bytes; ``FileNotFoundError`` when there is no blob at ``key``."""
        with self._unavailable():
            return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        with self._unavailable():
            return is_blob_key(key) and self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Deleting what is not there is no error."""
        if is_blob_key(key):
            with self._unavailable():
                self.path(key).unlink(missing_ok=True)

    def copy_from(self, source: ArchiveStore, key: str, *, sha256: str) -> StoredBlob:
        """A hard link from a local store on the same filesystem; a copy inside the kernel
        (``copy_file_range``, else ``sendfile``) from one on another filesystem; a stream
        from any other store. Each way hashes the bytes now at the new key."""
        with self._unavailable():
            if isinstance(source, LocalArchiveStore):
                source_path = source.path(key)
                linked = self._link(source_path, key, sha256)
                if linked is not None:
                    return linked
                with source_path.open("rb") as stream, self._temporary() as temporary:
                    _copy_in_kernel(stream, temporary, os.fstat(stream.fileno()).st_size)
                    temporary.seek(0)
                    actual = hashlib.file_digest(temporary, "sha256").hexdigest()
                    return self._publish_verified(temporary, key, sha256, actual)
            with source.open(key) as stream, self._temporary() as temporary:
                actual, _ = copy_hashing(stream, temporary)
                return self._publish_verified(temporary, key, sha256, actual)

    def _link(self, source_path: Path, key: str, sha256: str) -> StoredBlob | None:
        """Links the source blob into place and verifies it; ``None`` when the filesystem
        cannot link it here (another filesystem, say)."""
        target = self.root / blob_key(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source_path, target)
            made = True
        except FileExistsError:
            made = False
        except OSError as error:
            if error.errno in _CANNOT_HERE:
                return None
            raise
        with target.open("rb") as blob:
            if hashlib.file_digest(blob, "sha256").hexdigest() != sha256:
                if made:
                    target.unlink()
                raise checksum_mismatch(key)
            size = os.fstat(blob.fileno()).st_size
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=size)

    def _publish_verified(
        self, temporary: io.BufferedRandom, key: str, sha256: str, actual: str
    ) -> StoredBlob:
        """Puts a copied temporary file in place when its bytes hashed to ``sha256``."""
        if actual != sha256:
            raise checksum_mismatch(key)
        self._publish(temporary, blob_key(sha256))
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=temporary.tell())

    def _publish(self, temporary: io.BufferedRandom, key: str) -> None:
        """Makes the complete temporary file the blob at ``key``: to disk first, then linked
        under its name in one step, keeping a blob that is there already."""
        target = self.root / key
        if target.exists():
            return
        temporary.flush()
        os.fsync(temporary.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(temporary.name, target)
        except FileExistsError:
            return

    @contextmanager
    def _temporary(self) -> Iterator[io.BufferedRandom]:
        """A new temporary file in this store's root, open for writing and reading; gone on
        leaving (its bytes stay only where ``_publish`` linked them)."""
        folder = self.root / ".tmp"
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=folder, prefix="blob-")
        os.close(descriptor)
        try:
            with open(name, "w+b") as temporary:
                yield temporary
        finally:
            os.unlink(name)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Turns a failing disk into ``ArchiveError("archive_unavailable")``; a missing blob
        stays ``FileNotFoundError``."""
        try:
            yield
        except FileNotFoundError:
            raise
        except OSError as error:
            raise ArchiveError("archive_unavailable", store=self.name) from error


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
