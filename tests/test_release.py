"""A release a user can trust: one version, a changelog entry for it, and a wheel that serves once installed.

The installed-wheel test builds the wheel as `make dist` does, installs it into a fresh virtual
environment (no checkout on its path) and runs `mockserver serve` from there: the shipped
fixtures seed it and the dashboard's files are served.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from helpers import INSIGNER_KEY, bearer, web

import mockserver

ROOT = Path(__file__).resolve().parent.parent


def test_release__the_changelog_has_an_entry_for_the_version_and_keeps_its_form():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/" in changelog
    assert "## [Unreleased]" in changelog
    entries = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.M)
    assert entries and entries[0][0] == mockserver.__version__


def test_release__every_version_the_docs_name_is_the_packages():
    named = {
        (page.name, found)
        # docs/measured/ records the version a bench measured, whatever it was then.
        for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
        if "measured" not in page.parts
        for found in re.findall(r"mockserver(?:@v|:| )(\d+\.\d+\.\d+)", page.read_text())
    }
    assert named, "the docs name the version somewhere (the ready line, the image tags)"
    assert {version for _, version in named} == {mockserver.__version__}, named


def test_release__the_licence_is_the_one_the_metadata_names():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "license = MIT" in (ROOT / "setup.cfg").read_text()


def test_release__the_image_carries_oci_labels_and_smoke_tags_it_with_the_version():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for label in ("version", "source", "licenses", "title"):
        assert f"org.opencontainers.image.{label}=" in dockerfile, label
    makefile = (ROOT / "Makefile").read_text()
    assert "SMOKE_IMAGE=mockserver:$(VERSION)" in makefile
    assert "--build-arg VERSION=$(VERSION)" in makefile


@pytest.mark.slow
def test_release__the_built_wheel_installed_in_a_fresh_venv_serves_with_its_fixtures_and_dashboard(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("mockserver-*.whl")
    assert wheel.name.startswith(f"mockserver-{mockserver.__version__}-")
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    # Run from an empty folder: nothing of the checkout can be imported instead of the wheel.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process = subprocess.Popen(
        [str(tmp_path / "venv" / "bin" / "mockserver"), "serve", "--port", "0"],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        line = process.stdout.readline()
        assert f"mockserver {mockserver.__version__} serving http://" in line, line
        url = line.split("serving ", 1)[1].split()[0]
        assert web.get(url + "/__mock/health").json()["version"] == mockserver.__version__
        listed = web.get(url + "/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY))
        assert listed.status_code == 200 and listed.json()["data"]["id"] == "bs_abc123"
        assert [s["name"] for s in web.get(url + "/__mock/scenarios").json()["scenarios"]]
        page = web.get(url + "/__mock/ui")
        assert page.status_code == 200 and "<html" in page.text.lower()
        script = web.get(url + "/__mock/ui/static/app.js")
        assert script.status_code == 200 and len(script.text) > 1000
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
