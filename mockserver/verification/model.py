"""Verification: did requests matching a pattern arrive the expected number of times?

Counts come from the journal. A pattern matches an entry when every field it gives holds;
entries that match on `api` and `method` but not on everything else are the near misses a
failed verification shows, closest first. A verification may wait (`withinMs`, real time) on
the journal's condition: the waiting request's own thread sleeps, no other is taken, and the
journal wakes it on each new entry and when the server stops.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..errors import ControlError, describe_problems
from ..fields import StrictInteger
from ..journal.model import SHOWN_KEY_CHARACTERS, Entry, Journal
from ..patterns import ANY, match_fields

MAX_WITHIN_MS = 30_000
# Waits at once; the server keeps this many view threads beyond --threads, so waits never take
# the threads of the requests they wait for.
MAX_WAITS = 8
MAX_NEAR_MISSES = 3
# How much of a body pattern the one-sentence message quotes.
SHOWN_PATTERN_CHARACTERS = 200


@dataclass(frozen=True)
class Times:
    """How many matching requests make the verification hold: from `low` to `high` (None: no bound)."""

    low: int = 1
    high: int | None = None

    def holds(self, count: int) -> bool:
        return self.low <= count and (self.high is None or count <= self.high)

    def exceeded(self, count: int) -> bool:
        """True when more matched than allowed: no wait can make it hold."""
        return self.high is not None and count > self.high

    def describe(self) -> str:
        if self.low == self.high:
            return f"exactly {self.low}"
        if self.high is None:
            return f"at least {self.low}"
        if self.low == 0:
            return f"at most {self.high}"
        return f"at least {self.low} and at most {self.high}"

    @property
    def plural(self) -> bool:
        return (self.high if self.high is not None else self.low) != 1


@dataclass(frozen=True)
class Pattern:
    """What a verification looks for in the journal; every field defaults to any."""

    api: str = ANY
    method: str = ANY
    path: str = ANY
    tenant: str | None = None
    status: int | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    times: Times = Times()
    within_ms: int = 0

    def describe(self, tenant_shown: str | None) -> str:
        """The pattern in words: `insigner POST /api/v1/bulk-sends with status 201, body {...}`."""
        target = " ".join(
            part
            for part in (
                self.api if self.api != ANY else "",
                self.method.upper() if self.method != ANY else "any method",
                self.path if self.path != ANY else "on any path",
            )
            if part
        )
        extras = []
        if self.status is not None:
            extras.append(f"status {self.status}")
        if self.tenant is not None:
            extras.append(f"tenant {tenant_shown}")
        if self.query:
            extras.append(f"query {compact(self.query)}")
        if self.headers:
            extras.append(f"headers {compact(self.headers)}")
        if self.body is not None:
            extras.append(f"body {compact(self.body)}")
        return target + (" with " + ", ".join(extras) if extras else "")


def compact(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= SHOWN_PATTERN_CHARACTERS else text[:SHOWN_PATTERN_CHARACTERS] + "..."


class TimesField(fields.Field[Any]):
    """`{"exactly": n}`, or `{"atLeast": n}` and/or `{"atMost": m}`: non-negative integers that agree."""

    MEMBERS = ("exactly", "atLeast", "atMost")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Times:
        if not isinstance(value, dict) or not value:
            raise ValidationError('Must be {"exactly": n}, or {"atLeast": n} and/or {"atMost": m}.')
        problems: dict[str, list[str]] = {}
        for name, number in value.items():
            if name not in self.MEMBERS:
                problems[name] = [f"Unknown member (expected {', '.join(self.MEMBERS)})."]
            elif isinstance(number, bool) or not isinstance(number, int) or number < 0:
                problems[name] = ["Must be a non-negative integer."]
        if problems:
            raise ValidationError(problems)
        if "exactly" in value:
            if len(value) > 1:
                raise ValidationError("exactly cannot be combined with atLeast or atMost.")
            return Times(value["exactly"], value["exactly"])
        low, high = value.get("atLeast", 0), value.get("atMost")
        if high is not None and low > high:
            raise ValidationError(f"atLeast {low} is more than atMost {high}.")
        return Times(low, high)


class PatternSchema(Schema):
    """The body of POST /__mock/verify."""

    class Meta:
        unknown = RAISE

    api, method, path, tenant = match_fields("any tenant")
    status = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=validate.Range(100, 599),
        metadata={"description": "The answer's status; null: any."},
    )
    query = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "Query parameters that must be present with these values (a string, or a list)."},
    )
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        load_default=dict,
        metadata={"description": "Request headers (names in any case) that must be present with these values."},
    )
    body = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": "Members the JSON body must have, compared recursively; null: any body."},
    )
    times = TimesField(
        load_default=lambda: Times(),
        metadata={
            "type": "object",
            "description": '{"exactly": n}, or {"atLeast": n} and/or {"atMost": m}; default {"atLeast": 1}.',
        },
    )
    within_ms = StrictInteger(
        data_key="withinMs",
        load_default=0,
        validate=validate.Range(0, MAX_WITHIN_MS),
        metadata={"description": f"Wait up to this long (real time, at most {MAX_WITHIN_MS} ms) for it to hold."},
    )

    @validates_schema
    def _query_values(self, data: dict[str, Any], **kwargs: Any) -> None:
        for name, value in (data.get("query") or {}).items():
            if isinstance(value, str):
                continue
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                continue
            raise ValidationError(
                "A string, or a list of strings for a repeated parameter.", field_name=f"query.{name}"
            )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Pattern:
        return Pattern(**data)


PATTERN_SCHEMA = PatternSchema()


def load_pattern(body: Any) -> Pattern:
    """Validate a verification body; raise ControlError 400 naming the field."""
    try:
        return PATTERN_SCHEMA.load(body)
    except ValidationError as exc:
        raise ControlError(400, "invalid-pattern", describe_problems(exc.messages)) from None


# -- comparing -------------------------------------------------------------------------------------
def same(expected: Any, actual: Any) -> bool:
    """JSON equality: true and 1 differ, 1 and 1.0 do not."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(same(expected[k], actual[k]) for k in expected)
    return expected == actual


