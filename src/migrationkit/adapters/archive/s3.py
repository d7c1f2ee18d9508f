"""The archive in an S3-compatible object store (AWS S3, MinIO, Ceph...), through boto3.

Needs the ``objectstore`` extra.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, BinaryIO

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from migrationkit.adapters.archive._blobs import (
    CHUNK_SIZE,
    blob_key,
    checksum_mismatch,
    copy_hashing,
    is_blob_key,
)
from migrationkit.adapters.archive.local import LocalArchiveStore
from migrationkit.domain.errors import ArchiveError
from migrationkit.ports import ArchiveStore, StoredBlob

#: A stream up to this size is spooled in memory before its upload; a bigger one on disk.
SPOOL_IN_MEMORY = CHUNK_SIZE

#: The error codes of a key that is not there (``HeadObject`` has no body, so only "404").
_MISSING = frozenset({"NoSuchKey", "NotFound", "404"})
#: The error codes of bytes that do not match the checksum sent with them.
_BAD_DIGEST = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})
#: What other error codes of the server say about the store (as ``disk_error`` does for a
#: folder); any code not here makes it ``archive_unavailable``.
_TROUBLES = {
    "NoSuchBucket": "archive_folder_missing",
    "AccessDenied": "archive_no_permission",
    "AllAccessDisabled": "archive_no_permission",
    "InvalidAccessKeyId": "archive_no_permission",
    "SignatureDoesNotMatch": "archive_no_permission",
    "QuotaExceeded": "archive_full",
}
#: How many ``HeadObject`` requests ``sizes`` has in flight at once.
HEAD_THREADS = 8


def make_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """An S3 client with the credentials of the standard AWS environment variables (or
    the other places boto3 looks), a few retries and path-style addresses for an own
    endpoint (what MinIO, Ceph and the like expect)."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=60,
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


