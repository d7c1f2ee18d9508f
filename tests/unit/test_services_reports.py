"""The Migratieverslag's manifest and signed statement (services/reports.py) on the fakes:
the figures are the database's, the canonical forms and their digests, the signature, and
who may have them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from test_engine import fill, migration_of, neighbour, run, started_to

from migrationkit.adapters.signing import report_key, signature_holds
from migrationkit.domain.errors import NotFound
from migrationkit.domain.manifest import (
    COLUMNS,
    CSV_HEADER,
    ManifestEntry,
    csv_line,
    json_line,
    read_manifest,
)
from migrationkit.domain.model import ItemStatus
from migrationkit.services import reports

if TYPE_CHECKING:
    from conftest import Scene

SECRET = b"s" * 32


def moved(scene: Scene, count: int = 5) -> int:
    administration = scene.administration()
    fill(scene, administration, count)
    _, migration = scene.started(administration)
    run(scene, migration.id)
    return migration.id


def test_the_canonical_forms_of_a_row() -> None:
    entry = ManifestEntry(
        document_id=7,
        old_address="noord/7",
        new_address="zuid/7",
        filename='factuur "mei", 2024.pdf',
        size=1234,
        sha256="ab" * 32,
        uploaded_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    )

    assert (
        json_line(entry)
        == (
            '{"document_id":7,"filename":"factuur \\"mei\\", 2024.pdf","new_address":"zuid/7",'
            '"old_address":"noord/7","sha256":"' + "ab" * 32 + '","size":1234,'
            '"uploaded_at":"2024-05-01T12:30:00.000000Z"}\n'
        ).encode()
    )
    assert CSV_HEADER == b"document_id,old_address,new_address,filename,size,sha256,uploaded_at\r\n"
    assert (
        csv_line(entry)
        == (
            '7,noord/7,zuid/7,"factuur ""mei"", 2024.pdf",1234,'
            + "ab" * 32
            + ",2024-05-01T12:30:00.000000Z\r\n"
        ).encode()
    )
    for line in (CSV_HEADER + csv_line(entry), json_line(entry)):
        (row,) = read_manifest(line)
        assert row["filename"] == 'factuur "mei", 2024.pdf'
        assert set(row) == set(COLUMNS)


def test_the_manifest_lists_every_copy_as_the_database_holds_it(scene: Scene) -> None:
    migration_id = moved(scene, 7)
    zuid = scene.zuid.super_user.id

    entries = list(reports.migration_manifest(scene.deps, actor_id=zuid, migration_id=migration_id))

    with scene.world.uow() as uow:
        copies = uow.copies.list_page(migration_id)
        migration = migration_of(scene, migration_id)
        archive = uow.documents.list_for_administration(migration.administration_id)
    assert [e.document_id for e in entries] == [c.document_id for c in copies]
    for entry, document in zip(entries, archive, strict=True):
        assert entry.old_address == f"noord/{document.id}"
        assert entry.new_address == f"zuid/{document.id}" == document.address
        assert (entry.filename, entry.size, entry.sha256) == (
            document.filename,
            document.size,
            document.sha256,
        )
        assert entry.uploaded_at == document.received_at


def test_the_report_s_figures_and_digests_are_the_database_s(scene: Scene) -> None:
    migration_id = moved(scene, 6)
    zuid = scene.zuid.super_user.id
    key = report_key(SECRET)

    report = reports.migration_report(scene.deps, key, actor_id=zuid, migration_id=migration_id)

    migration = migration_of(scene, migration_id)
    assert (report.documents, report.total_bytes) == (
        migration.documents_total,
        migration.bytes_total,
    )
    assert report.verdict == "passed"
    entries = list(reports.migration_manifest(scene.deps, actor_id=zuid, migration_id=migration_id))
    jsonl = b"".join(json_line(e) for e in entries)
    table = CSV_HEADER + b"".join(csv_line(e) for e in entries)
    assert report.manifest_sha256 == hashlib.sha256(jsonl).hexdigest()
    assert report.manifest_csv_sha256 == hashlib.sha256(table).hexdigest()
    assert len(list(csv.reader(io.StringIO(table.decode())))) == 7
    statement = json.loads(report.statement)
    assert statement["manifest_sha256"] == report.manifest_sha256
    assert statement["documents"] == 6
    assert statement["administration"]["old"] == {"code": "0042", "name": "Bakkerij de Korenschoof"}
    assert signature_holds(key.public_key, report.statement, report.signature)
    assert not signature_holds(key.public_key, report.statement + b" ", report.signature)
    assert not signature_holds(report_key(b"t" * 32).public_key, report.statement, report.signature)
    # Ed25519 is deterministic: the same move gives the same report.
    again = reports.migration_report(scene.deps, key, actor_id=zuid, migration_id=migration_id)
    assert again.signature == report.signature
    facts = report.facts
    assert (facts.source_environment, facts.target_environment) == ("Noord", "Zuid")
    assert facts.offered_by == "baas@noord.nl"
    assert facts.started_by == "baas@zuid.nl"
    assert [s.status for s in facts.statuses][-1] is ItemStatus.COMPLETED


def test_a_move_on_one_store_lists_the_documents_there_at_the_finish(scene: Scene) -> None:
    administration = scene.administration()
    before = fill(scene, administration, 4)
    buur = neighbour(scene)  # on Noord's store
    migration = started_to(scene, administration, buur)
    run(scene, migration.id)
    scene.world.clock.advance(timedelta(seconds=1))
    fill(scene, administration, 1, first=10)  # arrives after the finish: not in the manifest
    actor = buur.super_user.id

    entries = list(
        reports.migration_manifest(scene.deps, actor_id=actor, migration_id=migration.id)
    )
    report = reports.migration_report(
        scene.deps, report_key(SECRET), actor_id=actor, migration_id=migration.id
    )

    assert [(e.document_id, e.old_address, e.new_address) for e in entries] == [
        (d.id, d.address, d.address) for d in before
    ]
    assert (report.documents, report.verdict) == (4, "passed")
    assert report.facts.links == reports.LinksOutcome.UNCHANGED


@pytest.mark.parametrize("who", ["plain_noord", "plain_zuid", "oost", "missing"])
def test_anyone_but_the_two_offices_super_users_finds_no_report(scene: Scene, who: str) -> None:
    migration_id = moved(scene, 2)
    actors = {
        "plain_noord": scene.noord.user.id,
        "plain_zuid": scene.zuid.user.id,
        "oost": scene.oost.super_user.id,
        "missing": scene.zuid.super_user.id,
    }
    wanted = 10_000 if who == "missing" else migration_id
    with pytest.raises(NotFound) as refused:
        reports.migration_report(
            scene.deps, report_key(SECRET), actor_id=actors[who], migration_id=wanted
        )
    assert refused.value.code == "unknown_migration"
    with pytest.raises(NotFound):
        reports.migration_manifest(scene.deps, actor_id=actors[who], migration_id=wanted)


def test_both_offices_super_users_have_it_once_voltooid_and_not_before(scene: Scene) -> None:
    administration = scene.administration()
    fill(scene, administration, 2)
    _, migration = scene.started(administration)
    with pytest.raises(NotFound) as refused:
        reports.migration_report(
            scene.deps,
            report_key(SECRET),
            actor_id=scene.zuid.super_user.id,
            migration_id=migration.id,
        )
    assert refused.value.code == "report_not_ready"
    run(scene, migration.id)
    for office in (scene.noord, scene.zuid):
        report = reports.migration_report(
            scene.deps,
            report_key(SECRET),
            actor_id=office.super_user.id,
            migration_id=migration.id,
        )
        assert report.documents == 2


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", ("Migratieverslag", "Van kantoor", "Geslaagd", "Voltooid", "Aangeboden door")),
        ("en", ("Migration report", "From office", "Passed", "Completed", "Offered by")),
    ],
)
def test_the_pdf_says_it_in_dutch_or_english_on_one_page(
    scene: Scene, language: str, words: tuple[str, ...]
) -> None:
    from pypdf import PdfReader

    from migrationkit.adapters.report_pdf import migration_report_pdf, read_signed
    from migrationkit.adapters.signing import encode

    migration_id = moved(scene, 3)
    report = reports.migration_report(
        scene.deps, report_key(SECRET), actor_id=scene.zuid.super_user.id, migration_id=migration_id
    )

    data = migration_report_pdf(report, language)

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = pdf_text(data)
    for word in words:
        assert word in text
    for figure in (report.manifest_sha256, encode(report.public_key), "Noord", "Zuid"):
        assert figure in text.replace("\n", "")
    assert "baas@zuid.nl" in text
    signed = read_signed(data)
    assert (signed.statement, signed.signature) == (report.statement, report.signature)


def test_the_voltooid_e_mails_link_the_report(scene: Scene) -> None:
    migration_id = moved(scene, 2)

    emails = scene.emails_of_kind("migration_completed")

    url = f"{scene.deps.policy.portal_url}/migraties/{migration_id}/migratieverslag.pdf"
    assert len(emails) == 2
    for email in emails:
        assert f"Migratieverslag: {url}" in email.body


def test_the_pdf_prints_every_name_as_written_beyond_latin_1(scene: Scene) -> None:
    import attrs

    from migrationkit.adapters.report_pdf import migration_report_pdf

    migration_id = moved(scene, 1)
    report = reports.migration_report(
        scene.deps, report_key(SECRET), actor_id=scene.zuid.super_user.id, migration_id=migration_id
    )
    names = ("Accountants Wiśniewski & Dvořák", "Łódź Ørsted Şahin B.V.")
    facts = attrs.evolve(report.facts, source_environment=names[0], target_environment=names[1])

    text = pdf_text(migration_report_pdf(attrs.evolve(report, facts=facts), "nl"))

    for name in names:
        assert name in text
