"""The contracts of pyproject.toml, checked once more counting the imports made for type checking only.

`make lint` runs every contract with type-only imports left out (a type named in an annotation
is not a dependency at run time). The models' contract must hold even with them counted: a model
that names a view's or the state's type in a signature already leans on it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS_CONTRACT = "Models never import views, the control plane, the pipeline or Flask"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(value)


@pytest.mark.slow
def test_models_contract__holds_counting_type_only_imports(tmp_path):
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in settings["contracts"] if c["name"] == MODELS_CONTRACT)
    lines = [
        "[tool.importlinter]",
        f"root_package = {toml_value(settings['root_package'])}",
        "include_external_packages = true",
        "exclude_type_checking_imports = false",
        "",
        "[[tool.importlinter.contracts]]",
        *(f"{key} = {toml_value(value)}" for key, value in contract.items()),
    ]
    config = tmp_path / "pyproject.toml"
    config.write_text("\n".join(lines) + "\n")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout
