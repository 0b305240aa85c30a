"""The coverage counter: every answer of the emulated APIs, per API, tenant, operation and status.

Its pipeline stage (coverage/stage.py) feeds it; GET /__mock/coverage lays the counts against
each API's documented answers (`EmulatedApi.operations`). It spans resets: a test run resets
before every test, coverage is about the whole run; only DELETE /__mock/coverage clears it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .report import summarize

if TYPE_CHECKING:
    from ..operations import Operation

# (api, tenant id, method, path template, status)
Key = tuple[str, "str | None", str, str, int]


class Coverage:
    """Counts of answers and of the part a fault or a Prefer header injected; thread-safe."""

    def __init__(self, since: float) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        # The mock clock's POSIX time when counting began (start-up or the last clear).
        self.since = since

    def record(self, api: str, tenant: str | None, method: str, path: str, status: int, injected: bool) -> None:
        """Count one answer."""
        key = (api, tenant, method, path, status)
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = [0, 0]
            counts[0] += 1
            counts[1] += injected

    def clear(self, since: float) -> None:
        """Forget every count; counting begins again at `since`."""
        with self._lock:
            self._counts.clear()
            self.since = since

    def document(
        self,
        operations: dict[str, tuple[Operation, ...]],
        since: str,
        tenants: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """Return GET /__mock/coverage's JSON; `tenants` (per API, the wanted tenant id) filters it."""
        with self._lock:
            counted = list(self._counts.items())
        totals: dict[tuple[str, str, str, int], list[int]] = {}
        for (api, tenant, method, path, status), (count, injected) in counted:
            if tenants is not None and (tenants.get(api) is None or tenant != tenants[api]):
                continue
            total = totals.setdefault((api, method, path, status), [0, 0])
            total[0] += count
            total[1] += injected
        documented: set[tuple[str, str, str, int]] = set()
        apis: dict[str, Any] = {}
        for api, listed in operations.items():
            rows = []
            for operation in listed:
                answers = []
                for answer in operation.answers:
                    key = (api, operation.method, operation.path, answer.status)
                    documented.add(key)
                    count, injected = totals.get(key, (0, 0))
                    answers.append({"status": answer.status, "documented": True, "count": count, "injected": injected})
                rows.append({"method": operation.method, "path": operation.path, "answers": answers})
            apis[api] = {"operations": rows}
        undocumented = [
            {"api": key[0], "method": key[1], "path": key[2], "status": key[3], "count": totals[key][0]}
            for key in sorted(totals)
            if key not in documented
        ]
        return summarize({"since": since, "apis": apis, "undocumented": undocumented})
