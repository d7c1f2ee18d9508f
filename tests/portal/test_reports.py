"""The Migratieverslag's downloads after a real move (Noord to Zuid, across stores): the
status page links them for both offices' super users; the files are the library's; anyone
else (a plain user, another office, a visitor) is answered as for any other office's object;
the API's endpoints; ``migrationkit verify-report`` as a subprocess on the downloaded files,
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_support import PREFIX, token_for
from flask import Flask
from flask.testing import FlaskClient
from portal_fixtures import close_app
from portal_support import RUNTIME_KEY, SECRET, Scene, environ, make_app, signed_in_client
from pypdf import PdfReader

from migrationkit.domain.model import MAX_ID
from migrationkit.testing._databases import throwaway_database

MIGRATIONKIT = [sys.executable, "-m", "migrationkit.cli"]
#: What a page holds that differs by nature: its CSRF token and its own address.
OWN_VALUES = re.compile(r'(name="(?:csrf_token|next)" (?:type="hidden" )?value=")[^"]*"')


def same_page(text: str) -> str:
    return OWN_VALUES.sub(r"\1", text)


class Moved:
    """The portal with 1002 (12 documents) moved from Noord to Zuid, Voltooid."""

    def __init__(self, app: Flask, home: Path) -> None:
        self.app = app
        self.home = home
        runtime = app.extensions[RUNTIME_KEY]
        self.scene = Scene(runtime.deps)
        (migration,) = self.scene.start(self.scene.offer("1002"))
        runtime.queue.work(runtime.deps, runtime.archives, sweep_every=None, burst=True)
        self.migration_id = migration.id

    def client(self, email: str) -> FlaskClient:
        return signed_in_client(self.app, self.scene.user(email))

    def urls(self, migration_id: int) -> list[str]:
        return [
            f"/migraties/{migration_id}/migratieverslag.pdf",
            f"/migraties/{migration_id}/manifest.jsonl",
            f"/migraties/{migration_id}/manifest.csv",
        ]

    def api(self, email: str | None) -> FlaskClient:
        client = self.app.test_client()
        if email is not None:
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(self.scene, email)}"
        return client


@pytest.fixture
def moved(app: Flask, home: Path) -> Moved:
    return Moved(app, home)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def moved_on_each_database(
    request: pytest.FixtureRequest, tmp_path: Path, home: Path
) -> Iterator[Moved]:
    if request.param == "sqlite":
        app = make_app(home)
        try:
            yield Moved(app, home)
        finally:
            close_app(app)
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    fresh = tmp_path / "pg-home"
    fresh.mkdir()
    with throwaway_database(postgres_url, prefix="mk_report") as database_url:
        app = make_app(
            fresh, MIGRATIONKIT_ENVIRON=environ(fresh) | {"MIGRATIONKIT_DATABASE_URL": database_url}
        )
        try:
            yield Moved(app, fresh)
        finally:
            close_app(app)


def test_the_voltooid_page_links_the_report_and_both_manifests(moved: Moved) -> None:
    for email in ("zuid@example.nl", "noord@example.nl"):
        page = moved.client(email).get(f"/migraties/{moved.migration_id}").text
        for url in moved.urls(moved.migration_id):
            assert f'href="{url}"' in page


def test_both_offices_super_users_download_the_files_and_nobody_else(
    moved_on_each_database: Moved,
) -> None:
    moved = moved_on_each_database
    for email in ("zuid@example.nl", "noord@example.nl"):
        client = moved.client(email)
        pdf, jsonl, table = (client.get(url) for url in moved.urls(moved.migration_id))
        assert pdf.status_code == jsonl.status_code == table.status_code == 200
        assert pdf.mimetype == "application/pdf"
        assert "attachment" in pdf.headers["Content-Disposition"]
        assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 1
        rows = [json.loads(line) for line in jsonl.data.splitlines()]
        assert len(rows) == 12
        assert table.data.count(b"\r\n") == 13
    strangers = {
        "medewerker@example.nl": moved.client("medewerker@example.nl"),
        "oost@example.nl": moved.client("oost@example.nl"),
    }
    for who, client in strangers.items():
        for url, missing in zip(moved.urls(moved.migration_id), moved.urls(MAX_ID), strict=True):
            refused, unknown = client.get(url), client.get(missing)
            assert refused.status_code == unknown.status_code == 404, who
            assert same_page(refused.text) == same_page(unknown.text), who
    visitor = moved.app.test_client()
    for url, missing in zip(moved.urls(moved.migration_id), moved.urls(MAX_ID), strict=True):
        refused, unknown = visitor.get(url), visitor.get(missing)
        assert refused.status_code == unknown.status_code == 302
        assert refused.location.split("next=")[0] == unknown.location.split("next=")[0]


def test_the_api_serves_the_report_the_manifest_and_the_public_key(moved: Moved) -> None:
    zuid = moved.api("zuid@example.nl")
    base = f"{PREFIX}/migrations/{moved.migration_id}"

    english = zuid.get(f"{base}/report", headers={"Accept-Language": "en"})
    jsonl = zuid.get(f"{base}/manifest")
    table = zuid.get(f"{base}/manifest?format=csv")
    wrong = zuid.get(f"{base}/manifest?format=xml")
    key = moved.api(None).get(f"{PREFIX}/report-key")

    assert english.status_code == 200
    assert "Migration report" in PdfReader(io.BytesIO(english.data)).pages[0].extract_text()
    assert jsonl.mimetype == "application/jsonl"
    assert len(jsonl.data.splitlines()) == 12
    assert table.mimetype == "text/csv"
    assert table.data.startswith(b"document_id,")
    assert (wrong.status_code, wrong.json["code"]) == (422, "request_invalid")
    assert key.status_code == 200
    assert key.json["algorithm"] == "Ed25519"
    for email in ("oost@example.nl", "medewerker@example.nl"):
        other = moved.api(email)
        for path in ("report", "manifest"):
            refused = other.get(f"{base}/{path}")
            unknown = other.get(f"{PREFIX}/migrations/{MAX_ID}/{path}")
            assert refused.status_code == unknown.status_code == 404
            assert refused.json == unknown.json
    assert moved.api(None).get(f"{base}/report").status_code == 401


def test_an_offer_s_summary_covers_its_migrations(moved: Moved) -> None:
    scene = moved.scene
    (first, second) = scene.start(scene.offer("2001", "2002"))
    runtime = moved.app.extensions[RUNTIME_KEY]
    runtime.queue.work(runtime.deps, runtime.archives, sweep_every=None, burst=True)
    with runtime.deps.uow() as uow:
        item = uow.items.get(first.item_id)
    zuid = moved.client("zuid@example.nl")
    page = zuid.get(f"/migraties/{first.id}").text
    url = f"/migraties/verzoek/{item.offer_id}/migratieverslag.pdf"
    assert f'href="{url}"' in page

    summary = zuid.get(url)

    text = PdfReader(io.BytesIO(summary.data)).pages[0].extract_text()
    assert "Migratieverslag: overzicht" in text
    assert f"Migratie {first.id}" in text
    assert f"Migratie {second.id}" in text
    assert moved.client("oost@example.nl").get(url).status_code == 404


# --- migrationkit verify-report --------------------------------------------------------------


def verify(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIGRATIONKIT_HOME": str(home), "MIGRATIONKIT_SECRET_KEY": SECRET}
    return subprocess.run(
        [*MIGRATIONKIT, "verify-report", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def downloaded(moved: Moved, tmp_path: Path) -> Callable[..., tuple[Path, Path, Path]]:
    zuid = moved.client("zuid@example.nl")
    pdf, jsonl, table = (zuid.get(url).data for url in moved.urls(moved.migration_id))
    files = tmp_path / "files"
    files.mkdir()
    (files / "verslag.pdf").write_bytes(pdf)
    (files / "manifest.jsonl").write_bytes(jsonl)
    (files / "manifest.csv").write_bytes(table)
    return lambda: (files / "verslag.pdf", files / "manifest.jsonl", files / "manifest.csv")


def test_verify_report_holds_for_the_files_as_downloaded(
    moved: Moved, downloaded: Callable[[], tuple[Path, Path, Path]]
) -> None:
    report, jsonl, table = downloaded()

    for manifest in (jsonl, table):
        checked = verify(moved.home, report, manifest, "--archive")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "12 documents read" in checked.stdout


@pytest.mark.parametrize("tamper", ["one_byte", "row_removed", "row_added"])
def test_a_tampered_manifest_fails_verify_report(
    moved: Moved, downloaded: Callable[[], tuple[Path, Path, Path]], tamper: str
) -> None:
    report, jsonl, _ = downloaded()
    lines = jsonl.read_bytes().splitlines(keepends=True)
    if tamper == "one_byte":
        lines[3] = lines[3].replace(b'"size":', b'"size":1', 1)
    elif tamper == "row_removed":
        del lines[5]
    else:
        lines.append(lines[0].replace(b'"document_id":', b'"document_id":9', 1))
    jsonl.write_bytes(b"".join(lines))

    checked = verify(moved.home, report, jsonl)

    assert checked.returncode == 1
    assert "DIFFERS: the manifest (jsonl) has SHA-256" in checked.stdout
    if tamper != "one_byte":
        assert "the manifest lists" in checked.stdout


def test_a_document_changed_in_the_store_after_the_move_is_named(
    moved: Moved, downloaded: Callable[[], tuple[Path, Path, Path]]
) -> None:
    report, jsonl, _ = downloaded()
    row = json.loads(jsonl.read_bytes().splitlines()[2])
    sha = row["sha256"]
    blob = moved.home / "archive" / "zuid" / sha[:2] / sha[2:4] / sha
    # A new file in its place: the test's home shares the seeded blobs by hard links.
    changed = blob.with_name("changed")
    changed.write_bytes(blob.read_bytes() + b"%% changed")
    changed.replace(blob)

    checked = verify(moved.home, report, jsonl, "--archive")

    assert checked.returncode == 1
    assert f"DIFFERS: document {row['document_id']} ({row['filename']})" in checked.stdout
    assert checked.stdout.count("DIFFERS") == 1


def test_a_forged_signature_or_another_key_fails_and_a_non_report_is_a_usage_error(
    moved: Moved, downloaded: Callable[[], tuple[Path, Path, Path]], tmp_path: Path
) -> None:
    report, jsonl, _ = downloaded()
    other_key = "MCowBQYDK2VwAyEA" + "A" * 43 + "="

    assert verify(moved.home, report, jsonl, "--public-key", other_key[16:]).returncode == 1
    not_a_report = tmp_path / "leeg.pdf"
    not_a_report.write_bytes(b"%PDF-1.4 niets")
    assert verify(moved.home, not_a_report, jsonl).returncode == 2
