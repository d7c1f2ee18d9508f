"""Copies N small files from one local archive store to another with ``copy_from`` (each
verified: a copy by SHA-256, a hard link by inode and size), and the same files with
``cp -r``, and prints the ratio.

Usage: python benchmarks/archive_copy.py [--files 1000] [--size 20000] [--rounds 3]
                                          [--source-dir DIR] [--target-dir DIR]

The source store is made in a new folder under ``--source-dir``, the copies in new folders
under ``--target-dir`` (by default the same place, so one filesystem: the stores link the
blobs; give a folder on another filesystem, /dev/shm say, to measure ``copy_file_range``).
``cp -r`` copies the source store's folder to the same target folder. Each side runs
``--rounds`` times into a fresh folder and its best time counts; the page cache is warm for
both. The ratio is cp's time over the stores' time: 1.0 is as fast as ``cp -r``, above 1
is faster.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from migrationkit.adapters.archive import LocalArchiveStore
from migrationkit.ports import StoredBlob


def fill(store: LocalArchiveStore, files: int, size: int) -> list[StoredBlob]:
    """``files`` blobs of random bytes, ``size`` each give or take a tenth."""
    return [
        store.write(io.BytesIO(os.urandom(size + (index % 21 - 10) * size // 100)))
        for index in range(files)
    ]


def time_copy_from(source: LocalArchiveStore, blobs: list[StoredBlob], folder: Path) -> float:
    target = LocalArchiveStore("doel", folder / "doel")
    started = time.perf_counter()
    for blob in blobs:  # with the size, as the engine copies a document
        target.copy_from(source, blob.key, sha256=blob.sha256, size=blob.size)
    return time.perf_counter() - started


def time_cp(source: LocalArchiveStore, folder: Path, option: str = "-r") -> float:
    """``cp -r`` of the store's folder into ``folder``; with ``option="-al"`` hard links
    instead of copies (the store's own method on one filesystem)."""
    started = time.perf_counter()
    subprocess.run(["cp", option, str(source.root), str(folder / "cp")], check=True)  # noqa: S603, S607
    return time.perf_counter() - started


def best_of(rounds: int, target_dir: Path, measure: Callable[[Path], float]) -> float:
    """The shortest of ``rounds`` runs of ``measure(folder)``, each in a new folder."""
    times = []
    for _ in range(rounds):
        folder = Path(tempfile.mkdtemp(dir=target_dir, prefix="mk-bench-"))
        try:
            times.append(measure(folder))
        finally:
            shutil.rmtree(folder)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20_000, help="bytes per file, about")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--target-dir", type=Path, default=None)
    arguments = parser.parse_args()
    target_dir: Path = arguments.target_dir or arguments.source_dir

    workdir = Path(tempfile.mkdtemp(dir=arguments.source_dir, prefix="mk-bench-"))
    try:
        source = LocalArchiveStore("bron", workdir / "bron")
        blobs = fill(source, arguments.files, arguments.size)
        same_filesystem = os.stat(workdir).st_dev == os.stat(target_dir).st_dev
        ours = best_of(
            arguments.rounds, target_dir, lambda folder: time_copy_from(source, blobs, folder)
        )
        cp = best_of(arguments.rounds, target_dir, lambda folder: time_cp(source, folder))
    finally:
        shutil.rmtree(workdir)

    total = sum(blob.size for blob in blobs)
    print(f"files              {len(blobs)} ({total / 1e6:.1f} MB)")
    print(f"filesystems        {'one (hard links)' if same_filesystem else 'two (kernel copy)'}")
    print(f"copy_from          {ours:.3f} s  ({len(blobs) / ours:,.0f} files/s)")
    print(f"cp -r              {cp:.3f} s  ({len(blobs) / cp:,.0f} files/s)")
    print(f"ratio (cp / ours)  {cp / ours:.2f}")


if __name__ == "__main__":
    main()
