"""The control token: with --control-token, every /__mock call but health needs X-Mock-Token."""

from __future__ import annotations

import hmac

from flask import Response

from ..context import current_context
from .errors import control_error

PREFIX = "/__mock"
OPEN_PATHS = ("/__mock/health", "/__mock/ui")
# The dashboard's static files load without the token; every data call needs it.
OPEN_PREFIXES = ("/__mock/ui/static/",)


def is_control_path(path: str) -> bool:
    """Whether `path` is the control plane's (/__mock or below it)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def require_control_token() -> Response | None:
    """Refuse a /__mock call without the right X-Mock-Token (401 in the control envelope)."""
    # Registered after the pipeline opens every request's context (app.py), so it is there.
    ctx = current_context()
    req = ctx.request
    path = req.path
    if not is_control_path(path) or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    token = ctx.state.settings.control_token
    if not token:
        return None
    given = req.headers.get("X-Mock-Token", "")
    if hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        return None
    return control_error(401, "unauthorized", "this server needs the X-Mock-Token header (--control-token)")
