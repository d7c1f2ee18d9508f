"""What the archive stores share: the content-addressed key of a blob and a hashing copy."""

from __future__ import annotations

import errno
import hashlib
import re
from typing import BinaryIO

from migrationkit.domain.errors import ArchiveError

#: How much a store reads at a time from a stream: big enough for few system calls, small
#: enough that no file is ever held in memory whole.
CHUNK_SIZE = 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


def blob_key(sha256: str) -> str:
    """The key of the blob with this SHA-256 (lowercase hex): ``ab/cd/abcd...``, so no folder
    of a local store holds more than a few thousand files."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 in lowercase hex: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def is_blob_key(key: str) -> bool:
    """Whether ``key`` is a key that ``blob_key`` makes (and so safe as a relative path)."""
    match = _KEY.fullmatch(key)
    return match is not None and match[3].startswith(match[1] + match[2])


def copy_hashing(source: BinaryIO, target: BinaryIO) -> tuple[str, int]:
    """Copies ``source`` to ``target`` a chunk at a time; the SHA-256 and size of the bytes."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def checksum_mismatch(key: str) -> ArchiveError:
    """The error for bytes under ``key`` whose SHA-256 is not the expected one."""
    return ArchiveError("checksum_mismatch", filename=key)


#: What a disk's error number says about a store (``disk_error``).
_DISK_TROUBLES = {
    errno.ENOSPC: "archive_full",
    errno.EDQUOT: "archive_full",
    errno.EROFS: "archive_read_only",
    errno.EACCES: "archive_no_permission",
    errno.EPERM: "archive_no_permission",
    errno.ENOENT: "archive_folder_missing",
}


def disk_error(store: str, error: OSError) -> ArchiveError:
    """What an error of the disk means for ``store``: full, read-only, no permission, its
    folder gone, or else ``archive_unavailable``. A missing blob is not among them: the
    stores raise ``FileNotFoundError`` for that, and call this only for their folders."""
    code = _DISK_TROUBLES.get(error.errno or 0)
    if code is None:
        return ArchiveError("archive_unavailable", store=store)
    return ArchiveError(code, store=store)
