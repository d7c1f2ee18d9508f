"""What a store's disk says, in real folders: a full filesystem (a tmpfs of 64 KiB), a
read-only one (a tmpfs mounted read-only), a folder the process may not write (run as
another user), and a folder that went missing. Each gives its own reason naming the store,
as the source or the target of a move, in Dutch and English; the worker's log line names
the error number; a vanished target folder is never blamed on the source.

Mounting needs root, as CI runs; elsewhere these tests are skipped unless CI is set."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _moves import start_move

from migrationkit.adapters.archive import ConfiguredArchiveStores, LocalArchiveStore
from migrationkit.domain.errors import ArchiveError
from migrationkit.domain.model import ItemStatus
from migrationkit.services import engine
from migrationkit.testing import make_world

#: More than the tiny filesystem holds.
BIG = 256 * 1024
NOBODY = 65534


@contextmanager
def tmpfs(folder: Path, *options: str) -> Iterator[Path]:
    """A tmpfs of 64 KiB mounted on ``folder`` (with ``options``), unmounted after."""
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(["size=64k", *options]), "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs here: {mounted.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def refusal(store: LocalArchiveStore, data: bytes = b"x" * BIG) -> ArchiveError:
    with pytest.raises(ArchiveError) as refused:
        store.write(io.BytesIO(data))
    return refused.value


def test_a_full_disk_says_the_store_is_full(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "vol") as volume:
        error = refusal(LocalArchiveStore("zuid", volume / "zuid"))

    assert error.code == "archive_full"
    assert error.params == {"store": "zuid"}


def test_a_read_only_disk_says_the_store_is_read_only(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "vol", "ro") as volume:
        error = refusal(LocalArchiveStore("zuid", volume))

    assert error.code == "archive_read_only"
    assert error.params == {"store": "zuid"}


def test_a_folder_the_process_may_not_write_says_so() -> None:
    folder = Path(tempfile.mkdtemp(prefix="mk-no-permission-"))
    os.chmod(folder, 0o555)  # noqa: S103 (read and enter, not write: the point)
    try:
        code = as_another_user(lambda: refusal(LocalArchiveStore("zuid", folder), b"x").code)
    finally:
        shutil.rmtree(folder)

    assert code == "archive_no_permission"


def as_another_user(attempt: Callable[[], str]) -> str:
    """What ``attempt`` returns when run by a user without root's rights: in a forked child
    that becomes nobody when this process is root (root may write anywhere), as a worker's
    service user would be."""
    if os.geteuid() != 0:
        return attempt()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's report is what is asserted)
        os.close(reading)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            answer = attempt()
        except BaseException as error:
            answer = repr(error)
        os.write(writing, answer.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as report:
        answer = report.read()
    os.waitpid(child, 0)
    return answer


def test_a_store_whose_folder_went_missing_says_so_and_makes_no_new_one(tmp_path: Path) -> None:
    source = LocalArchiveStore("noord", tmp_path / "noord")
    blob = source.write(io.BytesIO(b"factuur"))
    target = LocalArchiveStore("zuid", tmp_path / "zuid")
    target.write(io.BytesIO(b"eerder"))  # the folder was there when the process began
    shutil.rmtree(tmp_path / "zuid")

    for attempt in (
        lambda: target.write(io.BytesIO(b"nieuw")),
        lambda: target.copy_from(source, blob.key, sha256=blob.sha256),
    ):
        with pytest.raises(ArchiveError) as refused:
            attempt()
        assert refused.value.code == "archive_folder_missing"
        assert refused.value.params == {"store": "zuid"}
    assert not (tmp_path / "zuid").exists()
    assert target.sizes({blob.key}) == {}


def moved_onto(
    tmp_path: Path, zuid: Path, caplog: pytest.LogCaptureFixture
) -> tuple[tuple[str | None, dict[str, str]], str]:
    """A move of three documents from Noord's folder to ``zuid``, run by the engine; the
    code and params of its reason of Mislukt, and the worker's log."""
    world = make_world()
    archives = ConfiguredArchiveStores(
        {
            "noord": LocalArchiveStore("noord", tmp_path / "noord"),
            "zuid": LocalArchiveStore("zuid", zuid),
        },
        tmp_path,
    )
    move = start_move(world.deps, archives, world.connectors, documents=3)
    with caplog.at_level(logging.WARNING, logger="migrationkit.services.engine"):
        engine.run_migration(world.deps, archives, move.migration_id)
    assert world.deps is not None
    with world.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
        item = uow.items.get(move.item_id)
    assert migration is not None
    assert item is not None
    assert item.status is ItemStatus.FAILED
    return (migration.failure_code, dict(migration.failure_params)), caplog.text


