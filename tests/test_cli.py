"""`mockserver serve` as users start it: a real process, its ready line, signals and failures."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import start_serve

pytestmark = pytest.mark.slow


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_serve__ready_line_health_and_clean_sigterm(tmp_path):
    process, url = start_serve("--store", "tinydb", "--db", str(tmp_path / "db.json"), "--seed", "7")
    try:
        health = get_json(url + "/__mock/health")
        assert health["store"] == "tinydb" and health["seed"] == 7
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()
    assert json.loads((tmp_path / "db.json").read_text())


def test_serve__from_another_directory_serves_shipped_fixtures(tmp_path):
    process, url = start_serve(cwd=tmp_path)
    try:
        assert get_json(url + "/__mock/state/collect/campaigns")["items"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


def run_failing(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockserver", "serve", *args], capture_output=True, text=True,
                          timeout=30, env=env)


def test_serve__port_in_use_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_failing("--port", str(busy.getsockname()[1]))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, words", [
    pytest.param(["--port", "x"], "port", id="port-not-number"),
    pytest.param(["--port", "70000"], "port", id="port-out-of-range"),
    pytest.param(["--store", "redis"], "store", id="unknown-store"),
    pytest.param(["--fixtures", "/nonexistent/fixtures"], "fixtures", id="missing-fixtures"),
    pytest.param(["--bogus"], "unrecognized", id="unknown-option"),
])
def test_serve__bad_option_is_one_line(args, words):
    result = run_failing("--port", "0", *args)
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_serve__environment_sets_options(tmp_path):
    env = {**os.environ, "MOCKSERVER_STORE": "bogus"}
    result = run_failing("--port", "0", env=env)
    assert result.returncode != 0 and "store" in result.stderr


def fixtures_copy(tmp_path: Path) -> Path:
    """Return a writable copy of the shipped fixtures."""
    import shutil

    from mockserver.config import shipped_fixtures

    folder = tmp_path / "fixtures"
    shutil.copytree(shipped_fixtures(), folder)
    return folder


def test_serve__fixtures_with_invalid_json_is_one_line(tmp_path):
    folder = fixtures_copy(tmp_path)
    broken = folder / "collect" / "campaigns.json"
    broken.write_text('[{"_id": "xvr69EYLKXvTkfYuk",')
    result = run_failing("--port", "0", "--fixtures", str(folder))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(broken) in result.stderr and "not valid JSON" in result.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files whatever their mode, so chmod 000 cannot make one unreadable")
def test_serve__unreadable_fixtures_file_is_one_line(tmp_path):
    folder = fixtures_copy(tmp_path)
    locked = folder / "collect" / "campaigns.json"
    locked.chmod(0)
    try:
        result = run_failing("--port", "0", "--fixtures", str(folder))
    finally:
        locked.chmod(0o644)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(locked) in result.stderr and "cannot read" in result.stderr


def test_serve__fixtures_file_that_cannot_be_read_is_one_line(tmp_path):
    # Readable by no one, root included: a folder where a JSON file should be.
    folder = fixtures_copy(tmp_path)
    unreadable = folder / "collect" / "campaigns.json"
    unreadable.unlink()
    unreadable.mkdir()
    result = run_failing("--port", "0", "--fixtures", str(folder))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(unreadable) in result.stderr and "cannot read" in result.stderr


def test_serve__installed_package_serves_its_shipped_fixtures(tmp_path):
    # The layout that `pip install .` (not -e) produces: setup.cfg maps fixtures/ to mockserver._fixtures.
    import shutil

    site = tmp_path / "site"
    package = Path(__file__).resolve().parent.parent / "mockserver"
    shutil.copytree(package, site / "mockserver", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(package.parent / "fixtures", site / "mockserver" / "_fixtures")
    result = subprocess.run([sys.executable, "-c", "import mockserver, sys; "
                             "assert mockserver.__file__.startswith(sys.argv[1]); "
                             "from mockserver.config import shipped_fixtures; print(shipped_fixtures())", str(site)],
                            capture_output=True, text=True, timeout=30, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == site / "mockserver" / "_fixtures"


def test_serve__access_log_has_one_line_per_request(tmp_path):
    process, url = start_serve()
    try:
        for _ in range(3):
            get_json(url + "/__mock/state")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        errors = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert errors.count('"GET /__mock/state" 200') == 3
