"""The target store forgets: its volume comes back empty between the copy and the finish,
or loses files between the finish and the release of the source, on folders and on an S3
object store (moto's server). The move never ends Voltooid with a document missing, and no
document is ever left without its bytes in some store: the finish asks the store itself,
the release copies again what the target lost before it lets the source go.

The deployment is the product's processes (the gated worker of ``_worker.py``, so that the
loss comes in the middle of the copying whatever the machine's speed, the sweeper, the
database and Redis)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import _s3server
import pytest
import sqlalchemy
from _checks import Watch, blob_keys, explained, runtime_of
from _deployment import BATCH_SIZE, SWEEP_SECONDS, WAIT_SECONDS, Deployment, wait_for
from _moves import Move, start_move
from _worker import Gate
from redis import Redis

from migrationkit.adapters.archive.s3 import make_client
from migrationkit.bootstrap import Runtime
from migrationkit.domain.model import ItemStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

s3_endpoint_url = _s3server.s3_endpoint_url

DOCUMENTS = 600
WORKER = Path(__file__).with_name("_worker.py")


class Stores:
    """Noord's and Zuid's stores as the test sees them, in folders or in S3 buckets."""

    def __init__(self, roots: dict[str, Path] | None, client: Any = None) -> None:
        self.roots = roots
        self.client = client
        self.buckets = {name: f"mk-{name}-{secrets.token_hex(4)}" for name in ("noord", "zuid")}
        if client is not None:
            for bucket in self.buckets.values():
                client.create_bucket(Bucket=bucket)

    def locations(self, endpoint: str | None) -> str:
        if self.roots is not None:
            return ",".join(f"{name}=file://{root}" for name, root in self.roots.items())
        return ",".join(
            f"{name}=s3://{bucket}/archief?endpoint_url={endpoint}&region=us-east-1"
            for name, bucket in self.buckets.items()
        )

    def keys(self, name: str) -> set[str]:
        if self.roots is not None:
            return blob_keys(self.roots[name])
        listing = self.client.list_objects_v2(Bucket=self.buckets[name], Prefix="archief/")
        return {item["Key"].removeprefix("archief/") for item in listing.get("Contents", [])}

    def lose_everything(self, name: str) -> None:
        """The volume comes back empty (the folder stays), or the bucket is emptied."""
        if self.roots is not None:
            for entry in self.roots[name].iterdir():
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            return
        for key in self.keys(name):
            self.lose(name, {key})

    def lose(self, name: str, keys: set[str]) -> None:
        for key in keys:
            if self.roots is not None:
                (self.roots[name] / key).unlink()
            else:
                self.client.delete_object(Bucket=self.buckets[name], Key=f"archief/{key}")


@pytest.fixture(params=["folders", "s3"])
def stores(
    request: pytest.FixtureRequest, environment: dict[str, str], archive_roots: dict[str, Path]
) -> Stores:
    """Zuid's and Noord's stores in folders, or in buckets of a local S3 server; the
    deployment's variables point at them."""
    if request.param == "folders":
        made = Stores(archive_roots)
        environment["MIGRATIONKIT_ARCHIVE_STORES"] = made.locations(None)
    else:
        endpoint = request.getfixturevalue("s3_endpoint_url")
        made = Stores(None, make_client(endpoint, "us-east-1"))
        environment["MIGRATIONKIT_ARCHIVE_STORES"] = made.locations(endpoint)
    return made


def assert_every_document_in_zuid(runtime: Runtime, move: Move, stores: Stores) -> None:
    """Voltooid, and every document in Zuid's store byte for byte."""
    with runtime.deps.uow() as uow:
        item = uow.items.get(move.item_id)
        migration = uow.migrations.get(move.migration_id)
        assert migration is not None
        documents = uow.documents.list_for_administration(migration.administration_id)
    assert item is not None
    assert item.status is ItemStatus.COMPLETED
    zuid = runtime.archives.store("zuid")
    assert {document.archive_store for document in documents} == {"zuid"}
    for document in documents:
        with zuid.open(document.blob_key) as stored:
            assert stored.read() == move.blobs[document.sha256], document.filename
    assert stores.keys("zuid") == {document.blob_key for document in documents}


def test_a_target_that_comes_back_empty_before_the_finish_never_ends_voltooid_lacking_documents(
    deployment: Deployment, environment: dict[str, str], stores: Stores
) -> None:
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    redis = Redis.from_url(environment["MIGRATIONKIT_REDIS_URL"])
    gate = Gate(redis, "lost-gate")
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            gate.allow(DOCUMENTS // 2 + BATCH_SIZE // 2)
            deployment.start(program=[str(WORKER)], extra={"COPY_GATE": "lost-gate"})
            wait_for(gate.holds, "a copy held at the gate", timeout=WAIT_SECONDS)
            assert len(stores.keys("zuid")) > DOCUMENTS // 2
            stores.lose_everything("zuid")
            gate.allow(DOCUMENTS * 10)
            watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        finally:
            watch.stop()
            redis.close()
        assert_every_document_in_zuid(runtime, move, stores)
        wait_for(lambda: stores.keys("noord") == set(), "the source's blobs to be released")


def test_files_the_target_loses_between_the_finish_and_the_release_are_copied_again_first(
    deployment: Deployment, environment: dict[str, str], stores: Stores
) -> None:
    environment["MIGRATIONKIT_RELEASE_SOURCE_SECONDS"] = "3600"
    runtime, connectors = runtime_of(environment)
    move = start_move(runtime.deps, runtime.archives, connectors, documents=DOCUMENTS)
    deployment.start("sweep", "--every", str(SWEEP_SECONDS))
    watch = Watch(runtime, move)
    with explained(deployment, environment, move):
        try:
            deployment.start("worker")
            watch.wait_status(ItemStatus.COMPLETED, timeout=WAIT_SECONDS)
        finally:
            watch.stop()
        lost = set(sorted(stores.keys("zuid"))[::7])
        stores.lose("zuid", lost)
        assert len(stores.keys("noord")) == DOCUMENTS  # the grace period keeps the source
        # The grace period passes: the sweeper wakes a worker for the release.
        engine = sqlalchemy.create_engine(environment["MIGRATIONKIT_DATABASE_URL"])
        with engine.begin() as connection:
            connection.execute(
                sqlalchemy.text(
                    "UPDATE migrations SET finished_at = finished_at - interval '2 hours'"
                    " WHERE id = :id"
                ),
                {"id": move.migration_id},
            )
        engine.dispose()

        def released() -> bool:
            with runtime.deps.uow() as uow:
                migration = uow.migrations.get(move.migration_id)
            return migration is not None and migration.source_released_at is not None

        wait_for(released, "the source's blobs to be released")
        assert stores.keys("noord") == set()
        assert_every_document_in_zuid(runtime, move, stores)
