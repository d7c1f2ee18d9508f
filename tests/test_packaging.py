"""The package as it would be published: ``python -m build`` makes an sdist and, from it, a
wheel; the wheel installs into a clean virtualenv and its command answers ``--version``."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import migrationkit

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it (build's default: the wheel from the sdist, so
    a file missing from the sdist breaks the wheel)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


def test_the_sdist_and_the_wheel_carry_the_version_and_the_licence(dist: Path) -> None:
    version = migrationkit.__version__
    sdist = dist / f"migrationkit-{version}.tar.gz"
    wheel = dist / f"migrationkit-{version}-py3-none-any.whl"
    assert sdist.is_file()
    names = zipfile.ZipFile(wheel).namelist()
    assert f"migrationkit-{version}.dist-info/licenses/LICENSE" in names
    assert "migrationkit/py.typed" in names
    # Alembic's revisions ship with the library: `migrationkit db upgrade` needs them.
    assert any(
        name.startswith("migrationkit/adapters/sqlalchemy/migrations/versions/0001")
        for name in names
    )
    # So do the e-mails' texts, each kind in Dutch and English.
    texts = [name for name in names if name.startswith("migrationkit/services/email_texts/")]
    assert "migrationkit/services/email_texts/offer_code.nl.txt" in texts
    assert "migrationkit/services/email_texts/offer_code.en.txt" in texts
    # And the Migratieverslag's fonts with their licence.
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "LICENSE"):
        assert f"migrationkit/adapters/fonts/{font}" in names
    assert not any(name.startswith(("tests/", "examples/")) for name in names)
    metadata = zipfile.ZipFile(wheel).read(f"migrationkit-{version}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert "Project-URL: Changelog," in metadata


def test_the_wheel_installs_into_a_clean_virtualenv_and_tells_its_version(
    dist: Path, tmp_path: Path
) -> None:
    version = migrationkit.__version__
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    subprocess.run(
        [env / "bin" / "python", "-m", "pip", "install", "--quiet", next(dist.glob("*.whl"))],
        check=True,
        capture_output=True,
    )
    shown = subprocess.run(
        [env / "bin" / "migrationkit", "--version"], check=True, capture_output=True, text=True
    )
    assert shown.stdout.strip() == f"migrationkit {version}"


def test_the_changelog_has_a_dated_entry_for_this_version() -> None:
    changelog = (Path(__file__).parent.parent / "CHANGELOG.md").read_text(encoding="utf-8")

    assert re.search(
        rf"^## \[{re.escape(migrationkit.__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$",
        changelog,
        re.M,
    )