def body_differences(expected: Any, actual: Any, where: str) -> list[dict[str, Any]]:
    """Where `actual` falls short of `expected`: objects as subsets, recursively; arrays item by item."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [{"field": where, "expected": expected, "actual": actual}]
        out: list[dict[str, Any]] = []
        for name, value in expected.items():
            if name not in actual:
                out.append({"field": f"{where}.{name}", "expected": value})  # no `actual`: the member is missing
            else:
                out.extend(body_differences(value, actual[name], f"{where}.{name}"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [{"field": where, "expected": expected, "actual": actual}]
        return [d for n, item in enumerate(expected) for d in body_differences(item, actual[n], f"{where}.{n}")]
    return [] if same(expected, actual) else [{"field": where, "expected": expected, "actual": actual}]


def member(field_name: str, expected: Any, found: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if name not in found:
        return [{"field": field_name, "expected": expected}]
    return [] if same(expected, found[name]) else [{"field": field_name, "expected": expected, "actual": found[name]}]


def differences(pattern: Pattern, entry: Entry, tenants: dict[str, str | None], tenant_shown: str | None) -> list[Any]:
    """Every way `entry` differs from `pattern` beyond its api and method (an empty list: it matches)."""
    found = entry.fields
    out: list[dict[str, Any]] = []
    if pattern.path != ANY and pattern.path != found["path"] and not fnmatchcase(found["path"], pattern.path):
        out.append({"field": "path", "expected": pattern.path, "actual": found["path"]})
    if pattern.status is not None and found["status"] != pattern.status:
        out.append({"field": "status", "expected": pattern.status, "actual": found["status"]})
    if pattern.tenant is not None:
        wanted = tenants.get(found["api"])
        if wanted is None or found["tenant"] != wanted:
            out.append({"field": "tenant", "expected": wanted or tenant_shown, "actual": found["tenant"]})
    if not (pattern.query or pattern.headers or pattern.body is not None):
        return out
    public = entry.public()
    for name, value in pattern.query.items():
        out.extend(member(f"query.{name}", value, public["query"], name))
    if pattern.headers:
        headers = {name.lower(): value for name, value in public["headers"].items()}
        for name, value in pattern.headers.items():
            out.extend(member(f"headers.{name}", value, headers, name.lower()))
    if pattern.body is not None:
        if not found.get("bodyWhole", True):
            out.append({"field": "body", "actual": "not kept"})
        else:
            out.extend(body_differences(pattern.body, public["body"], "body"))
    return out


def shown_tenant(value: str | None) -> str | None:
    """A key as the journal would show it (its first characters); a tenant id as it is."""
    if value is None or len(value) <= SHOWN_KEY_CHARACTERS:
        return value
    return value[:SHOWN_KEY_CHARACTERS] + "..."


@dataclass
class Outcome:
    """What the journal said: the matching entries' ids, and the near misses when it does not hold."""

    pattern: Pattern
    count: int
    ids: list[int]
    truncated: bool
    version: int
    near: list[tuple[int, int, Entry, list[Any]]] = field(default_factory=list)
    tenant_shown: str | None = None

    @property
    def holds(self) -> bool:
        return self.pattern.times.holds(self.count)

    def answer(self) -> dict[str, Any]:
        """The body of the answer: 200's when it holds, else 409's with the near misses."""
        if self.holds:
            return {"ok": True, "count": self.count, "requests": self.ids, "journalTruncated": self.truncated}
        times = self.pattern.times
        noun = "requests" if times.plural else "request"
        message = (
            f"Expected {times.describe()} {noun} matching {self.pattern.describe(self.tenant_shown)},"
            f" but {self.count} matched{' (the journal had dropped older entries)' if self.truncated else ''}."
        )
        near = sorted(self.near, key=lambda item: (item[0], -item[1]))[:MAX_NEAR_MISSES]
        return {
            "error": {"code": "verification-failed", "message": message},
            "ok": False,
            "count": self.count,
            "requests": self.ids,
            "nearMisses": [{"request": entry.public(), "differences": diffs} for _, _, entry, diffs in near],
            "journalTruncated": self.truncated,
        }


