"""The S3 archive store against a real local S3 server (moto in server mode, real HTTP):
round trips, content addressing, streaming, copies to and from local stores and between
buckets on the server, each verified by SHA-256, and the errors of the port."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import socket
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _s3server
import boto3
import pytest
from archive_fixtures import SIZES, Zeros, blobs_in, corrupt, payload
from botocore.config import Config

from migrationkit.adapters.archive import LocalArchiveStore, archive_stores
from migrationkit.adapters.archive.s3 import S3ArchiveStore, make_client
from migrationkit.domain.errors import ArchiveError
from migrationkit.testing import FakeArchiveStore

s3_endpoint_url = _s3server.s3_endpoint_url


class Calls(Counter[str]):
    """How often the client called each S3 operation, counted by a botocore event hook."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        client.meta.events.register("before-call.s3", self.count)

    def count(self, model: Any, **_: Any) -> None:
        self[model.name] += 1


@pytest.fixture(scope="module")
def client(s3_endpoint_url: str) -> Any:
    """A client made the way ``archive_stores`` makes one."""
    return make_client(s3_endpoint_url, "us-east-1")


def new_bucket(client: Any) -> str:
    name = f"mk-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    return name


def object_names(client: Any, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def key_of(data: bytes) -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@pytest.fixture
def store(client: Any) -> S3ArchiveStore:
    return S3ArchiveStore("noord", new_bucket(client), "kantoor/noord", client)


@pytest.fixture
def other(client: Any) -> S3ArchiveStore:
    """A store in another bucket on the same endpoint, through the same client."""
    return S3ArchiveStore("zuid", new_bucket(client), "", client)


@pytest.fixture
def calls(client: Any) -> Iterator[Calls]:
    counter = Calls(client)
    yield counter
    client.meta.events.unregister("before-call.s3", counter.count)


@pytest.fixture
def local(tmp_path: Path) -> LocalArchiveStore:
    return LocalArchiveStore("oost", tmp_path / "oost")


@pytest.mark.parametrize("size", SIZES)
def test_write_then_open_gives_the_same_bytes_under_their_sha256(
    store: S3ArchiveStore, client: Any, size: int
) -> None:
    data = payload(size)

    blob = store.write(io.BytesIO(data))

    assert (blob.key, blob.sha256, blob.size) == (key_of(data), key_of(data)[6:], size)
    assert store.exists(blob.key)
    with store.open(blob.key) as stored:
        assert stored.read(10) == data[:10]
        assert stored.read() == data[10:]
    assert object_names(client, store.bucket) == [f"kantoor/noord/{blob.key}"]


def test_the_same_bytes_twice_are_one_object_sent_once(
    store: S3ArchiveStore, client: Any, calls: Calls
) -> None:
    first = store.write(io.BytesIO(b"factuur 2024-001"))
    second = store.write(io.BytesIO(b"factuur 2024-001"))

    assert first == second
    assert object_names(client, store.bucket) == [f"kantoor/noord/{first.key}"]
    assert calls["PutObject"] == 1


def test_a_write_streams_without_holding_the_file_in_memory(store: S3ArchiveStore) -> None:
    size = 50 * 1024 * 1024
    tracemalloc.start()
    try:
        blob = store.write(io.BufferedReader(Zeros(size)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (blob.sha256, blob.size) == (hashlib.sha256(bytes(size)).hexdigest(), size)
    assert peak < 6 * 1024 * 1024


def test_missing_keys(
    store: S3ArchiveStore, other: S3ArchiveStore, local: LocalArchiveStore
) -> None:
    blob = store.write(io.BytesIO(b"x"))
    store.delete(blob.key)
    store.delete(blob.key)

    for key in (blob.key, blob.sha256):
        assert not store.exists(key)
        with pytest.raises(FileNotFoundError):
            store.open(key)
    with pytest.raises(FileNotFoundError):
        other.copy_from(store, blob.key, sha256=blob.sha256)
    with pytest.raises(FileNotFoundError):
        store.copy_from(local, blob.key, sha256=blob.sha256)
    with pytest.raises(FileNotFoundError):
        local.copy_from(store, blob.key, sha256=blob.sha256)


def test_copy_from_a_local_store_uploads_the_verified_file_with_its_checksum(
    store: S3ArchiveStore, local: LocalArchiveStore, client: Any
) -> None:
    data = payload(200_000)
    blob = local.write(io.BytesIO(data))

    copy = store.copy_from(local, blob.key, sha256=blob.sha256)

    assert copy == blob
    with store.open(blob.key) as stored:
        assert stored.read() == data
    head = client.head_object(
        Bucket=store.bucket, Key=store.object_name(blob.key), ChecksumMode="ENABLED"
    )
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_corrupted_local_blob_is_not_uploaded(
    store: S3ArchiveStore, local: LocalArchiveStore, client: Any
) -> None:
    blob = local.write(io.BytesIO(b"the original bytes"))
    corrupt(local.path(blob.key))

    with pytest.raises(ArchiveError) as refused:
        store.copy_from(local, blob.key, sha256=blob.sha256)

    assert refused.value.code == "checksum_mismatch"
    assert object_names(client, store.bucket) == []


def test_copy_to_a_local_store_streams_and_verifies(
    store: S3ArchiveStore, local: LocalArchiveStore, client: Any
) -> None:
    data = payload(5 * 1024 * 1024)
    good = store.write(io.BytesIO(data))
    bad = store.write(io.BytesIO(b"the original bytes"))
    client.put_object(Bucket=store.bucket, Key=store.object_name(bad.key), Body=b"changed")

    copy = local.copy_from(store, good.key, sha256=good.sha256)
    with pytest.raises(ArchiveError) as refused:
        local.copy_from(store, bad.key, sha256=bad.sha256)

    assert copy == good
    assert local.path(good.key).read_bytes() == data
    assert refused.value.code == "checksum_mismatch"
    assert blobs_in(local.root) == [local.path(good.key)]


def test_copy_between_buckets_of_one_endpoint_happens_on_the_server(
    store: S3ArchiveStore, other: S3ArchiveStore, calls: Calls
) -> None:
    data = payload(300_000)
    blob = store.write(io.BytesIO(data))
    calls.clear()

    copy = other.copy_from(store, blob.key, sha256=blob.sha256)
    again = other.copy_from(store, blob.key, sha256=blob.sha256)

    assert copy == again == blob
    assert calls["CopyObject"] == 1
    assert calls["GetObject"] == 0
    with other.open(blob.key) as stored:
        assert stored.read() == data


def test_a_corrupted_object_copied_on_the_server_leaves_nothing(
    store: S3ArchiveStore, other: S3ArchiveStore, client: Any
) -> None:
    blob = store.write(io.BytesIO(b"the original bytes"))
    client.put_object(Bucket=store.bucket, Key=store.object_name(blob.key), Body=b"changed")

    with pytest.raises(ArchiveError) as refused:
        other.copy_from(store, blob.key, sha256=blob.sha256)

    assert refused.value.code == "checksum_mismatch"
    assert object_names(client, other.bucket) == []


def test_a_server_that_keeps_no_checksum_has_the_copy_read_back(
    store: S3ArchiveStore, other: S3ArchiveStore, client: Any, calls: Calls
) -> None:
    def forget_checksum(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("ChecksumSHA256", None)

    blob = store.write(io.BytesIO(b"a scanned receipt"))
    client.meta.events.register("after-call.s3.HeadObject", forget_checksum)
    try:
        calls.clear()
        copy = other.copy_from(store, blob.key, sha256=blob.sha256)
    finally:
        client.meta.events.unregister("after-call.s3.HeadObject", forget_checksum)

    assert copy == blob
    assert (calls["CopyObject"], calls["GetObject"]) == (1, 1)


def test_copy_from_a_store_on_another_client_streams(
    store: S3ArchiveStore, s3_endpoint_url: str, client: Any
) -> None:
    elsewhere = S3ArchiveStore("west", store.bucket, "elders", make_client(s3_endpoint_url))
    source = FakeArchiveStore("memory")
    blob = source.write(io.BytesIO(b"from another kind of store"))
    calls = Calls(elsewhere.client)

    first = store.copy_from(source, blob.key, sha256=blob.sha256)
    second = elsewhere.copy_from(store, first.key, sha256=blob.sha256)

    assert first.key == second.key == key_of(b"from another kind of store")
    assert calls["CopyObject"] == 0
    assert calls["PutObject"] == 1
    with elsewhere.open(first.key) as stored:
        assert stored.read() == b"from another kind of store"


def test_an_endpoint_that_is_down_makes_the_archive_unavailable(local: LocalArchiveStore) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1),
    )
    store = S3ArchiveStore("noord", "mk-down", "", down)
    blob = local.write(io.BytesIO(b"x"))

    for attempt in (
        lambda: store.write(io.BytesIO(b"x")),
        lambda: store.open(blob.key),
        lambda: store.exists(blob.key),
        lambda: store.copy_from(local, blob.key, sha256=blob.sha256),
        lambda: local.copy_from(store, blob.key, sha256=blob.sha256),
    ):
        with pytest.raises(ArchiveError) as refused:
            attempt()
        assert refused.value.code == "archive_unavailable"
        assert refused.value.params == {"store": "noord"}


def test_a_bucket_that_does_not_exist_is_reported_missing_naming_the_store(client: Any) -> None:
    store = S3ArchiveStore("noord", "mk-never-made", "", client)

    with pytest.raises(ArchiveError) as refused:
        store.write(io.BytesIO(b"x"))

    assert refused.value.code == "archive_folder_missing"
    assert refused.value.params["store"] == "noord"
    assert store.sizes({key_of(b"x")}) == {}


def test_stores_come_from_s3_locations_one_client_per_endpoint(
    s3_endpoint_url: str, client: Any, tmp_path: Path
) -> None:
    bucket = new_bucket(client)
    stores = archive_stores(
        {
            "noord": f"s3://{bucket}/kantoor/noord/?endpoint_url={s3_endpoint_url}&region=us-east-1",
            "zuid": f"s3://{bucket}?endpoint_url={s3_endpoint_url}&region=us-east-1",
            "aws": "s3://mk-aws/archief",
        },
        default_root=tmp_path,
    )
    noord, zuid, aws = stores.store("noord"), stores.store("zuid"), stores.store("aws")
    assert isinstance(noord, S3ArchiveStore)
    assert isinstance(zuid, S3ArchiveStore)
    assert isinstance(aws, S3ArchiveStore)

    blob = noord.write(io.BytesIO(b"through the factory"))
    calls = Calls(zuid.client)
    zuid.copy_from(noord, blob.key, sha256=blob.sha256)

    assert (noord.bucket, noord.prefix, zuid.prefix) == (bucket, "kantoor/noord", "")
    assert noord.client is zuid.client
    assert noord.client.meta.endpoint_url == s3_endpoint_url
    assert aws.client is not noord.client
    assert aws.client.meta.endpoint_url.startswith("https://")
    assert calls["CopyObject"] == 1
    assert object_names(client, bucket) == [blob.key, f"kantoor/noord/{blob.key}"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("s3://", "valid bucket name"),
        ("s3://Archief_Noord/x", "valid bucket name"),
        ("s3://bucket:9000/x", "valid bucket name"),
        ("s3://archief/x#deel", "no #fragment"),
        ("s3://archief?region", "key=value"),
        ("s3://archief?region=eu-west-1&region=eu-central-1", "given twice"),
        ("s3://archief?endpoint_url=minio:9000", "http(s)://"),
        ("s3://archief?region=EU WEST", "region name"),
    ],
)
def test_a_malformed_s3_location_is_refused_naming_store_and_location(
    tmp_path: Path, location: str, reason: str
) -> None:
    with pytest.raises(ValueError, match="archive store 'noord'") as refused:
        archive_stores({"noord": location}, default_root=tmp_path)

    assert location in str(refused.value)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "location",
    [
        "s3://AKIAEXAMPLE:geheim123@archief/noord",
        "s3://archief/noord?aws_secret_access_key=geheim123&region=eu-west-1",
    ],
)
def test_a_refused_location_never_shows_a_secret(tmp_path: Path, location: str) -> None:
    with pytest.raises(ValueError, match="archive store 'noord'") as refused:
        archive_stores({"noord": location}, default_root=tmp_path)

    assert "geheim123" not in str(refused.value)
    assert "AKIAEXAMPLE" not in str(refused.value)
    assert "***" in str(refused.value)
