"""The contracts of pyproject.toml count the imports made for type checking only.

`make lint` runs every contract with `exclude_type_checking_imports = false`: a type named in an
annotation is a dependency too (a model that names a view's or the state's type in a signature
already leans on it). This test shows that the setting is in force: a copy of the package with
one type-only import between two concerns that must stand apart fails the contracts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INDEPENDENCE = "Faults, the journal, rate limits and coverage stand apart: none imports another"


def run_contracts(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=180)


def test_contracts__count_type_only_imports():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert settings["exclude_type_checking_imports"] is False
    assert INDEPENDENCE in [contract["name"] for contract in settings["contracts"]]


@pytest.mark.slow
def test_contracts__a_type_only_import_between_two_concerns_breaks_them(tmp_path):
    shutil.copytree(
        ROOT / "mockserver", tmp_path / "mockserver", symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    engine = tmp_path / "mockserver" / "faults" / "engine.py"
    text = engine.read_text()
    head = "from __future__ import annotations\n"
    assert head in text
    added = "\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..journal.model import Journal\n"
    engine.write_text(text.replace(head, head + added, 1))
    result = run_contracts(tmp_path)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "mockserver.faults is not allowed to import mockserver.journal" in result.stdout
    assert "mockserver.faults.engine -> mockserver.journal.model" in result.stdout
