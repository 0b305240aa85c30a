"""The one source of time: a clock that runs with the system, or frozen, and can be moved."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# The span the mock's clock may show. Every date the APIs derive from it (a due date up to ten
# years on, a time zone's local day) stays inside what datetime holds, and POSIX time stays positive.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def to_utc(moment: datetime) -> datetime:
    """Return an aware `moment` in UTC; raise ValueError if UTC cannot hold it (year 0 or 10000)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is out of range once in UTC") from None


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant; naive values are taken as UTC; raise ValueError if it is not one."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return to_utc(parsed)


def from_timestamp(seconds: float) -> datetime:
    """POSIX seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def iso_seconds(moment: datetime) -> str:
    """Format as Collect does: UTC, whole seconds, `Z` (a four-digit year, whatever the platform)."""
    return to_utc(moment).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def iso_millis(moment: datetime) -> str:
    """Format as inSigner does (JavaScript's toISOString): UTC, milliseconds, `Z`."""
    return to_utc(moment).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def check_in_range(moment: datetime) -> datetime:
    """Return `moment` if the mock's clock may show it; else raise ValueError naming the span."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be from {EARLIEST.year} to {LATEST.year}, not {iso_seconds(moment)}")
    return moment


class Clock:
    """Mock time: system time plus an offset, or a frozen instant."""

    def __init__(self, frozen_at: datetime | None = None, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._start = check_in_range(frozen_at) if frozen_at is not None else None
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
        return from_timestamp(self.timestamp())

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at `at`, or at the current mock time; raise ValueError outside EARLIEST-LATEST."""
        with self._lock:
            self._frozen = check_in_range(at).timestamp() if at is not None else self.timestamp()

    def unfreeze(self) -> None:
        """Let the clock run on from the current mock time."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - self._source()
                self._frozen = None

    def restore(self, at: datetime, frozen: bool) -> None:
        """Stand at `at`, frozen or running on from it (a snapshot's clock)."""
        with self._lock:
            instant = check_in_range(at).timestamp()
            self._frozen, self._offset = (instant, 0.0) if frozen else (None, instant - self._source())

    def advance(self, seconds: float) -> None:
        """Move mock time forward (or back, if negative) by `seconds`; raise ValueError past EARLIEST-LATEST."""
        with self._lock:
            if not EARLIEST.timestamp() <= self.timestamp() + seconds < LATEST.timestamp():
                raise ValueError(f"must stay from {EARLIEST.year} to {LATEST.year}")
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def describe(self, formatter: Callable[[datetime], str] = iso_millis) -> dict[str, Any]:
        """Return the control plane's view of the clock."""
        return {"now": formatter(self.now()), "frozen": self.frozen}


def change_clock(clock: Clock, body: dict[str, Any]) -> None:
    """Freeze, advance or unfreeze `clock` as a POST /__mock/clock body says; raise ValueError naming the field."""
    actions = [k for k in ("freeze", "advance", "unfreeze") if k in body]
    if len(actions) != 1:
        raise ValueError("give exactly one of freeze, advance, unfreeze")
    action = actions[0]
    value = body[action]
    if action == "freeze":
        if value is True:
            clock.freeze()
        elif isinstance(value, str):
            try:
                at = parse_instant(value)
            except ValueError:
                raise ValueError("freeze: not an ISO 8601 instant") from None
            try:
                clock.freeze(at)
            except ValueError as exc:
                raise ValueError(f"freeze: {exc}") from None
        else:
            raise ValueError("freeze: must be true or an ISO 8601 instant")
    elif action == "advance":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueError("advance: must be a number of seconds")
        if abs(value) > 10 * 365 * 86400:
            raise ValueError("advance: at most ten years at a time")
        try:
            clock.advance(float(value))
        except ValueError as exc:
            raise ValueError(f"advance: the clock {exc}") from None
    else:
        if value is not True:
            raise ValueError("unfreeze: must be true")
        clock.unfreeze()
