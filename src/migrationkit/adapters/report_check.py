"""Checks a Migratieverslag against its manifest, and the manifest against the archive:
what ``migrationkit verify-report`` runs. Each finding says what differs; none means the
report holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import attrs

from migrationkit.adapters.archive._blobs import CHUNK_SIZE, blob_key
from migrationkit.adapters.report_pdf import read_signed
from migrationkit.adapters.signing import encode, signature_holds
from migrationkit.domain.errors import ArchiveError
from migrationkit.domain.manifest import STATEMENT_FORMAT, manifest_form, read_manifest
from migrationkit.ports import ArchiveStores


@attrs.frozen
class Verification:
    """What a check found: each difference in words, and how many documents were read."""

    differences: tuple[str, ...]
    documents_checked: int = 0

    @property
    def holds(self) -> bool:
        return not self.differences


def verify_report(
    report: bytes,
    manifest: bytes,
    *,
    public_key: bytes,
    archives: ArchiveStores | None = None,
) -> Verification:
    """Checks the report's signature with ``public_key`` (the server's, from a source the
    checker trusts), the manifest's digest and totals against the signed statement, and,
    given the archive stores, every document the manifest lists (its size and SHA-256, read
    from the store). Raises ``ValueError`` when the report holds no signed statement."""
    signed = read_signed(report)
    differences: list[str] = []
    if signed.public_key != public_key:
        differences.append(
            f"the report was signed with the key {encode(signed.public_key)}, "
            f"not the server's {encode(public_key)}"
        )
    if not signature_holds(public_key, signed.statement, signed.signature):
        differences.append("the signature does not hold: the report was changed or forged")
    statement = json.loads(signed.statement)
    if statement.get("format") != STATEMENT_FORMAT:
        raise ValueError(f"not a migration's signed statement ({statement.get('format')})")
    form = manifest_form(manifest)
    wanted = statement["manifest_csv_sha256" if form == "csv" else "manifest_sha256"]
    found = hashlib.sha256(manifest).hexdigest()
    if found != wanted:
        differences.append(
            f"the manifest ({form}) has SHA-256 {found}, the report says {wanted}: it was changed"
        )
    try:
        rows = list(read_manifest(manifest))
    except (ValueError, UnicodeDecodeError) as error:
        return Verification((*differences, f"the manifest cannot be read: {error}"))
    counted = (len(rows), sum(_int(row["size"]) for row in rows))
    said = (statement["documents"], statement["bytes"])
    if counted != said:
        differences.append(
            f"the manifest lists {counted[0]} documents of {counted[1]} bytes, "
            f"the report says {said[0]} of {said[1]}"
        )
    checked = 0
    if archives is not None:
        for difference in _documents(archives, rows):
            if difference is not None:
                differences.append(difference)
            checked += 1
    return Verification(tuple(differences), checked)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _documents(archives: ArchiveStores, rows: list[dict[str, str]]) -> Iterator[str | None]:
    """Per row: ``None`` when the store holds the document's bytes as listed, else what
    differs, naming the document."""
    for row in rows:
        name = f"document {row['document_id']} ({row['filename']}) at {row['new_address']}"
        store_name = row["new_address"].split("/", 1)[0]
        try:
            store = archives.store(store_name)
            key = blob_key(row["sha256"])
        except (KeyError, ValueError) as error:
            yield f"{name}: cannot be looked for ({error})"
            continue
        digest = hashlib.sha256()
        size = 0
        try:
            with store.open(key) as blob:
                while chunk := blob.read(CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
        except FileNotFoundError:
            yield f"{name}: missing from the store"
            continue
        except (OSError, ArchiveError) as error:
            yield f"{name}: cannot be read ({error})"
            continue
        if (size, digest.hexdigest()) != (_int(row["size"]), row["sha256"]):
            yield (
                f"{name}: the store holds {size} bytes with SHA-256 {digest.hexdigest()}, "
                f"the manifest says {row['size']} bytes with SHA-256 {row['sha256']}"
            )
        else:
            yield None