def evaluate(journal: Journal, pattern: Pattern, tenant_ids: Callable[[str], dict[str, str | None]]) -> Outcome:
    """Count the journal's entries that match `pattern` and keep those that nearly do."""
    tenants = tenant_ids(pattern.tenant) if pattern.tenant is not None else {}
    shown = shown_tenant(pattern.tenant)
    entries, truncated, version = journal.snapshot()
    outcome = Outcome(pattern, 0, [], truncated, version, tenant_shown=shown)
    method = pattern.method.upper()
    for entry in entries:
        found = entry.fields
        if pattern.api != ANY and found["api"] != pattern.api:
            continue
        if method != ANY and found["method"] != method:
            continue
        diffs = differences(pattern, entry, tenants, shown)
        if diffs:
            outcome.near.append((len(diffs), found["id"], entry, diffs))
        else:
            outcome.count += 1
            outcome.ids.append(found["id"])
    return outcome


class Verifier:
    """Runs verifications against one journal, at most MAX_WAITS of them waiting at once."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._lock = threading.Lock()
        self._waits = 0

    def verify(self, pattern: Pattern, tenant_ids: Callable[[str], dict[str, str | None]]) -> Outcome:
        """Return the outcome as soon as it holds, cannot hold any more, or `withinMs` has passed."""
        outcome = evaluate(self.journal, pattern, tenant_ids)
        if outcome.holds or pattern.times.exceeded(outcome.count) or not pattern.within_ms:
            return outcome
        deadline = time.monotonic() + pattern.within_ms / 1000
        self.begin_wait()
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if not self.journal.wait_for_change(outcome.version, remaining):
                    break  # the server is stopping
                outcome = evaluate(self.journal, pattern, tenant_ids)
                if outcome.holds or pattern.times.exceeded(outcome.count):
                    break
        finally:
            self.end_wait()
        return outcome

    def begin_wait(self, *, refuse: bool = True) -> bool:
        """Take one of the MAX_WAITS slots (a verification's, an advance's or a settle's wait).

        When all are taken: raise ControlError 429 `too-many-waits`, or return False if not `refuse`.
        """
        with self._lock:
            if self._waits >= MAX_WAITS:
                if not refuse:
                    return False
                raise ControlError(
                    429,
                    "too-many-waits",
                    f"{MAX_WAITS} verifications are waiting already; retry when one has answered",
                    headers={"Retry-After": "1"},
                )
            self._waits += 1
            return True

    def end_wait(self) -> None:
        """Give back a slot that begin_wait took."""
        with self._lock:
            self._waits -= 1

    @property
    def waiting(self) -> int:
        with self._lock:
            return self._waits
