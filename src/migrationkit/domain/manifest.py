"""The Migratieverslag's manifest and its signed statement, in their canonical forms.

The manifest lists every document of a Voltooid migration, one row each, ordered by
document id: its id, old and new address, file name, size, SHA-256 and when it was uploaded.
It has two canonical forms, each with its SHA-256:

- JSON Lines: one object per line, keys sorted, no spaces, UTF-8 (not escaped), ``\\n``
  after every line;
- CSV: a header line and one line per document in ``COLUMNS`` order, quoted only where
  needed, ``\\r\\n`` after every line (RFC 4180), UTF-8.

The statement is what the server signs (Ed25519): a canonical JSON object with the
migration's facts and both digests. Its bytes are kept exactly as signed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from migrationkit.domain.model import ItemStatus, Migration, OfferItem

#: The manifest's columns, in the CSV's order.
COLUMNS = (
    "document_id",
    "old_address",
    "new_address",
    "filename",
    "size",
    "sha256",
    "uploaded_at",
)

#: What a statement says it is; a verifier refuses any other.
STATEMENT_FORMAT = "migrationkit-migratieverslag/1"
SUMMARY_FORMAT = "migrationkit-migratieverslag-overzicht/1"

#: The integrity check's verdicts in a statement.
PASSED = "passed"
DIFFERS = "differs"


@attrs.frozen
class ManifestEntry:
    """One document of a Voltooid migration, as the manifest lists it."""

    document_id: int
    old_address: str
    new_address: str
    filename: str
    size: int
    sha256: str
    uploaded_at: datetime

    def fields(self) -> dict[str, str | int]:
        return {
            "document_id": self.document_id,
            "old_address": self.old_address,
            "new_address": self.new_address,
            "filename": self.filename,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": timestamp(self.uploaded_at),
        }


def timestamp(moment: datetime) -> str:
    """A moment in its canonical text: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """A JSON object in the canonical form: keys sorted, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def json_line(entry: ManifestEntry) -> bytes:
    return canonical_json(entry.fields()) + b"\n"


def _csv_line(values: Iterable[object]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode()


CSV_HEADER = _csv_line(COLUMNS)


def csv_line(entry: ManifestEntry) -> bytes:
    fields = entry.fields()
    return _csv_line(fields[column] for column in COLUMNS)


class ManifestDigests:
    """The SHA-256 of both forms of a manifest and its totals, fed a row at a time (the
    manifest is never held whole)."""

    def __init__(self) -> None:
        self._jsonl = hashlib.sha256()
        self._csv = hashlib.sha256(CSV_HEADER)
        self.documents = 0
        self.bytes = 0

    def add(self, entry: ManifestEntry) -> None:
        self._jsonl.update(json_line(entry))
        self._csv.update(csv_line(entry))
        self.documents += 1
        self.bytes += entry.size

    @property
    def jsonl_sha256(self) -> str:
        return self._jsonl.hexdigest()

    @property
    def csv_sha256(self) -> str:
        return self._csv.hexdigest()


def read_manifest(data: bytes) -> Iterator[dict[str, str]]:
    """The rows of a manifest in either form, as text values (for a verifier); raises
    ``ValueError`` when it is neither."""
    text = data.decode()
    if text.startswith(COLUMNS[0]):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError("the CSV's header is not the manifest's")
        for row in reader:
            yield dict(row)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"line {number} is not JSON") from None
        if not isinstance(row, dict) or set(row) != set(COLUMNS):
            raise ValueError(f"line {number} is not a manifest row")
        yield {key: str(value) for key, value in row.items()}


def manifest_form(data: bytes) -> str:
    """``"csv"`` or ``"jsonl"``: the form of a manifest, by its first bytes."""
    return "csv" if data.startswith(COLUMNS[0].encode()) else "jsonl"


class LinksOutcome:
    """What became of the links in the package (the report says which)."""

    REWRITTEN = "rewritten"
    #: A move on one store keeps every address.
    UNCHANGED = "unchanged"
    #: The package's connector cannot rewrite links: the old ones redirect.
    NOT_SUPPORTED = "not_supported"
    #: Every try failed: the old links redirect.
    FAILED = "failed"
    #: Still being tried after the finish.
    PENDING = "pending"


@attrs.frozen
class StatusReached:
    status: ItemStatus
    at: datetime


@attrs.frozen
class MigrationFacts:
    """What a Migratieverslag says of a Voltooid migration, read from the database."""

    migration: Migration
    item: OfferItem
    source_environment: str
    target_environment: str
    source_store: str
    target_store: str
    offered_by: str
    started_by: str | None
    statuses: tuple[StatusReached, ...]
    links: str

    @property
    def same_store(self) -> bool:
        return self.source_store == self.target_store


@attrs.frozen
class MigrationReport:
    """The facts, the manifest's digests and totals, and the signed statement."""

    facts: MigrationFacts
    documents: int
    total_bytes: int
    manifest_sha256: str
    manifest_csv_sha256: str
    verdict: str
    statement: bytes
    signature: bytes
    public_key: bytes


@attrs.frozen
class OfferReport:
    """The summary of an offer's migrations (an office takeover): each Voltooid one's report,
    and the items that are not Voltooid with their status, under one signed statement."""

    offer_id: int
    source_environment: str
    target_environment: str
    offered_by: str
    reports: tuple[MigrationReport, ...]
    not_completed: tuple[OfferItem, ...]
    statement: bytes
    signature: bytes
    public_key: bytes
