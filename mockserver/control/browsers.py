"""Browsers are not trusted callers: cross-origin writes to /__mock, and foreign Host names, are refused.

A developer's mock listens on their machine while they browse. Any page can send it a
"simple" cross-origin request (a form post, `fetch` with `text/plain`) that no preflight
stops, and a page that rebinds its own domain to 127.0.0.1 can even read the answers. So:
- a /__mock call that changes something (any method but GET, HEAD, OPTIONS, and a state GET
  whose `tenant` names no tenant yet, which would create one) carrying an `Origin` other than
  the server's own, or `Sec-Fetch-Site: cross-site` or `same-site`, gets 403 `cross-origin`;
  scripts, curl and the client send neither header, the dashboard sends its own origin;
- on a server bound to a loopback address, a `Host` that is not a loopback name or address
  (or one of --allowed-hosts) gets 403 `host-not-allowed`, in the API's envelope on its paths.
The control plane sends no CORS headers, so no other origin may read its answers.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from flask import Response
from werkzeug.datastructures import Headers

from ..context import current_context
from ..errors import ControlError, Forbidden
from .token import is_control_path

if TYPE_CHECKING:
    from ..emulated import AppState

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FOREIGN_SITES = ("cross-site", "same-site")
# Its GETs create the tenant of an unseen key (control-plane.md): a foreign page must not.
STATE_PATH = "/__mock/state"
LOOPBACK_NAMES = ("localhost",)


@lru_cache(maxsize=256)  # asked twice a request; parsing an address cost ~8% of a fast one (cProfile)
def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is a loopback one."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """`Host` without its port: `127.0.0.1:8080` -> `127.0.0.1`, `[::1]:80` -> `[::1]`."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refuse_foreign_callers() -> Response | None:
    """Refuse what a browser page of another site could send; let everything else through."""
    # Registered after the pipeline opens every request's context (app.py), so it is there.
    ctx = current_context()
    req, settings = ctx.request, ctx.state.settings
    host = req.headers.get("Host")
    if host is not None and is_loopback(settings.host):
        name = host_name(host).lower()
        if not is_loopback(name) and name not in settings.allowed_host_names:
            message = f"Host {host_name(host)!r} is not allowed: this server listens on a loopback address"
            if ctx.api is not None:
                raise Forbidden(f"{message}.")
            raise ControlError(403, "host-not-allowed", f"{message} (--allowed-hosts adds names)")
    if not is_control_path(req.path) or not is_foreign(req.headers, f"{req.scheme}://{host}" if host else None):
        return None
    if req.method not in SAFE_METHODS or creates_a_tenant(ctx.state, req.path, req.args.get("tenant")):
        raise ControlError(403, "cross-origin", "a page of another origin may not change this mock server")
    return None


def is_foreign(headers: Headers, own: str | None) -> bool:
    """Whether a browser says the call comes from another site's page.

    `Sec-Fetch-Site: same-site` counts: another port of the same host is another site's page.
    """
    if headers.get("Sec-Fetch-Site", "").lower() in FOREIGN_SITES:
        return True
    origin = headers.get("Origin")
    return origin is not None and origin != own


def creates_a_tenant(state: AppState, path: str, value: str | None) -> bool:
    """Whether this GET of the state calls would create a tenant: a `tenant` that names none yet."""
    if value is None or not (path == STATE_PATH or path.startswith(STATE_PATH + "/")):
        return False
    for tenants in state.tenants.values():
        tenant_id = tenants.id_for(value)
        if tenant_id is not None and tenants.get(tenant_id) is not None:
            return False
    return True
