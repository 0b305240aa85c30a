"""The README's `make run` as users call it: the environment's MOCKSERVER_* settings, HOST/PORT, the Python it picks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def make_dry_run(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run__passes_host_and_port_only_when_given():
    assert make_dry_run("run").splitlines()[-1].endswith("mockserver serve")
    assert (
        make_dry_run("run", "PORT=9000", "HOST=0.0.0.0")
        .splitlines()[-1]
        .endswith("mockserver serve --host 0.0.0.0 --port 9000")
    )


def test_make_run__serves_on_mockserver_port_from_the_environment():
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.fail("make run needs the project's .venv: run the suite through `make test`")
    port = free_port()
    environ = {name: value for name, value in os.environ.items() if name not in ("PORT", "HOST")}
    process = subprocess.Popen(
        ["make", "-s", "-C", str(ROOT), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environ, "MOCKSERVER_PORT": str(port)},
        start_new_session=True,
    )
    try:
        line = process.stdout.readline()
        assert f"serving http://127.0.0.1:{port} " in line, line
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=15)


def test_make__without_python3_11_takes_a_python3_that_is_new_enough(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    fake = bin_dir / "python3"  # a Python newer than 3.11, and no python3.11 anywhere on PATH
    fake.write_text("#!/bin/sh\necho 'Python 3.13.0'\n")
    fake.chmod(0o755)
    out = make_dry_run("run", f"VENV={tmp_path / 'venv'}", env={"PATH": str(bin_dir)})
    assert f"python3 -m venv {tmp_path / 'venv'}" in out
    assert "python3.11" not in out


def test_gitignore__tool_caches_are_ignored():
    result = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", ".schemathesis/x", ".hypothesis/x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and len(result.stdout.split()) == 2, result


def run_browser_step(tmp_path: Path, uid: str, tools: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Run `.ci/browser` (make test's first step) with no Chromium and only `tools` on the PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool) or shutil.which(tool, path="/sbin:/usr/sbin")
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir), "MOCKSERVER_CHROMIUM": str(tmp_path / "no-chromium"), "MOCKSERVER_UID": uid}
    return subprocess.run(
        [shutil.which("bash"), str(ROOT / ".ci" / "browser")], capture_output=True, text=True, timeout=30, env=env
    )


@pytest.mark.parametrize(
    ("uid", "tools"),
    [("1000", ("id", "grep", "ls", "ldconfig", "apt-get")), ("0", ("id", "grep", "ls", "ldconfig"))],
    ids=["not-root", "root-without-apt-get"],
)
def test_make_test__without_chromium_and_no_way_to_install__stops_at_once_naming_the_command(tmp_path, uid, tools):
    result = run_browser_step(tmp_path, uid, tools)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "apt-get update && apt-get install -y chromium libatomic1" in result.stderr


def test_make_test__checks_the_browser_before_pytest():
    steps = make_dry_run("test", "PYTEST_ARGS=-q").splitlines()
    browser = next(n for n, line in enumerate(steps) if ".ci/browser" in line)
    pytest_step = next(n for n, line in enumerate(steps) if "-m pytest" in line)
    assert browser < pytest_step


def test_make_test__runs_the_checks_of_the_house_before_pytest():
    """The contracts, mypy --strict (its settings in pyproject.toml) and ruff run before the tests."""
    steps = make_dry_run("test", "PYTEST_ARGS=-q").splitlines()
    pytest_step = next(n for n, line in enumerate(steps) if "-m pytest" in line)
    for tool in ("lint-imports", "mypy", "ruff check", "ruff format --check"):
        assert any(tool in line for line in steps[:pytest_step]), tool


def test_mypy__strict_over_the_package():
    settings = (ROOT / "pyproject.toml").read_text()
    assert "strict = true" in settings and 'files = ["mockserver"]' in settings
