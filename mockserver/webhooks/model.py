"""Deliveries: each event to each webhook that subscribes to it, attempted and retried on the mock's clock.

An API emits an event when the change that causes it is stored (`emit`, through the
`ports.WebhookEvents` it was built with); each target webhook gets a delivery, whose first
attempt is due at once. A scheduler thread hands due attempts to sender threads: at most 4 in
flight, 2 per tenant, one at a time per webhook, oldest due first. A failed attempt schedules
the next on its vendor's schedule, due its interval after the failed one was due, so that a
frozen clock runs retries only when a test moves it, and one advance runs three days of them.

Locks: one, a leaf (`_lock`, with its condition). It is never held across a call out: a sender
builds and sends with none held, and reports the outcome to the API (failureCount, status)
after letting it go. A reset or a restore closes the connections in flight and bumps
`generation`: an attempt that ends later is dropped, and its report too (the report checks the
generation inside the store's transaction, which a reset holds while it bumps it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..clock import from_timestamp, iso_millis
from .signing import SIGNATURE, TIMESTAMP, signature, signed_headers
from .transport import Connection, Outcome, post

if TYPE_CHECKING:
    from ..clock import Clock
    from ..egress import EgressPolicy
    from ..faults.rules import FaultRule
    from ..ports import WebhookTarget

log = logging.getLogger("mockserver.deliveries")

# Each vendor's retry schedule: seconds of mock time from one attempt's due time to the next's.
RETRY_SECONDS = {
    # Documented: "Up to 8 retries at ~1m, 5m, 30m, 2h, 5h, 10h, 18h, 24h".
    "insigner": (60, 300, 1_800, 7_200, 18_000, 36_000, 64_800, 86_400),
    # "for 24 hours with an exponential back off": these six, then a last attempt a day after the first.
    "collect": (60, 300, 1_800, 7_200, 18_000, 36_000),
}
COLLECT_LAST_AFTER = 86_400
COLLECT_LAST_GAP = 60
MAX_IN_FLIGHT = 4
PER_TENANT = 2
MAX_PENDING = 10_000
KEPT_ANSWER = 4 * 1024
ADVANCE_WAIT_SECONDS = 30.0
ENDED = frozenset({"delivered", "failed", "abandoned", "suppressed"})
# An attempt due within this much after the clock's now is due now: times go through datetimes
# (microseconds) on one side and the clock's float seconds on the other, and are shown in ms.
DUE_SLACK = 0.001

# What the API is told after an attempt ended: (api, tenant, webhook, ok, last of its delivery,
# the generation it ran in) -> the webhook's status now (None: the webhook is gone).
Report = Callable[[str, str, str, bool, bool, int], "str | None"]


@dataclass
class Delivery:
    """One event to one webhook: the same bytes and headers on every attempt."""

    id: str
    event_id: str
    api: str
    tenant: str
    webhook_id: str
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    first_due: float
    # The webhook as it was when the event came: its secret or token, for the faults that change them.
    target: WebhookTarget | None = None
    at: float = 0.0
    state: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "eventId": self.event_id,
            "webhookId": self.webhook_id,
            "event": self.event,
            "state": self.state,
            "attempts": [attempt.public() for attempt in self.attempts],
        }


@dataclass
class Attempt:
    """One try of a delivery (the control plane's attempt, webhooks.md section 4)."""

    id: str
    delivery: Delivery
    number: int
    trigger: str
    due: float
    order: int
    state: str = "pending"
    url: str = ""
    sent_at: float | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float | None = None
    next_at: float | None = None
    fault_id: str | None = None
    connection: Connection | None = None
    # What this attempt sends when a fault changed it (None: the delivery's own bytes and headers).
    headers: dict[str, str] | None = None
    body: bytes | None = None
    signature_valid: bool = True
    # The fault rules were asked (once an attempt: a delayed one is not delayed again); a reordered
    # attempt is due as soon as the next attempt to its webhook ends.
    decided: bool = False
    reordered: bool = False

    def public(self) -> dict[str, Any]:
        delivery = self.delivery
        headers = self.headers if self.headers is not None else delivery.headers
        body = self.body if self.body is not None else delivery.body
        built = self.state not in ("pending", "abandoned") or self.sent_at is not None
        return {
            "id": self.id,
            "deliveryId": delivery.id,
            "eventId": delivery.event_id,
            "api": delivery.api,
            "tenant": delivery.tenant,
            "webhookId": delivery.webhook_id,
            "event": delivery.event,
            "url": self.url or delivery.url,
            "attempt": self.number,
            "trigger": self.trigger,
            "state": self.state,
            "dueAt": iso_millis(from_timestamp(self.due)),
            "sentAt": iso_millis(from_timestamp(self.sent_at)) if self.sent_at is not None else None,
            "request": {
                "headers": dict(headers),
                "body": json.loads(body),
                "bytes": len(body),
            }
            if built
            else None,
            "response": self.response,
            "error": self.error,
            "durationMs": self.duration_ms,
            "signatureValid": self.signature_valid,
            "faultId": self.fault_id,
            "nextAttemptAt": iso_millis(from_timestamp(self.next_at)) if self.next_at is not None else None,
        }


@dataclass(frozen=True)
class AttemptFilter:
    """What GET /__mock/deliveries keeps (None: any); `tenants` per API as `AppState.tenant_ids` names them."""

    api: str | None = None
    tenants: dict[str, str | None] | None = None
    webhook: str | None = None
    event: str | None = None
    state: str | None = None
    status: int | None = None
    delivery: str | None = None

    def accepts(self, attempt: Attempt) -> bool:
        delivery = attempt.delivery
        if self.api is not None and delivery.api != self.api:
            return False
        if self.tenants is not None and self.tenants.get(delivery.api) != delivery.tenant:
            return False
        if self.webhook is not None and delivery.webhook_id != self.webhook:
            return False
        if self.event is not None and not fnmatchcase(delivery.event, self.event):
            return False
        if self.state is not None and attempt.state != self.state:
            return False
        if self.status is not None and (attempt.response or {}).get("status") != self.status:
            return False
        return self.delivery is None or delivery.id == self.delivery


class Deliveries:
    """The deliveries of both APIs: the queue of attempts, the senders, and the log of ended attempts."""

    def __init__(
        self,
        clock: Clock,
        policy: EgressPolicy,
        *,
        enabled: bool = True,
        timeout: float = 10.0,
        log_size: int = 1000,
        token_header: str = "X-Collect-Secret-Token",  # noqa: S107 - a header's name, not a secret
    ) -> None:
        self.clock = clock
        self.policy = policy
        self.enabled = enabled
        self.timeout = timeout
        self.log_size = log_size
        self.token_header = token_header
        self.user_agent = f"mockserver/{__version__}"
        self.report: Report = lambda *args: None
        # The delivery fault rule that fires on an attempt (None: none); asked with no lock held.
        self.fault_for: Callable[[Delivery, Attempt], FaultRule | None] = lambda delivery, attempt: None
        # Called about once a second of real time from the scheduler's thread, no lock held, when set:
        # what changes by itself as the mock's clock runs (an asynchronous bulk send completing).
        self.tick: Callable[[], None] | None = None
        self._ticked = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.generation = 0
        self.version = 0
        self._reset_state()
        self._thread: threading.Thread | None = None
        self._stopped = False
        # The last advance's span of mock time: an attempt it runs was sent at its due time.
        self._advanced: tuple[float, float] | None = None

    def _bump(self) -> None:
        """Something changed (called with the lock held): wake the scheduler and every wait."""
        self.version += 1
        self._changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> bool:
        """Wait until the deliveries change after `version`, at most `timeout` seconds; False once stopping."""
        with self._changed:
            if self.version == version and not self._stopped:
                self._changed.wait(timeout)
            return not self._stopped

    def listed(self) -> tuple[list[dict[str, Any]], int]:
        """Every attempt listed, oldest first, as the control plane shows it, and the version it is of."""
        with self._lock:
            return [attempt.public() for attempt in self._all()], self.version

    def _reset_state(self) -> None:
        self._deliveries: dict[str, Delivery] = {}
        self._pending: list[Attempt] = []
        self._sending: list[Attempt] = []
        # Ended attempts, oldest first, and whether some were dropped to keep the bound.
        self._log: list[Attempt] = []
        self.truncated = False
        self._next = {"event": 1, "delivery": 1, "attempt": 1, "order": 1}
        self._ran = 0

    # -- emitting ---------------------------------------------------------------------------------
    def emit(
        self,
        api: str,
        tenant: str,
        name: str,
        payload: dict[str, Any],
        at: float,
        targets: list[WebhookTarget],
        event_id: str | None = None,
    ) -> list[str]:
        """Queue one delivery of the event per target webhook, due at `at`; return the delivery ids.

        Called by an API when the change that causes the event is stored (inside the store's
        transaction): it only queues, under this leaf lock, and wakes the scheduler.
        """
        if not targets:
            return []
        return self.emit_event(api, tenant, name, payload, at, targets, event_id)[1]

    def emit_event(
        self,
        api: str,
        tenant: str,
        name: str,
        payload: dict[str, Any],
        at: float,
        targets: list[WebhookTarget],
        event_id: str | None = None,
    ) -> tuple[str, list[str]]:
        """As `emit`, for an event that has an id whether or not a webhook subscribes (a triggered one)."""
        # Compact, member order kept, UTF-8: as JavaScript's JSON.stringify writes it.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        created: list[str] = []
        with self._changed:
            if event_id is None:
                event_id = f"evt_{self._take('event')}"
            for target in targets:
                headers = {"Content-Type": "application/json", "User-Agent": self.user_agent}
                headers.update(signed_headers(api, body, at, target, self.token_header))
                delivery = Delivery(
                    f"dlv_{self._take('delivery')}",
                    event_id,
                    api,
                    tenant,
                    target.webhook_id,
                    name,
                    target.url,
                    body,
                    headers,
                    at,
                    target=target,
                    at=at,
                )
                self._deliveries[delivery.id] = delivery
                self._schedule(delivery, 1, "event", at)
                created.append(delivery.id)
            self._start()
            self._bump()
        return event_id, created

    def retarget(self, api: str, tenant: str, webhook_id: str, url: str | None, active: bool) -> None:
        """A webhook changed: its pending attempts go to its new URL, or are abandoned if it no longer receives."""
        with self._changed:
            for attempt in list(self._pending):
                delivery = attempt.delivery
                if (delivery.api, delivery.tenant, delivery.webhook_id) != (api, tenant, webhook_id):
                    continue
                if not active:
                    self._end(attempt, "abandoned")
                elif url is not None:
                    delivery.url = url
            self._bump()

    def redeliver(self, delivery_id: str) -> dict[str, Any] | None:
        """Send a delivery again now, outside its schedule: same bytes and headers; None if it is unknown."""
        with self._changed:
            delivery = self._deliveries.get(delivery_id)
            if delivery is None:
                return None
            number = max(attempt.number for attempt in delivery.attempts) + 1
            state = delivery.state
            attempt = self._schedule(delivery, number, "redeliver", self.clock.timestamp())
            delivery.state = state  # a redelivery changes the delivery's state only when it succeeds
            self._start()
            self._bump()
            return attempt.public()

    # -- the schedule -----------------------------------------------------------------------------------
    def _take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def _schedule(self, delivery: Delivery, number: int, trigger: str, due: float) -> Attempt:
        attempt = Attempt(f"att_{self._take('attempt')}", delivery, number, trigger, due, self._take("order"))
        delivery.attempts.append(attempt)
        if len(self._pending) >= MAX_PENDING:
            attempt.error = "queue-full"
            self._end(attempt, "failed")
            delivery.state = "failed"
            return attempt
        self._pending.append(attempt)
        delivery.state = "pending"
        return attempt

    def _end(self, attempt: Attempt, state: str) -> None:
        """Move an attempt to the log in `state` (the log keeps the newest `log_size`)."""
        if attempt in self._pending:
            self._pending.remove(attempt)
        if attempt in self._sending:
            self._sending.remove(attempt)
        attempt.state = state
        self._log.append(attempt)
        self._trim_log()
        delivery = attempt.delivery
        if state == "abandoned" and not any(a.state in ("pending", "sending") for a in delivery.attempts):
            delivery.state = "abandoned"

    def _trim_log(self) -> None:
        """Keep the log's newest `log_size` attempts, and say that some were dropped."""
        if len(self._log) > self.log_size:
            del self._log[: len(self._log) - self.log_size]
            self.truncated = True

    def _next_due(self, delivery: Delivery, attempt: Attempt) -> float | None:
        """When the retry after a failed `attempt` is due (None: it was the last)."""
        intervals = RETRY_SECONDS[delivery.api]
        number = attempt.number
        if number <= len(intervals):
            return attempt.due + intervals[number - 1]
        if delivery.api == "collect" and number == len(intervals) + 1:
            return max(delivery.first_due + COLLECT_LAST_AFTER, attempt.due + COLLECT_LAST_GAP)
        return None

    def _pick(self, now: float) -> list[Attempt]:
        """The due attempts that may start now: oldest due first, within the bounds."""
        busy = {(a.delivery.api, a.delivery.tenant, a.delivery.webhook_id) for a in self._sending}
        per_tenant: dict[tuple[str, str], int] = {}
        for attempt in self._sending:
            key = (attempt.delivery.api, attempt.delivery.tenant)
            per_tenant[key] = per_tenant.get(key, 0) + 1
        picked: list[Attempt] = []
        for attempt in sorted(self._pending, key=lambda a: (a.due, a.order)):
            if len(self._sending) + len(picked) >= MAX_IN_FLIGHT:
                break
            if attempt.due > now:
                break
            delivery = attempt.delivery
            hook = (delivery.api, delivery.tenant, delivery.webhook_id)
            tenant = (delivery.api, delivery.tenant)
            if hook in busy or per_tenant.get(tenant, 0) >= PER_TENANT:
                continue
            busy.add(hook)
            per_tenant[tenant] = per_tenant.get(tenant, 0) + 1
            picked.append(attempt)
        return picked

    # -- the scheduler and the senders ------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name="mockserver-deliveries", daemon=True)
            self._thread.start()

    def start_ticking(self, tick: Callable[[], None]) -> None:
        """Call `tick` about once a second from now on (the scheduler starts if it has not)."""
        with self._changed:
            self.tick = tick
            self._start()

    def _tick_due(self) -> Callable[[], None] | None:
        tick = self.tick
        if tick is None or time.monotonic() - self._ticked < 1.0:
            return None
        self._ticked = time.monotonic()
        return tick

    def _run(self) -> None:
        while True:
            with self._changed:
                tick = None if self._stopped else self._tick_due()
            if tick is not None:
                try:
                    tick()
                except Exception:  # the scheduler must outlive one bad tick
                    log.exception("deliveries: the clock's tick failed")
            with self._changed:
                if self._stopped:
                    return
                clock_now = self.clock.timestamp()
                now = clock_now + DUE_SLACK
                picked = self._pick(now)
                if not picked:
                    self._changed.wait(self._sleep_for(now))
                    continue
                generation = self.generation
                for attempt in picked:
                    self._pending.remove(attempt)
                    self._sending.append(attempt)
                    attempt.state = "sending"
                    attempt.url = attempt.delivery.url
                    attempt.sent_at = self._sent_at(attempt, clock_now)
                    attempt.connection = Connection()
            for attempt in picked:
                threading.Thread(
                    target=self._send, args=(attempt, generation), name="mockserver-delivery", daemon=True
                ).start()

    def _sleep_for(self, now: float) -> float:
        """How long the scheduler may sleep: until the next due attempt on a running clock, at most 1 s."""
        if not self._pending or self.clock.frozen:
            return 1.0
        soonest = min(attempt.due for attempt in self._pending)
        return max(0.005, min(1.0, soonest - now))

    def _sent_at(self, attempt: Attempt, now: float) -> float:
        span = self._advanced
        if self.clock.frozen or (span is not None and span[0] <= attempt.due <= span[1] + DUE_SLACK):
            return attempt.due
        return now

    def _send(self, attempt: Attempt, generation: int) -> None:
        delivery = attempt.delivery
        rule = None
        if attempt.trigger != "duplicate" and not attempt.decided:
            rule = self.fault_for(delivery, attempt)  # the fault engine's leaf lock; none of ours is held
        if rule is not None and rule.kind in ("delay", "reorder"):
            self._put_off(attempt, rule, generation)
            return
        if rule is not None:
            self._change(attempt, rule)
        started = time.monotonic()
        headers = attempt.headers if attempt.headers is not None else delivery.headers
        body = attempt.body if attempt.body is not None else delivery.body
        if rule is not None and rule.kind in ("lose", "fail"):
            outcome = Outcome(error="injected") if rule.kind == "fail" else Outcome(status=None)
        elif self.enabled:
            outcome = post(
                attempt.url, body, headers, policy=self.policy, timeout=self.timeout, connection=attempt.connection
            )
        else:
            outcome = Outcome()
        elapsed = round((time.monotonic() - started) * 1000, 1)
        suppressed = not self.enabled or (rule is not None and rule.kind == "lose")
        last = False
        with self._changed:
            if generation != self.generation or attempt not in self._sending:
                return  # a reset or a restore dropped it
            attempt.duration_ms = elapsed
            attempt.connection = None
            if outcome.status is not None:
                attempt.response = {
                    "status": outcome.status,
                    "headers": outcome.headers,
                    "body": outcome.body[:KEPT_ANSWER].decode("utf-8", "replace"),
                }
            attempt.error = outcome.error
            ok = outcome.ok or suppressed
            if attempt.trigger == "duplicate":
                # A copy schedules nothing and leaves the delivery and failureCount as they are.
                self._end(attempt, "suppressed" if suppressed else ("delivered" if ok else "failed"))
                self._ran += 1
                self._bump()
                return
            if ok:
                self._end(attempt, "suppressed" if suppressed else "delivered")
                delivery.state = "delivered"
                if attempt.trigger == "redeliver":  # its pending retries have nothing left to do
                    for retry in [a for a in self._pending if a.delivery is delivery]:
                        self._end(retry, "abandoned")
                    delivery.state = "delivered"
            elif attempt.trigger == "redeliver":
                self._end(attempt, "failed")  # counted in failureCount, and nothing scheduled
            else:
                due = self._next_due(delivery, attempt)
                self._end(attempt, "failed")
                if due is None:
                    delivery.state = "failed"
                    last = True
                else:
                    attempt.next_at = due
                    self._schedule(delivery, attempt.number + 1, "retry", due)
            if rule is not None and rule.kind == "duplicate":
                state = delivery.state  # copies leave the delivery's state as the original made it
                for _ in range(rule.copies):
                    copy = self._schedule(delivery, attempt.number, "duplicate", attempt.due + rule.delay_seconds)
                    copy.fault_id, copy.decided = rule.id, True
                delivery.state = state
            self._release_reordered(delivery)
            self._ran += 1
            self._bump()
        status = self.report(delivery.api, delivery.tenant, delivery.webhook_id, ok, last, generation)
        if status in ("inactive", "paused"):
            self.retarget(delivery.api, delivery.tenant, delivery.webhook_id, None, active=False)

    def _put_off(self, attempt: Attempt, rule: FaultRule, generation: int) -> None:
        """A `delay` or `reorder` rule fired: the attempt goes back to the queue, due later."""
        with self._changed:
            if generation != self.generation or attempt not in self._sending:
                return
            self._sending.remove(attempt)
            seconds = rule.delay_seconds or (60 if rule.kind == "reorder" else 0)
            attempt.due += seconds
            attempt.state, attempt.sent_at, attempt.connection = "pending", None, None
            attempt.fault_id, attempt.decided, attempt.reordered = rule.id, True, rule.kind == "reorder"
            self._pending.append(attempt)
            self._bump()

    def _change(self, attempt: Attempt, rule: FaultRule) -> None:
        """Give an attempt what a signature, timestamp or body fault sends instead of the delivery's own."""
        delivery = attempt.delivery
        target = delivery.target
        attempt.fault_id, attempt.decided = rule.id, True
        headers = dict(delivery.headers)
        body = delivery.body
        secret = target.secret if target is not None else None
        token = target.token if target is not None else None
        if rule.kind == "badSignature":
            if delivery.api == "insigner":
                headers[SIGNATURE] = signature((secret or "")[::-1] + "0", body)
                attempt.signature_valid = False
            else:
                headers[self.token_header] = f"{token or ''}-wrong"
                attempt.signature_valid = token is None
        elif rule.kind == "missingSignature":
            if delivery.api == "insigner":
                headers.pop(SIGNATURE, None)
                attempt.signature_valid = False
            else:
                headers.pop(self.token_header, None)
                attempt.signature_valid = token is None
        elif rule.kind == "staleTimestamp":
            headers[TIMESTAMP] = str(int(delivery.at) - rule.stale_seconds)
        elif rule.kind == "tamperedBody":
            payload = json.loads(body)
            data = payload.get("data") if isinstance(payload, dict) else None
            if isinstance(data, dict) and isinstance(data.get("sentCount"), int):
                data["sentCount"] += 1
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            attempt.signature_valid = False  # the true body's signature over a changed body
        attempt.headers, attempt.body = headers, body

    def _release_reordered(self, delivery: Delivery) -> None:
        """An attempt to a webhook ended: a reordered one waiting for it is due now."""
        now = self.clock.timestamp()
        for waiting in self._pending:
            same = (waiting.delivery.api, waiting.delivery.tenant, waiting.delivery.webhook_id)
            if waiting.reordered and same == (delivery.api, delivery.tenant, delivery.webhook_id):
                waiting.due = min(waiting.due, now)
                waiting.reordered = False

    # -- waiting: an advance, settle ----------------------------------------------------------------------
    def advanced(self, start: float, end: float) -> None:
        """The clock moved from `start` to `end`: the attempts due in the span run now, sent at their due time."""
        with self._changed:
            self._advanced = (start, end)
            self._bump()

    def settle(self, seconds: float) -> tuple[bool, int, int]:
        """Wait until no attempt due by the mock's now is pending or sending, at most `seconds` of real time.

        Return (settled, attempts that ended meanwhile, attempts still due or sending).
        """
        deadline = time.monotonic() + seconds
        with self._changed:
            ran_before = self._ran
            while True:
                due = self._due_count()
                left = deadline - time.monotonic()
                if due == 0 or left <= 0 or self._stopped:
                    return due == 0, self._ran - ran_before, due
                self._changed.wait(min(left, 0.25))

    def _due_count(self) -> int:
        now = self.clock.timestamp() + DUE_SLACK
        return len(self._sending) + sum(1 for attempt in self._pending if attempt.due <= now)

    @property
    def idle(self) -> bool:
        """True when nothing is pending or sending (an advance then has nothing to wait for)."""
        with self._lock:
            return not self._pending and not self._sending

    # -- reading ------------------------------------------------------------------------------------------
    def _all(self) -> Iterator[Attempt]:
        """Every attempt listed: the log's, then the pending and sending ones, oldest first."""
        listed = [*self._log, *self._sending, *self._pending]
        return iter(sorted(listed, key=lambda a: int(a.id[4:])))

    def attempts(self, wanted: AttemptFilter, limit: int | None = None) -> dict[str, Any]:
        """The attempts matching `wanted`, oldest first (`limit` keeps the newest), with the counts."""
        with self._lock:
            matched = [attempt for attempt in self._all() if wanted.accepts(attempt)]
            pending = sum(1 for attempt in matched if attempt.state in ("pending", "sending"))
            shown = matched[-limit:] if limit else matched
            return {
                "attempts": [attempt.public() for attempt in shown],
                "total": len(matched),
                "pending": pending,
                "truncated": self.truncated,
            }

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            return found.public() if found is not None else None

    def next_due(self) -> float | None:
        with self._lock:
            return min((attempt.due for attempt in self._pending), default=None)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    # -- clearing -----------------------------------------------------------------------------------------
    def clear(self) -> None:
        """Drop every ended attempt from the log; pending and sending ones stay."""
        with self._changed:
            self._log = []
            self.truncated = False
            live = {attempt.delivery.id for attempt in (*self._pending, *self._sending)}
            self._deliveries = {key: value for key, value in self._deliveries.items() if key in live}

    def reset(self) -> None:
        """Drop everything, closing the connections in flight (a reset or a restore never waits for them)."""
        with self._changed:
            sending = list(self._sending)
            self.generation += 1
            self._reset_state()
            self._advanced = None
            self._bump()
        _close(sending)

    def drop_tenant(self, api: str, tenant: str) -> None:
        """A tenant was evicted: its deliveries go with it, those in flight closed and dropped."""
        self.replace_tenants({(api, tenant)}, None)

    def _drop_where(self, gone: Callable[[str, str], bool]) -> None:
        """Forget the deliveries of the tenants `gone` names (api, tenant id); called with the lock held."""

        def kept(attempt: Attempt) -> bool:
            return not gone(attempt.delivery.api, attempt.delivery.tenant)

        self._pending = [attempt for attempt in self._pending if kept(attempt)]
        self._sending = [attempt for attempt in self._sending if kept(attempt)]
        self._log = [attempt for attempt in self._log if kept(attempt)]
        self._deliveries = {key: value for key, value in self._deliveries.items() if not gone(value.api, value.tenant)}

    # -- snapshots ------------------------------------------------------------------------------------------
    def export(self, tenants: Collection[tuple[str, str]] | None = None) -> dict[str, Any]:
        """Every delivery with its attempts (pending, sending and the log's), and the id sequences, as JSON.

        `tenants` ((api, tenant id) pairs) keeps those tenants' deliveries only (a one-tenant
        snapshot). An attempt in flight is exported as pending: restored, it is sent again with the
        same bytes.
        """
        with self._lock:
            logged = {id(attempt) for attempt in self._log}
            listed = {id(attempt) for attempt in (*self._log, *self._pending, *self._sending)}
            return {
                "next": dict(self._next),
                "truncated": self.truncated,
                "deliveries": [
                    _export_delivery(delivery, logged, listed)
                    for delivery in self._deliveries.values()
                    if tenants is None or (delivery.api, delivery.tenant) in tenants
                ],
            }

    def prepare(self, data: Any, tenants: Collection[tuple[str, str]] | None = None) -> dict[str, Any]:
        """Check a snapshot's `deliveries`; return a copy to restore, or raise ValueError naming the member.

        `tenants`: a one-tenant snapshot's (api, tenant id) pairs, which every delivery must be of.
        """
        copied = json.loads(json.dumps(data))
        deliveries, _, _ = _build(copied)  # a dry run: what it refuses, restore never meets
        if tenants is not None:
            for n, delivery in enumerate(deliveries.values()):
                if (delivery.api, delivery.tenant) not in tenants:
                    raise ValueError(
                        f"deliveries.{n}.tenant: {delivery.tenant!r} of {delivery.api} is not the snapshot's"
                    )
        return copied

    def replace_tenants(self, tenants: Collection[tuple[str, str]], data: dict[str, Any] | None) -> None:
        """Take a one-tenant snapshot's deliveries (a checked copy from `prepare`; None: it has none).

        The tenants' own deliveries go, those in flight closed and dropped; the snapshot's come in
        under new event, delivery and attempt ids, in their order, after the live ones (as the
        rules and journal entries of a one-tenant snapshot do). Other tenants' deliveries, in
        flight or not, go on untouched: the generation does not change.
        """
        incoming, pending, logged = _build(data) if data is not None else ({}, [], [])
        wanted = set(tenants)
        with self._changed:
            sending = [a for a in self._sending if (a.delivery.api, a.delivery.tenant) in wanted]
            self._drop_where(lambda api, tenant: (api, tenant) in wanted)
            events: dict[str, str] = {}
            for delivery in incoming.values():
                if delivery.event_id not in events:
                    events[delivery.event_id] = f"evt_{self._take('event')}"
                delivery.event_id = events[delivery.event_id]
                delivery.id = f"dlv_{self._take('delivery')}"
                self._deliveries[delivery.id] = delivery
            attempts = sorted(
                (attempt for delivery in incoming.values() for attempt in delivery.attempts),
                key=lambda attempt: int(attempt.id[4:]),
            )
            for attempt in attempts:
                attempt.id = f"att_{self._take('attempt')}"
            for attempt in sorted(attempts, key=lambda attempt: attempt.order):
                attempt.order = self._take("order")
            self._pending.extend(pending)
            self._log.extend(logged)
            self._trim_log()
            if pending:
                self._start()
            self._bump()
        _close(sending)

    def restore(self, data: dict[str, Any]) -> None:
        """Become the snapshot's deliveries (a checked copy from `prepare`); attempts in flight are dropped."""
        deliveries, pending, log_ = _build(data)
        with self._changed:
            sending = list(self._sending)
            self.generation += 1
            self._reset_state()
            self._deliveries = deliveries
            self._pending = pending
            self._log = log_[-self.log_size :]
            self.truncated = bool(data.get("truncated")) or len(log_) > self.log_size
            self._next = {kind: int(data["next"][kind]) for kind in self._next}
            if pending:
                self._start()
            self._bump()
        _close(sending)

    def stop(self) -> None:
        """The server is stopping: the scheduler ends, waits end, connections in flight are closed."""
        with self._changed:
            self._stopped = True
            sending = list(self._sending)
            self.generation += 1
            self._bump()
        _close(sending)


def _close(attempts: list[Attempt]) -> None:
    """Close the connections of attempts that were in flight, after the deliveries' lock is let go.

    A reset, a restore or an eviction calls this inside the store's transaction: closing a socket
    sends nothing the mock waits for (no linger), so it never waits on a receiver; the sender
    thread blocked on that socket wakes with an error, and its attempt, no longer among those
    being sent, is dropped with its report.
    """
    for attempt in attempts:
        if attempt.connection is not None:
            attempt.connection.close()


# -- a snapshot's deliveries ----------------------------------------------------------------------------------
ATTEMPT_MEMBERS = (
    "id", "number", "trigger", "due", "order", "state", "url", "sentAt", "response", "error", "durationMs",
    "nextAt", "faultId", "signatureValid", "decided", "reordered",
)  # fmt: skip


def _export_delivery(delivery: Delivery, logged: set[int], listed: set[int]) -> dict[str, Any]:
    target = delivery.target
    return {
        "id": delivery.id,
        "eventId": delivery.event_id,
        "api": delivery.api,
        "tenant": delivery.tenant,
        "webhookId": delivery.webhook_id,
        "event": delivery.event,
        "url": delivery.url,
        "body": delivery.body.decode("utf-8"),
        "headers": dict(delivery.headers),
        "firstDue": delivery.first_due,
        "at": delivery.at,
        "target": None
        if target is None
        else {"webhookId": target.webhook_id, "url": target.url, "secret": target.secret, "token": target.token},
        "state": delivery.state,
        "attempts": [
            {
                "id": attempt.id,
                "number": attempt.number,
                "trigger": attempt.trigger,
                "due": attempt.due,
                "order": attempt.order,
                "state": "pending" if attempt.state == "sending" else attempt.state,
                "url": attempt.url,
                "sentAt": None if attempt.state == "sending" else attempt.sent_at,
                "response": attempt.response,
                "error": attempt.error,
                "durationMs": attempt.duration_ms,
                "nextAt": attempt.next_at,
                "faultId": attempt.fault_id,
                "signatureValid": attempt.signature_valid,
                "decided": attempt.decided,
                "reordered": attempt.reordered,
                "headers": attempt.headers,
                "body": attempt.body.decode("utf-8") if attempt.body is not None else None,
                "logged": id(attempt) in logged,
            }
            for attempt in delivery.attempts
            if id(attempt) in listed
        ],
    }


def _build(data: Any) -> tuple[dict[str, Delivery], list[Attempt], list[Attempt]]:
    """Deliveries and their attempts from a snapshot's `deliveries`; raise ValueError naming the member."""
    from ..ports import WebhookTarget

    if not isinstance(data, dict) or not isinstance(data.get("deliveries"), list):
        raise ValueError("deliveries: an object with a `deliveries` array")
    following = data.get("next")
    if not isinstance(following, dict) or any(
        not isinstance(following.get(kind), int) or following[kind] < 1
        for kind in ("event", "delivery", "attempt", "order")
    ):
        raise ValueError("next: the next event, delivery, attempt and order numbers (whole numbers of at least 1)")
    deliveries: dict[str, Delivery] = {}
    pending: list[Attempt] = []
    logged: list[Attempt] = []
    for n, row in enumerate(data["deliveries"]):
        where = f"deliveries.{n}"
        try:
            target = row["target"]
            delivery = Delivery(
                str(row["id"]), str(row["eventId"]), str(row["api"]), str(row["tenant"]), str(row["webhookId"]),
                str(row["event"]), str(row["url"]), str(row["body"]).encode("utf-8"),
                {str(k): str(v) for k, v in dict(row["headers"]).items()}, float(row["firstDue"]),
                target=None if target is None else WebhookTarget(
                    str(target["webhookId"]), str(target["url"]), target.get("secret"), target.get("token")
                ),
                at=float(row["at"]), state=str(row["state"]),
            )  # fmt: skip
            json.loads(delivery.body)
            if delivery.api not in RETRY_SECONDS or delivery.id in deliveries:
                raise ValueError("an unknown api or a repeated id")
            for m, item in enumerate(row["attempts"]):
                attempt = Attempt(
                    str(item["id"]), delivery, int(item["number"]), str(item["trigger"]), float(item["due"]),
                    int(item["order"]), state=str(item["state"]), url=str(item["url"] or ""),
                    sent_at=None if item["sentAt"] is None else float(item["sentAt"]),
                    response=item["response"], error=item["error"], duration_ms=item["durationMs"],
                    next_at=None if item["nextAt"] is None else float(item["nextAt"]), fault_id=item["faultId"],
                    headers=None if item["headers"] is None else {str(k): str(v) for k, v in item["headers"].items()},
                    body=None if item["body"] is None else str(item["body"]).encode("utf-8"),
                    signature_valid=bool(item["signatureValid"]), decided=bool(item["decided"]),
                    reordered=bool(item["reordered"]),
                )  # fmt: skip
                if not attempt.id.startswith("att_") or not attempt.id[4:].isdigit():
                    raise ValueError(f"attempts.{m}.id: att_<n>")
                delivery.attempts.append(attempt)
                if attempt.state == "pending":
                    pending.append(attempt)
                elif item["logged"]:
                    logged.append(attempt)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{where}: not a delivery of this server ({exc})") from None
        deliveries[delivery.id] = delivery
    logged.sort(key=lambda attempt: int(attempt.id[4:]))
    return deliveries, pending, logged
