"""The one source of time: a clock that runs with the system, or frozen, and can be moved."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant; naive values are taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso_seconds(moment: datetime) -> str:
    """Format as Collect does: UTC, whole seconds, `Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """Format as inSigner does (JavaScript's toISOString): UTC, milliseconds, `Z`."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Clock:
    """Mock time: system time plus an offset, or a frozen instant."""

    def __init__(self, frozen_at: datetime | None = None, source=time.time) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._start = frozen_at
        self.reset()

    def reset(self) -> None:
        """Return to the start-up mode."""
        with self._lock:
            self._offset = 0.0
            self._frozen: float | None = self._start.timestamp() if self._start else None

    def timestamp(self) -> float:
        """Return mock time as POSIX seconds."""
        frozen = self._frozen
        return frozen if frozen is not None else self._source() + self._offset

    def now(self) -> datetime:
        """Return mock time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at `at`, or at the current mock time."""
        with self._lock:
            self._frozen = at.timestamp() if at is not None else self.timestamp()

    def unfreeze(self) -> None:
        """Let the clock run on from the current mock time."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - self._source()
                self._frozen = None

    def advance(self, seconds: float) -> None:
        """Move mock time forward (or back, if negative) by `seconds`."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def shifted(self, **delta: float) -> datetime:
        """Return now plus a timedelta."""
        return self.now() + timedelta(**delta)

    def describe(self, formatter=iso_millis) -> dict:
        """Return the control plane's view of the clock."""
        return {"now": formatter(self.now()), "frozen": self.frozen}
