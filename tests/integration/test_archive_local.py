"""The local archive store on real files: content addressing, streaming, and copies between
stores by hard link, inside the kernel, or as a stream, each verified by SHA-256."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_fixtures import SIZES, Zeros, blobs_in, corrupt, payload

from migrationkit.adapters.archive import (
    ConfiguredArchiveStores,
    LocalArchiveStore,
    archive_stores,
)
from migrationkit.domain.errors import ArchiveError
from migrationkit.testing import FakeArchiveStore


@pytest.fixture
def store(tmp_path: Path) -> LocalArchiveStore:
    return LocalArchiveStore("noord", tmp_path / "noord")


@pytest.fixture
def target(tmp_path: Path) -> LocalArchiveStore:
    return LocalArchiveStore("zuid", tmp_path / "zuid")


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[LocalArchiveStore]:
    """A store on another filesystem than ``tmp_path``: a folder in /dev/shm (tmpfs)."""
    shm = Path("/dev/shm")  # noqa: S108 (the store gets a private mkdtemp folder in it)
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        message = "needs /dev/shm on another filesystem than the temporary folder"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="mk-archive-"))
    yield LocalArchiveStore("oost", folder / "oost")
    shutil.rmtree(folder)


@pytest.mark.parametrize("size", SIZES)
def test_write_then_open_gives_the_same_bytes_under_their_sha256(
    store: LocalArchiveStore, size: int
) -> None:
    data = payload(size)
    sha256 = hashlib.sha256(data).hexdigest()

    blob = store.write(io.BytesIO(data))

    assert (blob.sha256, blob.size) == (sha256, size)
    assert blob.key == f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
    assert store.exists(blob.key)
    with store.open(blob.key) as stored:
        assert stored.read() == data
    assert blobs_in(store.root) == [store.root / blob.key]
    assert store.path(blob.key).stat().st_mode & 0o777 == 0o444


def test_the_same_bytes_twice_are_one_blob(store: LocalArchiveStore) -> None:
    first = store.write(io.BytesIO(b"factuur 2024-001"))
    second = store.write(io.BytesIO(b"factuur 2024-001"))

    assert first == second
    assert blobs_in(store.root) == [store.root / first.key]


def test_a_write_streams_without_holding_the_file_in_memory(store: LocalArchiveStore) -> None:
    size = 50 * 1024 * 1024
    tracemalloc.start()
    try:
        blob = store.write(io.BufferedReader(Zeros(size)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(bytes(size)).hexdigest()
    assert peak < 4 * 1024 * 1024


def test_missing_and_malformed_keys(store: LocalArchiveStore) -> None:
    blob = store.write(io.BytesIO(b"x"))
    store.delete(blob.key)

    for key in (blob.key, "../../etc/passwd", blob.sha256):
        assert not store.exists(key)
        with pytest.raises(FileNotFoundError):
            store.open(key)
        store.delete(key)


def test_copy_on_one_filesystem_is_a_hard_link_of_the_verified_blob(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    blob = store.write(io.BytesIO(payload(20_000)))

    copy = target.copy_from(store, blob.key, sha256=blob.sha256)
    again = target.copy_from(store, blob.key, sha256=blob.sha256)

    assert copy == again == blob
    assert os.stat(target.path(blob.key)).st_ino == os.stat(store.path(blob.key)).st_ino
    assert blobs_in(target.root) == [target.root / blob.key]


def bytes_read() -> int:
    """What this process read by system calls so far (Linux's /proc/self/io)."""
    with open("/proc/self/io") as io_counts:
        return next(int(line.split()[1]) for line in io_counts if line.startswith("rchar:"))


def test_a_hard_link_given_its_size_is_verified_by_inode_and_size_without_reading_it(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    size = 3 * 1024 * 1024
    blob = store.write(io.BytesIO(payload(size)))

    before = bytes_read()
    copy = target.copy_from(store, blob.key, sha256=blob.sha256, size=size)
    linked = bytes_read() - before
    again = target.copy_from(store, blob.key, sha256=blob.sha256, size=size)

    assert copy == again == blob
    assert os.stat(target.path(blob.key)).st_ino == os.stat(store.path(blob.key)).st_ino
    assert linked < size // 100  # a few stat calls' worth, none of the blob's bytes


def test_a_hard_link_of_another_size_than_expected_is_refused_and_undone(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    blob = store.write(io.BytesIO(b"the original bytes"))
    corrupt(store.path(blob.key), b"other bytes, another size")

    with pytest.raises(ArchiveError) as refused:
        target.copy_from(store, blob.key, sha256=blob.sha256, size=blob.size)

    assert refused.value.code == "checksum_mismatch"
    assert blobs_in(target.root) == []


def test_a_corrupted_blob_is_refused_and_nothing_is_left_in_the_target(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    blob = store.write(io.BytesIO(b"the original bytes"))
    corrupt(store.path(blob.key))

    with pytest.raises(ArchiveError) as refused:
        target.copy_from(store, blob.key, sha256=blob.sha256)

    assert refused.value.code == "checksum_mismatch"
    assert refused.value.params == {"filename": blob.key}
    assert blobs_in(target.root) == []


def test_copy_to_another_filesystem_copies_in_the_kernel_and_verifies(
    store: LocalArchiveStore, elsewhere: LocalArchiveStore
) -> None:
    data = payload(3 * 1024 * 1024 + 7)
    blob = store.write(io.BytesIO(data))

    copy = elsewhere.copy_from(store, blob.key, sha256=blob.sha256)

    assert copy == blob
    assert elsewhere.path(blob.key).read_bytes() == data
    assert os.stat(elsewhere.path(blob.key)).st_dev != os.stat(store.path(blob.key)).st_dev
    assert blobs_in(elsewhere.root) == [elsewhere.root / blob.key]


def test_a_corrupted_blob_copied_to_another_filesystem_leaves_nothing(
    store: LocalArchiveStore, elsewhere: LocalArchiveStore
) -> None:
    blob = store.write(io.BytesIO(b"the original bytes"))
    corrupt(store.path(blob.key))

    with pytest.raises(ArchiveError, match="controlegetal"):
        elsewhere.copy_from(store, blob.key, sha256=blob.sha256)

    assert blobs_in(elsewhere.root) == []


def test_copy_from_another_kind_of_store_streams_and_verifies(target: LocalArchiveStore) -> None:
    source = FakeArchiveStore("memory")
    good = source.write(io.BytesIO(payload(100_000)))
    bad = source.write(io.BytesIO(b"will change"))
    source.blobs[bad.key] = b"changed"

    copy = target.copy_from(source, good.key, sha256=good.sha256)
    with pytest.raises(ArchiveError) as refused:
        target.copy_from(source, bad.key, sha256=bad.sha256)

    assert (copy.sha256, copy.size) == (good.sha256, 100_000)
    assert refused.value.code == "checksum_mismatch"
    assert blobs_in(target.root) == [target.path(copy.key)]
    assert target.path(copy.key).read_bytes() == payload(100_000)


def test_copy_of_a_missing_blob_raises_file_not_found(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    sha256 = hashlib.sha256(b"never written").hexdigest()
    key = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    with pytest.raises(FileNotFoundError):
        target.copy_from(store, key, sha256=sha256)
    with pytest.raises(FileNotFoundError):
        target.copy_from(FakeArchiveStore("memory"), key, sha256=sha256)


def test_a_disk_that_fails_makes_the_archive_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_bytes(b"")
    store = LocalArchiveStore("noord", tmp_path / "not-a-folder")

    with pytest.raises(ArchiveError) as refused:
        store.write(io.BytesIO(b"x"))

    assert refused.value.code == "archive_unavailable"
    assert refused.value.params == {"store": "noord"}


def test_stores_come_from_file_locations_or_a_folder_under_the_default_root(
    tmp_path: Path,
) -> None:
    stores = archive_stores({"noord": "file:///srv/archief%20noord"}, default_root=tmp_path)

    noord = stores.store("noord")
    zuid = stores.store("zuid")

    assert isinstance(stores, ConfiguredArchiveStores)
    assert isinstance(noord, LocalArchiveStore)
    assert noord.root == Path("/srv/archief noord")
    assert isinstance(zuid, LocalArchiveStore)
    assert zuid.root == tmp_path / "zuid"
    assert stores.store("zuid") is zuid


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("/srv/archief", "expected file:///absolute/path or s3://"),
        ("ftp://host/archief", "expected file:///absolute/path or s3://"),
        ("file://fileserver/archief", "expected file:///absolute/path"),
        ("file:archief", "absolute path"),
        ("file:///srv/archief#deel", "expected file:///absolute/path"),
    ],
)
def test_a_malformed_file_location_is_refused_naming_store_and_location(
    tmp_path: Path, location: str, reason: str
) -> None:
    with pytest.raises(ValueError, match="archive store 'noord'") as refused:
        archive_stores({"noord": location}, default_root=tmp_path)

    assert location in str(refused.value)
    assert reason in str(refused.value)


@pytest.mark.parametrize("name", ["", "..", "../zuid", "noord/zuid", ".tmp"])
def test_a_store_name_that_cannot_name_a_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="archive store name"):
        archive_stores({}, default_root=tmp_path).store(name)
    with pytest.raises(ValueError, match="archive store name"):
        archive_stores({name: "file:///srv/archief"}, default_root=tmp_path)


def test_the_first_write_in_a_process_deletes_temporary_files_left_by_a_killed_one(
    store: LocalArchiveStore, target: LocalArchiveStore
) -> None:
    temporary = store.root / ".tmp"
    temporary.mkdir(parents=True)
    stale, recent, later = temporary / "stale", temporary / "recent", temporary / "later"
    stale.write_bytes(b"half a copy")
    recent.write_bytes(b"a copy in progress")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(stale, (two_hours_ago, two_hours_ago))

    blob = store.write(io.BytesIO(b"factuur"))

    assert sorted(temporary.iterdir()) == [recent]
    # Once per process: what goes stale later waits for the next process.
    later.write_bytes(b"another half")
    os.utime(later, (two_hours_ago, two_hours_ago))
    store.write(io.BytesIO(b"creditnota"))
    assert sorted(temporary.iterdir()) == [later, recent]
    # A copy into a store clears its folder too.
    (target.root / ".tmp").mkdir(parents=True)
    left = target.root / ".tmp" / "left"
    left.write_bytes(b"half a copy")
    os.utime(left, (two_hours_ago, two_hours_ago))
    target.copy_from(store, blob.key, sha256=blob.sha256)
    assert list((target.root / ".tmp").iterdir()) == []
