"""The distribution's Chromium, driven by Playwright for Python: found, never downloaded.

Playwright's own browser download cannot be relied on (its host may be unreachable), so the
suite uses the Chromium that `apt-get install chromium` puts on the PATH, or the one named by
MOCKSERVER_CHROMIUM. Without one, browser tests fail (never skip) with the command that installs it.
"""

from __future__ import annotations

import os
import shutil

# libatomic1: Playwright's bundled Node driver links against it; slim images lack it.
INSTALL = "apt-get update && apt-get install -y chromium libatomic1"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or None."""
    named = os.environ.get("MOCKSERVER_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_args() -> list[str]:
    """The flags a container needs: no sandbox as root (it needs user namespaces), no background traffic."""
    args = [
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def missing_message() -> str:
    return f"no Chromium for the browser tests: install it with `{INSTALL}` (or set MOCKSERVER_CHROMIUM)"
