"""What the archive store tests share: payloads, a stream that holds nothing, a listing."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

SIZES = [0, 1, 64 * 1024 + 1, 5 * 1024 * 1024]


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that differ per seed and are not all alike."""
    return (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]


def blobs_in(root: Path) -> list[Path]:
    """Every file under the root, temporary files included."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def corrupt(blob: Path, data: bytes = b"changed behind the key") -> None:
    """Changes a stored blob's bytes in place, behind its key (a store writes it read-only)."""
    blob.chmod(0o644)
    blob.write_bytes(data)


class Zeros(io.RawIOBase):
    """A stream of ``size`` zero bytes that holds none of them."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        step = min(len(buffer), self.left)
        buffer[:step] = bytes(step)
        self.left -= step
        return step
