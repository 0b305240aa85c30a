"""Write the docs' pictures (`make screenshots`), from the browser the tests use.

Starts `mockserver serve` as users do, sends a few requests to both APIs (one answered by a
fault rule), opens GET /__mock/ui in the distribution's Chromium at 1280x800 and 375x800, and
writes docs/dashboard-1280.png and docs/dashboard-375.png. Then builds the documentation site
and writes three of its pages, opened from file:// at 1280 px, to docs/pictures/ (left out of
the site itself).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import find_chromium, launch_args, missing_message  # noqa: E402
from helpers import (  # noqa: E402
    BULK_SEND_EXAMPLE,
    COLLECT_KEY,
    INSIGNER_KEY,
    SEND_EXAMPLE,
    basic,
    bearer,
    start_serve,
)
from playwright.sync_api import expect, sync_playwright  # noqa: E402


def traffic(url: str) -> None:
    requests.post(url + "/__mock/clock", json={"freeze": "2026-05-28T12:00:00Z"}, timeout=30).raise_for_status()
    requests.post(
        url + "/__mock/faults", json={"api": "insigner", "method": "POST", "status": 502, "times": 1}, timeout=30
    )
    for _ in range(2):
        requests.post(url + "/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(INSIGNER_KEY), timeout=30)
    requests.get(url + "/api/v1/bulk-sends?status=completed", headers=bearer(INSIGNER_KEY), timeout=30)
    requests.post(
        url + "/v1/requests",
        json=SEND_EXAMPLE,
        headers=basic(COLLECT_KEY),
        timeout=30,
    )


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print(missing_message(), file=sys.stderr)
        return 1
    server = start_serve()
    try:
        traffic(server.url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=launch_args())
            for width in (1280, 375):
                page = browser.new_page(viewport={"width": width, "height": 800})
                page.goto(server.url + "/__mock/ui")
                expect(page.locator("#journal-table tbody tr")).to_have_count(4)
                page.get_by_role("button", name="Show request 2").click()
                page.locator("#journal").scroll_into_view_if_needed()
                page.evaluate("window.scrollTo(0, 0)")
                target = ROOT / "docs" / f"dashboard-{width}.png"
                page.screenshot(path=str(target))
                print(f"wrote {target.relative_to(ROOT)}")
                page.close()
            browser.close()
    finally:
        server.stop()
    site_pictures(executable)
    return 0


SITE_PAGES = {
    "getting-started": "getting-started.html",
    "reference-cli": "reference/cli.html",
    "reference-control-plane": "reference/control-plane.html",
    "reference-mock-defined": "reference/mock-defined.html",
}


def site_pictures(executable: str) -> None:
    with tempfile.TemporaryDirectory() as built:
        mkdocs = Path(sys.executable).with_name("mkdocs")
        subprocess.run([str(mkdocs), "build", "--strict", "--quiet", "--site-dir", built], cwd=ROOT, check=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=launch_args())
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, path in SITE_PAGES.items():
                page.goto((Path(built) / path).as_uri())
                expect(page.locator("h1")).to_be_visible()
                target = ROOT / "docs" / "pictures" / f"site-{name}.png"
                target.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(target))
                print(f"wrote {target.relative_to(ROOT)}")
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