class S3ArchiveStore(ArchiveStore):
    """Blobs as objects ``<prefix>/ab/cd/<sha256>`` in ``bucket``, content-addressed like
    the local store, each stored with its SHA-256 as the object's checksum.

    Writing a stream: the key is the digest, known only after the last byte, so the stream
    is first spooled (in memory up to ``SPOOL_IN_MEMORY``, in a local temporary file beyond)
    and hashed on the way, then sent in one PUT that carries the digest, which the server
    checks. That was chosen over an upload to a temporary key followed by a server-side
    copy and a delete: one request instead of three, no stray object when a worker dies
    half-way, and no blob ever visible under its key with unchecked bytes. A blob that is
    there already with the same checksum is not sent again. One PUT or copy holds at most
    5 GiB, far above any document.

    ``copy_from`` works on the server when the source is an ``S3ArchiveStore`` on the same
    client (so the same endpoint and credentials: ``archive_stores`` gives the stores of
    one endpoint one client): a ``CopyObject`` asking for a SHA-256 checksum, which the
    server computes from the copied bytes and reports on a ``HeadObject``; that is the
    verification, and no byte passes through the worker. A server that keeps no checksums
    is verified by reading the copy back. From a local store the file is hashed, then sent
    with its digest; from any other store it is streamed like a write.

    A missing key raises ``FileNotFoundError``; a missing bucket, a refused permission or
    a full quota its own ``ArchiveError`` naming the store; a server that cannot be reached
    or refuses otherwise ``ArchiveError("archive_unavailable")``.
    """

    def __init__(self, name: str, bucket: str, prefix: str, client: Any) -> None:
        self.name = name
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def __repr__(self) -> str:
        return f"S3ArchiveStore({self.name!r}, {self.bucket!r}, {self.prefix!r})"

    def object_name(self, key: str) -> str:
        """The name of the object that holds the blob at ``key``."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, stream: BinaryIO) -> StoredBlob:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            sha256, size = copy_hashing(stream, spool)  # type: ignore[arg-type]
            spool.seek(0)
            with self._errors(blob_key(sha256)):
                self._put(spool, sha256)  # type: ignore[arg-type]
        return StoredBlob(key=blob_key(sha256), sha256=sha256, size=size)

    def open(self, key: str) -> io.BufferedReader:
        """The blob's bytes, streamed from the server as they are read."""
        with self._errors(key):
            if not is_blob_key(key):
                raise FileNotFoundError(f"archive {self.name} has no blob {key!r}")
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        return io.BufferedReader(_ObjectBody(response["Body"], self.name), CHUNK_SIZE)

    def exists(self, key: str) -> bool:
        with self._errors(key):
            return is_blob_key(key) and self._head(key) is not None

    def sizes(self, keys: Collection[str]) -> dict[str, int]:
        """A ``HeadObject`` per blob, ``HEAD_THREADS`` at a time: the stored size, no byte
        read. (A listing would read every object under the prefix, other archives' too.)"""
        wanted = sorted(key for key in set(keys) if is_blob_key(key))
        with self._errors(""), ThreadPoolExecutor(HEAD_THREADS) as pool:
            heads = list(pool.map(self._head, wanted))
        return {key: head["ContentLength"] for key, head in zip(wanted, heads, strict=True) if head}

    def delete(self, key: str) -> None:
        """Deleting what is not there is no error."""
        if is_blob_key(key):
            with self._errors(key):
                self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def copy_from(
        self, source: ArchiveStore, key: str, *, sha256: str, size: int | None = None
    ) -> StoredBlob:
        target = blob_key(sha256)
        with self._errors(key):
            if (size := self._stored_size(target, sha256)) is not None:
                return StoredBlob(key=target, sha256=sha256, size=size)
            if isinstance(source, S3ArchiveStore) and source.client is self.client:
                size = self._copy_on_server(source, key, sha256)
            elif isinstance(source, LocalArchiveStore):
                with source.path(key).open("rb") as blob:
                    if hashlib.file_digest(blob, "sha256").hexdigest() != sha256:
                        raise checksum_mismatch(key)
                    size = blob.tell()
                    blob.seek(0)
                    self._put(blob, sha256)
            else:
                with (
                    source.open(key) as stream,
                    tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool,
                ):
                    actual, size = copy_hashing(stream, spool)  # type: ignore[arg-type]
                    if actual != sha256:
                        raise checksum_mismatch(key)
                    spool.seek(0)
                    self._put(spool, sha256)  # type: ignore[arg-type]
        return StoredBlob(key=target, sha256=sha256, size=size)

    def _copy_on_server(self, source: S3ArchiveStore, key: str, sha256: str) -> int:
        """Copies the source's object here inside the object store and checks the copy's
        SHA-256; its size. A copy that is not what it should be is deleted again."""
        target = blob_key(sha256)
        if not is_blob_key(key):
            raise FileNotFoundError(f"archive {source.name} has no blob {key!r}")
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self.object_name(target),
                CopySource={"Bucket": source.bucket, "Key": source.object_name(key)},
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as error:
            # Either bucket may be the one missing: name the source's when it is.
            code = error.response.get("Error", {}).get("Code")
            if code == "NoSuchBucket" and not source._bucket_exists():
                raise ArchiveError("archive_folder_missing", store=source.name) from error
            raise
        head = self._head(target)
        checksum = head.get("ChecksumSHA256") if head else None
        if checksum is None:
            with self.open(target) as copy:
                checksum = _checksum(hashlib.file_digest(copy, "sha256").hexdigest())
        if head is None or checksum != _checksum(sha256):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_name(target))
            raise checksum_mismatch(key)
        size: int = head["ContentLength"]
        return size

    def _bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket"}:
                return False
            raise
        return True

    def _put(self, body: BinaryIO, sha256: str) -> None:
        """Uploads bytes whose SHA-256 was checked as the blob ``sha256``, sending the digest
        so the server checks it too; nothing is sent when the blob is there already."""
        key = blob_key(sha256)
        if self._stored_size(key, sha256) is None:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_name(key),
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_checksum(sha256),
            )

    def _stored_size(self, key: str, sha256: str) -> int | None:
        """The size of the blob at ``key`` when it is there with this SHA-256 as its
        checksum; ``None`` otherwise."""
        head = self._head(key)
        if head is None or head.get("ChecksumSHA256") != _checksum(sha256):
            return None
        size: int = head["ContentLength"]
        return size

    def _head(self, key: str) -> Mapping[str, Any] | None:
        """The object's size and checksum, or ``None`` when there is no object at ``key``."""
        try:
            head: Mapping[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self.object_name(key), ChecksumMode="ENABLED"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return head

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Turns boto's errors into the port's: a missing key, bytes that do not match, or
        an archive that cannot be used now."""
        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MISSING:
                raise FileNotFoundError(f"archive {self.name} has no blob {key!r}") from None
            if code in _BAD_DIGEST:
                raise checksum_mismatch(key) from error
            if code in _TROUBLES:
                raise ArchiveError(_TROUBLES[code], store=self.name) from error
            raise ArchiveError("archive_unavailable", store=self.name) from error
        except BotoCoreError as error:
            raise ArchiveError("archive_unavailable", store=self.name) from error


class _ObjectBody(io.RawIOBase):
    """An object's body as it streams from the server, as a raw binary file; a broken
    stream raises ``ArchiveError("archive_unavailable")``."""

    def __init__(self, body: Any, store: str) -> None:
        self._body = body
        self._store = store

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data: bytes = self._body.read(len(view))
        except BotoCoreError as error:
            raise ArchiveError("archive_unavailable", store=self._store) from error
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _checksum(sha256: str) -> str:
    """A SHA-256 in hex as S3 writes it in a checksum: base64 of the digest's bytes."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
