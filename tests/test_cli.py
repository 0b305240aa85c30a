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
from helpers import run_serve, start_serve

pytestmark = pytest.mark.slow


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_serve__ready_line_health_and_clean_sigterm(tmp_path):
    served = start_serve("--store", "tinydb", "--db", str(tmp_path / "db.json"), "--seed", "7")
    try:
        health = get_json(served.url + "/__mock/health")
        assert health["store"] == "tinydb" and health["seed"] == 7
    finally:
        served.stop()
    assert json.loads((tmp_path / "db.json").read_text())


def test_serve__from_another_directory_serves_shipped_fixtures(tmp_path):
    served = start_serve(cwd=tmp_path)
    try:
        assert get_json(served.url + "/__mock/state/collect/campaigns")["items"]
    finally:
        served.stop(signal.SIGINT)


def test_serve__port_in_use_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_serve("--port", str(busy.getsockname()[1]))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        pytest.param(["--port", "x"], "port", id="port-not-number"),
        pytest.param(["--port", "70000"], "port", id="port-out-of-range"),
        pytest.param(["--store", "redis"], "store", id="unknown-store"),
        pytest.param(["--fixtures", "/nonexistent/fixtures"], "fixtures", id="missing-fixtures"),
        pytest.param(["--bogus"], "unrecognized", id="unknown-option"),
    ],
)
def test_serve__bad_option_is_one_line(args, words):
    result = run_serve("--port", "0", *args)
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_serve__environment_sets_options(tmp_path):
    env = {**os.environ, "MOCKSERVER_STORE": "bogus"}
    result = run_serve("--port", "0", env=env)
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
    result = run_serve("--port", "0", "--fixtures", str(folder))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(broken) in result.stderr and "not valid JSON" in result.stderr


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="root reads files whatever their mode, so chmod 000 cannot make one unreadable",
)
def test_serve__unreadable_fixtures_file_is_one_line(tmp_path):
    folder = fixtures_copy(tmp_path)
    locked = folder / "collect" / "campaigns.json"
    locked.chmod(0)
    try:
        result = run_serve("--port", "0", "--fixtures", str(folder))
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
    result = run_serve("--port", "0", "--fixtures", str(folder))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(unreadable) in result.stderr and "cannot read" in result.stderr


def test_serve__installed_package_serves_its_shipped_fixtures(tmp_path):
    # A real non-editable install (`pip install .`), run from another folder: the wheel holds the fixtures.
    site = tmp_path / "site"
    checkout = Path(__file__).resolve().parent.parent
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(checkout)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert (site / "mockserver" / "_fixtures" / "insigner" / "bulkSends.json").is_file()
    environ = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import mockserver; print(mockserver.__file__)"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(site)), where  # the installed copy, not this checkout
    served = start_serve(cwd=tmp_path, env=environ)
    try:
        health = get_json(served.url + "/__mock/health")
        bulk_sends = get_json(served.url + "/__mock/state/insigner/bulkSends")["items"]
        dashboard = [
            urllib.request.urlopen(served.url + path, timeout=10).status
            for path in ("/__mock/ui", "/__mock/ui/static/app.js", "/__mock/ui/static/app.css")
        ]
    finally:
        served.stop()
    assert dashboard == [200, 200, 200]  # the wheel ships the dashboard
    assert health["status"] == "ok"
    assert any(item["id"] == "bs_abc123" for item in bulk_sends)
    assert not (site / "mockserver" / "_fixtures").is_symlink()


def test_serve__access_log_has_one_line_per_request(tmp_path):
    served = start_serve()
    try:
        for _ in range(3):
            get_json(served.url + "/__mock/state")
    finally:
        _, errors = served.stop()
    assert errors.count('"GET /__mock/state" 200') == 3


@pytest.mark.parametrize(
    "name, value",
    [
        pytest.param("seed_count", "1001", id="seed-count-above"),
        pytest.param("seed_count", "-5", id="seed-count-negative"),
        pytest.param("insigner_async_seconds", "31536001", id="async-above-a-year"),
        pytest.param("insigner_async_seconds", "-10", id="async-negative"),
        pytest.param("insigner_async_seconds", "nan", id="async-nan"),
        pytest.param("max_tenants", "0", id="max-tenants-zero"),
        pytest.param("max_tenants", "100001", id="max-tenants-above"),
        pytest.param("journal_size", "100001", id="journal-size-above"),
        pytest.param("threads", "1025", id="threads-above"),
        pytest.param("seed", str(2**63), id="seed-above-64-bits"),
    ],
)
def test_settings__value_outside_its_range__refused_by_the_environment_and_explicitly(name, value):
    from mockserver.config import ConfigError, Settings

    flag = name.replace("_", "-")
    with pytest.raises(ConfigError, match=f"^{flag}: .* is outside "):
        Settings.load(environ={f"MOCKSERVER_{name.upper()}": value})
    with pytest.raises(ConfigError, match=f"^{flag}: .* is outside "):
        Settings.load(environ={}, **{name: value})


@pytest.mark.parametrize(
    "name, value",
    [("seed_count", "0"), ("seed_count", "1000"), ("insigner_async_seconds", "31536000"), ("max_tenants", "100000")],
)
def test_settings__range_ends__accepted(name, value):
    from mockserver.config import Settings

    assert str(getattr(Settings.load(environ={}, **{name: value}), name)).startswith(value)


def test_serve__seed_count_outside_its_range__one_line_naming_the_range():
    result = run_serve("--port", "0", "--seed-count", "1000000000000")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "seed-count: 1000000000000 is outside 0-1,000" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("::1", "http://[::1]:8080"),
        ("::", "http://[::1]:8080"),
        ("[::1]", "http://[::1]:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("127.0.0.1", "http://127.0.0.1:8080"),
    ],
)
def test_ready_url__ipv6_addresses_are_bracketed(host, url):
    from mockserver.serving.server import url_for

    assert url_for(host, 8080) == url


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback to bind")
def test_serve__host_ipv6_loopback__prints_a_url_a_client_can_use():
    served = start_serve("--host", "::1")
    try:
        assert served.url.startswith("http://[::1]:"), served.url
        assert get_json(served.url + "/__mock/health")["status"] == "ok"
    finally:
        served.stop()