class Racing(LocalArchiveStore):
    """A store whose folder another thread's troubles reach between two steps of a link:
    ``vanish``, once set, runs each time this store has just made a folder for a blob."""

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name, root)
        self.root = root
        self.vanish: Callable[[Path], object] = lambda root: None

    def _folder(self, path: str) -> None:
        super()._folder(path)
        self.vanish(self.root)


@pytest.mark.parametrize(
    "vanish",
    [
        pytest.param(
            lambda root: shutil.rmtree(root), id="the-store-folder-goes-after-the-fan-out-is-made"
        ),
        pytest.param(
            lambda root: [shutil.rmtree(level) for level in root.iterdir() if level.name != ".tmp"],
            id="the-fan-out-folder-goes-each-time-it-is-made",
        ),
    ],
)
def test_a_target_folder_vanishing_while_a_copy_links_is_never_a_missing_source_document(
    tmp_path: Path, vanish: Callable[[Path], object]
) -> None:
    source = LocalArchiveStore("noord", tmp_path / "noord")
    blob = source.write(io.BytesIO(b"factuur"))
    target = Racing("zuid", tmp_path / "zuid")
    target.write(io.BytesIO(b"eerder"))  # the store's folder is there, the blob's is not
    target.vanish = vanish

    with pytest.raises(ArchiveError) as refused:
        target.copy_from(source, blob.key, sha256=blob.sha256)

    assert refused.value.code == "archive_folder_missing"
    assert refused.value.params == {"store": "zuid"}
    assert source.sizes({blob.key}) == {blob.key: len(b"factuur")}


def test_a_move_onto_a_full_disk_fails_naming_the_target_and_logs_the_errno(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs(tmp_path / "vol") as volume:
        # Three documents do not fill 64 KiB: fill it first, as a disk that is all but full.
        (volume / "ballast").write_bytes(b"\0" * (60 * 1024))
        reason, logged = moved_onto(tmp_path, volume / "zuid", caplog)

    assert reason == ("target_archive_full", {"store": "zuid"})
    assert ArchiveError("target_archive_full", store="zuid").message("en") in logged
    assert "errno ENOSPC" in logged


def test_a_move_onto_a_read_only_disk_fails_naming_the_target_and_logs_the_errno(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs(tmp_path / "vol", "ro") as volume:
        reason, logged = moved_onto(tmp_path, volume, caplog)

    assert reason == ("target_archive_read_only", {"store": "zuid"})
    assert "errno EROFS" in logged


def test_a_vanished_target_folder_is_blamed_on_the_target_not_the_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    zuid = tmp_path / "zuid"

    class Vanishing(LocalArchiveStore):
        """Zuid's folder goes (a volume unmounted) once its first copy was made."""

        def copy_from(self, source, key, *, sha256, size=None):  # type: ignore[no-untyped-def]
            copied = super().copy_from(source, key, sha256=sha256, size=size)
            shutil.rmtree(zuid, ignore_errors=True)
            return copied

    world = make_world()
    archives = ConfiguredArchiveStores(
        {"noord": LocalArchiveStore("noord", tmp_path / "noord"), "zuid": Vanishing("zuid", zuid)},
        tmp_path,
    )
    move = start_move(world.deps, archives, world.connectors, documents=3)
    engine.run_migration(world.deps, archives, move.migration_id)

    with world.deps.uow() as uow:
        migration = uow.migrations.get(move.migration_id)
    assert migration is not None
    assert (migration.failure_code, migration.failure_params) == (
        "target_archive_folder_missing",
        (("store", "zuid"),),
    )
