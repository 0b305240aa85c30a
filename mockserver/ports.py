"""What the emulated APIs ask of the rate limits, said without naming the concern that answers.

The APIs stand below the concerns: inSigner's backend checks its bulk-send window and its views
show the key's `RateLimit-*` headers, but neither may import `ratelimits/` (the concerns stand
apart, and a type-only import counts). They name `RequestLimits`; `ratelimits.model.RateLimits`
is what fills it, and `Decision` is the answer both sides speak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Decision:
    """The outcome of one look at a window: allowed or not, and what the headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """Return the `RateLimit-*` headers (inSigner's names, unprefixed)."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RequestLimits(Protocol):
    """The rate limits as an emulated API sees them: a key's window, and inSigner's bulk-send window."""

    def peek_request(self, api: str, tenant_id: str, key: str, now: float) -> Decision | None:
        """Return what the window of `key` says now, without counting (None: the API has no such limit)."""
        ...

    def enabled(self, api: str) -> bool:
        """Tell whether `api`'s limits are on (`enabled` of /__mock/rate-limits): its other rates follow it."""
        ...

    def check_bulk_send(self, tenant_id: str, now: float) -> None:
        """Raise RateLimited (with Retry-After) if the organization's bulk-send window is full."""
        ...

    def record_bulk_send(self, tenant_id: str, now: float) -> None:
        """Count one successful bulk send of the organization."""
        ...


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook an event goes to, as its API stores it: where, and what signs the delivery."""

    webhook_id: str
    url: str
    # inSigner's signing secret; Collect's `secretToken` (None: none set).
    secret: str | None = None
    token: str | None = None


class WebhookEvents(Protocol):
    """What an emulated API tells the webhooks concern (`webhooks.model.Deliveries` fills it)."""

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
        """Queue the event's delivery to each target, due at `at` (mock time); return the delivery ids."""
        ...

    def retarget(self, api: str, tenant: str, webhook_id: str, url: str | None, active: bool) -> None:
        """A webhook changed: its pending attempts go to `url`, or are abandoned when it is no longer active."""
        ...


@dataclass(frozen=True)
class PreparedEvent:
    """An event an API made ready for POST /__mock/webhooks/trigger: its body, when, and where it goes."""

    name: str
    payload: dict[str, Any]
    at: float
    targets: list[WebhookTarget]
    # Collect's events carry an id of their own in the body; inSigner's get one from the deliveries.
    event_id: str | None = None
