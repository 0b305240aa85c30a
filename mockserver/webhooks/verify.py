"""POST /__mock/deliveries/verify: did attempts matching a pattern happen the expected number of times?

As POST /__mock/verify does over the journal's requests (times, `withinMs`, the same limit of
waits), over delivery attempts; near misses are attempts of the same API (and tenant, when the
pattern names one), fewest differing fields first, then newest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from ..config import API_NAMES
from ..errors import ControlError, describe_problems
from ..fields import StrictBoolean, StrictInteger
from ..patterns import ANY
from ..verification.model import MAX_NEAR_MISSES, MAX_WITHIN_MS, Times, TimesField, body_differences, compact, member
from .model import Deliveries
from .schemas import ATTEMPT_STATES

TRIGGERS = ("event", "retry", "redeliver", "duplicate")


@dataclass(frozen=True)
class DeliveryPattern:
    """What a verification looks for among the attempts; every field defaults to any."""

    api: str = ANY
    tenant: str | None = None
    webhook: str | None = None
    event: str | None = None
    state: str | None = None
    status: int | None = None
    attempt: int | None = None
    trigger: str | None = None
    signature_valid: bool | None = None
    fault_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    times: Times = field(default_factory=Times)
    within_ms: int = 0

    def describe(self) -> str:
        given = [
            f"{name} {value}"
            for name, value in (
                ("api", None if self.api == ANY else self.api),
                ("tenant", self.tenant),
                ("webhook", self.webhook),
                ("event", self.event),
                ("state", self.state),
                ("status", self.status),
                ("attempt", self.attempt),
                ("trigger", self.trigger),
                ("signatureValid", None if self.signature_valid is None else str(self.signature_valid).lower()),
                ("faultId", self.fault_id),
                ("headers", compact(self.headers) if self.headers else None),
                ("body", compact(self.body) if self.body is not None else None),
            )
            if value is not None
        ]
        return "any delivery attempt" if not given else "delivery attempts with " + ", ".join(given)


class DeliveryPatternSchema(Schema):
    """The body of POST /__mock/deliveries/verify."""

    class Meta:
        unknown = RAISE

    api = fields.String(load_default=ANY, validate=validate.OneOf((*API_NAMES, ANY)))
    tenant = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    webhook = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    event = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    state = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ATTEMPT_STATES))
    status = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(100, 599))
    attempt = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(min=1))
    trigger = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TRIGGERS))
    signature_valid = StrictBoolean(data_key="signatureValid", load_default=None, allow_none=True)
    fault_id = fields.String(data_key="faultId", load_default=None, allow_none=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    body = fields.Dict(load_default=None, allow_none=True)
    times = TimesField(load_default=lambda: Times(), metadata={"type": "object"})
    within_ms = StrictInteger(data_key="withinMs", load_default=0, validate=validate.Range(0, MAX_WITHIN_MS))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> DeliveryPattern:
        return DeliveryPattern(**data)


PATTERN = DeliveryPatternSchema()


def load_pattern(body: Any) -> DeliveryPattern:
    try:
        return PATTERN.load(body)
    except ValidationError as exc:
        raise ControlError(400, "invalid-pattern", describe_problems(exc.messages)) from None


def differences(pattern: DeliveryPattern, attempt: dict[str, Any], tenants: dict[str, str | None]) -> list[Any]:
    """Every way an attempt differs from the pattern beyond its api (an empty list: it matches)."""
    out: list[dict[str, Any]] = []
    if pattern.tenant is not None and tenants.get(attempt["api"]) != attempt["tenant"]:
        out.append(
            {"field": "tenant", "expected": tenants.get(attempt["api"]) or pattern.tenant, "actual": attempt["tenant"]}
        )
    if pattern.event is not None and not fnmatchcase(attempt["event"], pattern.event):
        out.append({"field": "event", "expected": pattern.event, "actual": attempt["event"]})
    status = (attempt["response"] or {}).get("status")
    for name, expected, actual in (
        ("webhook", pattern.webhook, attempt["webhookId"]),
        ("state", pattern.state, attempt["state"]),
        ("status", pattern.status, status),
        ("attempt", pattern.attempt, attempt["attempt"]),
        ("trigger", pattern.trigger, attempt["trigger"]),
        ("signatureValid", pattern.signature_valid, attempt["signatureValid"]),
        ("faultId", pattern.fault_id, attempt["faultId"]),
    ):
        if expected is not None and expected != actual:
            out.append({"field": name, "expected": expected, "actual": actual})
    request = attempt["request"]
    if pattern.headers:
        sent = {name.lower(): value for name, value in ((request or {}).get("headers") or {}).items()}
        for name, value in pattern.headers.items():
            out.extend(member(f"headers.{name}", value, sent, name.lower()))
    if pattern.body is not None:
        if request is None:
            out.append({"field": "body", "expected": pattern.body})
        else:
            out.extend(body_differences(pattern.body, request["body"], "body"))
    return out


@dataclass
class DeliveryOutcome:
    pattern: DeliveryPattern
    count: int = 0
    ids: list[str] = field(default_factory=list)
    near: list[tuple[int, int, dict[str, Any], list[Any]]] = field(default_factory=list)
    version: int = 0

    @property
    def holds(self) -> bool:
        return self.pattern.times.holds(self.count)

    def answer(self) -> dict[str, Any]:
        if self.holds:
            return {"ok": True, "count": self.count, "attempts": self.ids}
        times = self.pattern.times
        noun = "attempts" if times.plural else "attempt"
        message = f"Expected {times.describe()} {noun} among {self.pattern.describe()}, but {self.count} matched."
        near = sorted(self.near, key=lambda item: (item[0], -item[1]))[:MAX_NEAR_MISSES]
        return {
            "error": {"code": "verification-failed", "message": message},
            "ok": False,
            "count": self.count,
            "attempts": self.ids,
            "nearMisses": [{"attempt": attempt, "differences": diffs} for _, _, attempt, diffs in near],
        }


def evaluate(
    deliveries: Deliveries, pattern: DeliveryPattern, tenant_ids: Callable[[str], dict[str, str | None]]
) -> DeliveryOutcome:
    tenants = tenant_ids(pattern.tenant) if pattern.tenant is not None else {}
    listed, version = deliveries.listed()
    outcome = DeliveryOutcome(pattern, version=version)
    for attempt in listed:
        if pattern.api != ANY and attempt["api"] != pattern.api:
            continue
        diffs = differences(pattern, attempt, tenants)
        if not diffs:
            outcome.count += 1
            outcome.ids.append(attempt["id"])
        elif pattern.tenant is None or tenants.get(attempt["api"]) == attempt["tenant"]:
            outcome.near.append((len(diffs), int(attempt["id"][4:]), attempt, diffs))
    return outcome


def verify(
    deliveries: Deliveries,
    pattern: DeliveryPattern,
    tenant_ids: Callable[[str], dict[str, str | None]],
    begin_wait: Callable[[], object],
    end_wait: Callable[[], None],
) -> DeliveryOutcome:
    """Return the outcome once it holds, can no longer hold, or `withinMs` has passed (one wait slot)."""
    outcome = evaluate(deliveries, pattern, tenant_ids)
    if outcome.holds or pattern.times.exceeded(outcome.count) or not pattern.within_ms:
        return outcome
    deadline = time.monotonic() + pattern.within_ms / 1000
    begin_wait()
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if not deliveries.wait_for_change(outcome.version, remaining):
                break
            outcome = evaluate(deliveries, pattern, tenant_ids)
            if outcome.holds or pattern.times.exceeded(outcome.count):
                break
    finally:
        end_wait()
    return outcome
