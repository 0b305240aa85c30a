"""Rate limits of both APIs: their settings and their fixed windows, all on the mock's clock.

inSigner: 120 requests per API key per 60-second window, and 1 bulk send per organization
per 5 minutes (its rate-limits page and Bulk Send page). Collect documents no limit: an
optional per-key requests-per-minute limit, off by default. A window starts at the first
hit after the previous window ended; every number the headers show is whole seconds,
rounded up, at least 1. Its pipeline stage (ratelimits/stage.py) counts a request; requests
that an earlier stage answered (401, a fault) never reach it, so they never count.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from typing import Any

from ..errors import RateLimited
from ..ports import Decision

REQUEST_WINDOW_SECONDS = 60

DEFAULTS: dict[str, dict[str, Any]] = {
    "insigner": {"enabled": True, "requestsPerMinute": 120, "bulkSendsPerWindow": 1, "bulkSendWindowSeconds": 300},
    "collect": {"enabled": False, "requestsPerMinute": 60},
}
# Past this many windows, expired ones are dropped (tenants come and go; windows must not pile up).
PRUNE_ABOVE = 10_000


def seconds_left(end: float, now: float) -> int:
    """Return the whole seconds from `now` to `end`, rounded up, at least 1."""
    return max(1, math.ceil(end - now - 1e-9))


class FixedWindows:
    """Counters in fixed windows, each starting at the first hit after the previous one ended."""

    def __init__(self) -> None:
        self._windows: dict[Any, tuple[float, int]] = {}

    def current(self, name: Any, now: float, length: float) -> tuple[float, int] | None:
        """Return `(start, count)` of the running window of `name`, or None when none runs."""
        window = self._windows.get(name)
        # A clock moved back before the window's start ends that window too.
        if window is None or not window[0] <= now < window[0] + length:
            return None
        return window

    def hit(self, name: Any, now: float, length: float, limit: int) -> tuple[bool, int, float]:
        """Count one hit unless the window is full; return (allowed, count, window end)."""
        window = self.current(name, now, length)
        start, count = window if window is not None else (now, 0)
        if count >= limit:
            return False, count, start + length
        if len(self._windows) > PRUNE_ABOVE:
            self._windows = {k: w for k, w in self._windows.items() if w[0] <= now < w[0] + length}
        self._windows[name] = (start, count + 1)
        return True, count + 1, start + length

    def clear(self) -> None:
        self._windows.clear()

    def items(self) -> list[tuple[Any, tuple[float, int]]]:
        return list(self._windows.items())

    def set(self, name: Any, start: float, count: int) -> None:
        self._windows[name] = (start, count)

    def drop(self, keep: Callable[[Any], bool]) -> None:
        self._windows = {name: window for name, window in self._windows.items() if keep(name)}


class RateLimits:
    """The rate-limit settings of both APIs (as `/__mock/rate-limits` shows them) and their windows."""

    def __init__(self, defaults: dict[str, dict[str, Any]] | None = None) -> None:
        self._startup = copy.deepcopy(defaults or DEFAULTS)
        self._lock = threading.Lock()
        self.settings = copy.deepcopy(self._startup)
        self._requests = FixedWindows()
        self._bulk_sends = FixedWindows()

    @property
    def startup(self) -> dict[str, dict[str, Any]]:
        """The start-up settings per API (a copy): what every snapshot's `settings` must be shaped as."""
        return copy.deepcopy(self._startup)

    # -- settings ---------------------------------------------------------------------------------
    def describe(self) -> dict[str, dict[str, Any]]:
        """Return a copy of the settings, per API."""
        with self._lock:
            return copy.deepcopy(self.settings)

    def update(self, changes: Any) -> dict[str, dict[str, Any]]:
        """Apply a partial settings object after checking all of it; raise ValueError naming the field."""
        if not isinstance(changes, dict):
            raise ValueError("the body must be an object of APIs")
        checked: dict[str, dict[str, Any]] = {}
        for api, values in changes.items():
            if api not in self._startup:
                raise ValueError(f"{api}: unknown api (expected {' or '.join(self._startup)})")
            if not isinstance(values, dict):
                raise ValueError(f"{api}: must be an object")
            checked[api] = {}
            for name, value in values.items():
                if name not in self._startup[api]:
                    raise ValueError(f"{api}.{name}: unknown setting (expected one of {', '.join(self._startup[api])})")
                if name == "enabled":
                    if not isinstance(value, bool):
                        raise ValueError(f"{api}.enabled: must be true or false")
                elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{api}.{name}: must be a whole number of at least 1")
                checked[api][name] = value
        with self._lock:
            for api, values in checked.items():
                self.settings[api].update(values)
            return copy.deepcopy(self.settings)

    def reset(self) -> None:
        """Restore the start-up settings and forget every window."""
        with self._lock:
            self.settings = copy.deepcopy(self._startup)
            self._requests.clear()
            self._bulk_sends.clear()

    # -- snapshots --------------------------------------------------------------------------------
    def export(self, tenants: set[str] | None = None) -> dict[str, Any]:
        """Settings and live windows (those of `tenants` only, when given) as JSON."""
        with self._lock:
            return {
                "settings": copy.deepcopy(self.settings),
                "requests": [
                    [api, tenant, key, start, count]
                    for (api, tenant, key), (start, count) in self._requests.items()
                    if tenants is None or tenant in tenants
                ],
                "bulkSends": [
                    [tenant, start, count]
                    for tenant, (start, count) in self._bulk_sends.items()
                    if tenants is None or tenant in tenants
                ],
            }

    def restore(self, data: dict[str, Any], tenants: set[str] | None = None) -> None:
        """Take a snapshot's settings and windows: all of them, or (`tenants`) those tenants' windows only."""
        with self._lock:
            if tenants is None:
                self.settings = copy.deepcopy(data["settings"])
                self._requests.clear()
                self._bulk_sends.clear()
            else:
                self._requests.drop(lambda name: name[1] not in tenants)
                self._bulk_sends.drop(lambda name: name not in tenants)
            for api, tenant, key, start, count in data["requests"]:
                self._requests.set((api, tenant, key), start, count)
            for tenant, start, count in data["bulkSends"]:
                self._bulk_sends.set(tenant, start, count)

    # -- requests per key -------------------------------------------------------------------------
    def hit_request(self, api: str, tenant_id: str, key: str, now: float) -> Decision | None:
        """Count one request of `key` (None: the API has no per-key limit)."""
        with self._lock:
            config = self.settings.get(api)
            if config is None or "requestsPerMinute" not in config:
                return None
            limit = int(config["requestsPerMinute"])
            if not config["enabled"]:
                return Decision(True, limit, limit, REQUEST_WINDOW_SECONDS)
            allowed, count, end = self._requests.hit((api, tenant_id, key), now, REQUEST_WINDOW_SECONDS, limit)
            return Decision(allowed, limit, max(0, limit - count), seconds_left(end, now))

    def peek_request(self, api: str, tenant_id: str, key: str, now: float) -> Decision | None:
        """Return what the window of `key` says now, without counting."""
        with self._lock:
            config = self.settings.get(api)
            if config is None or "requestsPerMinute" not in config:
                return None
            limit = int(config["requestsPerMinute"])
            window = self._requests.current((api, tenant_id, key), now, REQUEST_WINDOW_SECONDS)
            if not config["enabled"] or window is None:
                return Decision(True, limit, limit, REQUEST_WINDOW_SECONDS)
            start, count = window
            return Decision(
                count < limit, limit, max(0, limit - count), seconds_left(start + REQUEST_WINDOW_SECONDS, now)
            )

    def enabled(self, api: str) -> bool:
        """Tell whether `api`'s limits are on (inSigner's webhook creations follow its switch too)."""
        with self._lock:
            config = self.settings.get(api)
            return bool(config and config.get("enabled"))

    # -- inSigner's bulk sends per organization -----------------------------------------------------
    def check_bulk_send(self, tenant_id: str, now: float) -> None:
        """Raise RateLimited (Retry-After = seconds left) if the organization's bulk-send window is full."""
        with self._lock:
            config = self.settings["insigner"]
            if not config["enabled"]:
                return
            length = int(config["bulkSendWindowSeconds"])
            window = self._bulk_sends.current(tenant_id, now, length)
            if window is not None and window[1] >= int(config["bulkSendsPerWindow"]):
                retry = seconds_left(window[0] + length, now)
                # Each API says its own documented 429 text.
                raise RateLimited(headers={"Retry-After": str(retry)})

    def record_bulk_send(self, tenant_id: str, now: float) -> None:
        """Count one successful bulk send of the organization (only successes use the window)."""
        with self._lock:
            config = self.settings["insigner"]
            if config["enabled"]:
                self._bulk_sends.hit(
                    tenant_id, now, int(config["bulkSendWindowSeconds"]), int(config["bulkSendsPerWindow"])
                )
