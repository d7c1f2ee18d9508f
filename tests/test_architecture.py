"""Imports point inwards: the lint session's check, on the real tree and on bad ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_checker() -> ModuleType:
    path = ROOT / "scripts" / "check_imports.py"
    spec = importlib.util.spec_from_file_location("check_imports", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_imports = load_checker()


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_source_tree_imports_only_inwards() -> None:
    assert [str(v) for v in check_imports.find_violations(ROOT / "src")] == []


def test_outward_imports_are_reported_by_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "migrationkit/__init__.py", "import flask\n")
    write(tmp_path, "migrationkit/domain/__init__.py", "")
    write(
        tmp_path,
        "migrationkit/domain/model.py",
        "import enum\nimport attrs\nfrom sqlalchemy import select\n",
    )
    write(tmp_path, "migrationkit/domain/rules.py", "from . import model\nfrom .. import ports\n")
    write(tmp_path, "migrationkit/ports.py", "from migrationkit.domain import model\nimport cattrs")
    write(tmp_path, "migrationkit/services/__init__.py", "from . import offer\n")
    write(
        tmp_path,
        "migrationkit/services/offer.py",
        "from migrationkit.ports import Clock\nfrom ..adapters.sqlalchemy import tables\n",
    )
    write(
        tmp_path,
        "migrationkit/adapters/mail.py",
        "import redis\nfrom examples.flask_portal import app\n",
    )
    write(tmp_path, "migrationkit/cli.py", "import redis\nfrom flask import Flask\n")

    found = {
        (v.path.relative_to(tmp_path).as_posix(), v.line, v.imported)
        for v in check_imports.find_violations(tmp_path)
    }

    assert found == {
        ("migrationkit/__init__.py", 1, "flask"),
        ("migrationkit/domain/model.py", 3, "sqlalchemy.select"),
        ("migrationkit/domain/rules.py", 2, "migrationkit.ports"),
        ("migrationkit/ports.py", 2, "cattrs"),
        ("migrationkit/services/offer.py", 2, "migrationkit.adapters.sqlalchemy.tables"),
        ("migrationkit/adapters/mail.py", 2, "examples.flask_portal.app"),
        ("migrationkit/cli.py", 2, "flask.Flask"),
    }


def test_adapters_never_reach_up_and_the_services_never_import_the_workers(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "migrationkit/adapters/connectors/xero.py",
        "from migrationkit.adapters.connectors.settings import PackageCredentials\n"
        "from migrationkit.ports import Clock\n"
        "from migrationkit.config import PackageCredentials\n"
        "from migrationkit.services import engine\n"
        "from migrationkit.bootstrap import build_runtime\n"
        "from migrationkit.workers.jobs import run_migration\n",
    )
    write(
        tmp_path,
        "migrationkit/workers/jobs.py",
        "from migrationkit.services import engine\n"
        "from migrationkit.adapters.rq import RQJobQueue\n"
        "from migrationkit.cli import main\n",
    )
    write(tmp_path, "migrationkit/services/moving.py", "from migrationkit.workers import jobs\n")
    write(
        tmp_path,
        "migrationkit/config.py",
        "from migrationkit.adapters.connectors.settings import ConnectorSettings\n"
        "from migrationkit.services.dependencies import Policy\n",
    )

    found = {
        (v.path.relative_to(tmp_path).as_posix(), v.line, v.imported)
        for v in check_imports.find_violations(tmp_path)
    }

    assert found == {
        ("migrationkit/adapters/connectors/xero.py", 3, "migrationkit.config.PackageCredentials"),
        ("migrationkit/adapters/connectors/xero.py", 4, "migrationkit.services.engine"),
        ("migrationkit/adapters/connectors/xero.py", 5, "migrationkit.bootstrap.build_runtime"),
        ("migrationkit/adapters/connectors/xero.py", 6, "migrationkit.workers.jobs.run_migration"),
        ("migrationkit/workers/jobs.py", 3, "migrationkit.cli.main"),
        ("migrationkit/services/moving.py", 1, "migrationkit.workers.jobs"),
        ("migrationkit/config.py", 2, "migrationkit.services.dependencies.Policy"),
    }


def test_the_command_prints_each_offence_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "migrationkit/domain/model.py", "import attrs\n\nimport requests\n")

    assert check_imports.main([str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'migrationkit/domain/model.py'}:3: migrationkit.domain.model imports"
        " requests, which migrationkit.domain may not"
    ]


def test_the_command_passes_a_clean_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "migrationkit/domain/model.py", "import attrs\nimport datetime\n")

    assert check_imports.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
