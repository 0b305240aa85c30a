"""Python client for the mock server's `/__mock` control plane, one method per control call."""

from __future__ import annotations

import json as json_module
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import quote

import requests

__all__ = ["MockServerClient", "MockServerError", "VerificationError"]

_POLL_INTERVAL = 0.05


class MockServerError(Exception):
    """A control-plane call failed: `.status` is the HTTP status (0 when no answer came)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        """Store the HTTP status, the error slug and the message."""
        self.status = status
        self.message = message
        self.code = code
        super().__init__(status, message, code)

    def __str__(self) -> str:
        """Render as `"<status> <code>: <message>"`."""
        if self.code:
            return f"{self.status} {self.code}: {self.message}"
        return f"{self.status}: {self.message}"

    @classmethod
    def from_response(cls, response: requests.Response) -> MockServerError:
        """Build the error from a response, reading its `{"error": {...}}` envelope if any."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "error" in body:
            error = body["error"]
            if isinstance(error, dict):
                code = error.get("code")
                message = error.get("message")
                return cls(
                    response.status_code,
                    str(message) if message is not None else _raw_text(response),
                    str(code) if code is not None else None,
                )
            return cls(response.status_code, str(error))
        return cls(response.status_code, _raw_text(response))


class VerificationError(AssertionError, MockServerError):
    """A verification did not hold: the server's sentence, then its near misses, one difference a line.

    `.result` is the server's whole answer (`count`, `requests`, `nearMisses`, `journalTruncated`).
    """

    def __init__(self, result: dict[str, Any]) -> None:
        """Build the message from the server's 409 answer."""
        error = result.get("error") or {}
        MockServerError.__init__(self, 409, str(error.get("message", "verification failed")), "verification-failed")
        self.result = result
        self.near_misses: list[dict[str, Any]] = list(result.get("nearMisses") or [])

    def __str__(self) -> str:
        """Render as the server's sentence followed by the near misses."""
        return describe_verification(self.message, self.near_misses)


def describe_verification(message: str, near_misses: list[dict[str, Any]]) -> str:
    """The server's sentence, then each near miss and, one a line, how it differs."""
    lines = [message]
    attempts = any("attempt" in miss for miss in near_misses)
    if near_misses:
        lines.append("Closest attempts:" if attempts else "Closest requests:")
    for miss in near_misses:
        if "attempt" in miss:  # a delivery attempt (POST /__mock/deliveries/verify)
            attempt = miss.get("attempt") or {}
            status = (attempt.get("response") or {}).get("status")
            lines.append(
                f"  {attempt.get('id')} {attempt.get('api')} {attempt.get('event')} to {attempt.get('webhookId')}"
                f" #{attempt.get('attempt')} {attempt.get('state')} -> {status} (tenant {attempt.get('tenant')}):"
            )
        else:
            request = miss.get("request") or {}
            lines.append(
                f"  #{request.get('id')} {request.get('api')} {request.get('method')} {request.get('path')}"
                f" -> {request.get('status')} (tenant {request.get('tenant') or 'none'}):"
            )
        for difference in miss.get("differences") or []:
            expected = _shown(difference["expected"]) if "expected" in difference else "-"
            actual = _shown(difference["actual"]) if "actual" in difference else "(missing)"
            lines.append(f"    {difference.get('field')}: expected {expected}, got {actual}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    return json_module.dumps(value, ensure_ascii=False)


def _raw_text(response: requests.Response) -> str:
    text = response.text.strip()
    return text or response.reason or "no message"


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _iso8601(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat().replace("+00:00", "Z")


class MockServerClient:
    """Drive a running mock server through its `/__mock` control plane."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 5.0) -> None:
        """Point the client at `base_url`, sending `X-Mock-Token` when `token` is set."""
        self.url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token is not None:
            self.session.headers["X-Mock-Token"] = token

    def __repr__(self) -> str:
        """Show the server URL."""
        return f"MockServerClient({self.url!r})"

    def __enter__(self) -> MockServerClient:
        """Return the client itself."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the session."""
        self.close()

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self.session.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        if params is not None:
            params = {key: value for key, value in params.items() if value is not None}
        try:
            response = self.session.request(
                method,
                f"{self.url}/__mock{path}",
                json=json,
                params=params or None,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:  # refused, reset, timed out: no answer came
            raise MockServerError(0, f"{method} /__mock{path}: no answer from {self.url}: {exc}", "no-answer") from exc
        if not 200 <= response.status_code < 300:
            raise MockServerError.from_response(response)
        return response

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise MockServerError(
                response.status_code,
                f"answer to {method} {path} is not JSON: {_raw_text(response)[:200]}",
                "invalid-response",
            ) from exc

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._call(method, path, **kwargs)
        return body if body is not None else {}

    def _list(self, path: str, key: str, params: dict[str, Any] | None = None) -> list[Any]:
        response = self._send("GET", path, params=params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise MockServerError(
                response.status_code,
                f"answer to GET {path} has no {key!r} list: {_raw_text(response)[:200]}",
                "invalid-response",
            )
        return cast(list[Any], body[key])

    def health(self) -> dict[str, Any]:
        """Return the server's health document."""
        return self._object("GET", "/health")

    def wait_until_ready(self, timeout: float = 10) -> dict[str, Any]:
        """Poll the health call every 50 ms until it answers 200 and return its document."""
        deadline = time.monotonic() + timeout
        last_problem = "no attempt made"
        while True:
            remaining = deadline - time.monotonic()
            try:
                response = self.session.get(
                    f"{self.url}/__mock/health",
                    timeout=max(min(self.timeout, remaining), _POLL_INTERVAL),
                )
            except requests.RequestException as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return cast(dict[str, Any], response.json())
                    except ValueError:
                        last_problem = f"health answer is not JSON: {_raw_text(response)[:200]}"
                else:
                    last_problem = str(MockServerError.from_response(response))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MockServerError(
                    0,
                    f"mock server at {self.url} not ready after {timeout}s (last: {last_problem})",
                    "timeout",
                )
            time.sleep(min(_POLL_INTERVAL, remaining))

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Reset the server to its start-up state, reseeding when `seed` is given."""
        body = {} if seed is None else {"seed": seed}
        return self._object("POST", "/reset", json=body)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule and return it with its `id`, `hits` and `remaining`."""
        return self._object("POST", "/faults", json=rule)

    def faults(self) -> list[dict[str, Any]]:
        """Return the live fault rules."""
        return self._list("/faults", "faults")

    def remove_fault(self, id: str) -> None:
        """Remove one fault rule by its id."""
        self._call("DELETE", f"/faults/{_segment(id)}")

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    @contextmanager
    def fault(self, **rule: Any) -> Iterator[dict[str, Any]]:
        """Add a fault rule for the duration of a `with` block, yielding the created rule."""
        created = self.add_fault(**rule)
        try:
            yield created
        finally:
            try:
                self.remove_fault(created["id"])
            except MockServerError as exc:
                if exc.status != 404:
                    raise

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Return the journal of requests to the emulated APIs, oldest first, matching `filters`."""
        return self._list("/requests", "requests", params=filters)

    def clear_requests(self) -> None:
        """Empty the request journal."""
        self._call("DELETE", "/requests")

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Return every registered webhook of both APIs (by API, then oldest first) matching `api` and `tenant`."""
        return self._list("/webhooks", "webhooks", params=filters)

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """Return the delivery attempts, oldest first, matching `filters` (api, tenant, webhook, event, state, ...)."""
        return self._list("/deliveries", "attempts", params=filters)

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        """Return one delivery (one event to one webhook) with its attempts."""
        return self._object("GET", f"/deliveries/{_segment(delivery_id)}")

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again now (same bytes and headers); return the new attempt."""
        return self._object("POST", f"/deliveries/{_segment(delivery_id)}/redeliver")

    def verify_delivery(
        self, times: int | dict[str, int] | None = None, within: float | None = None, **pattern: Any
    ) -> dict[str, Any]:
        """Assert that delivery attempts matching `pattern` happened `times` times, waiting up to `within` seconds.

        `pattern` takes the fields of POST /__mock/deliveries/verify (api, tenant, webhook, event, state,
        status, attempt, trigger, signatureValid, faultId, headers, body). Raise VerificationError when it
        does not hold.
        """
        __tracebackhide__ = True
        return self._verify("/deliveries/verify", times, within, pattern)

    def trigger(self, api: str, tenant: str, event: str, **entity: Any) -> dict[str, Any]:
        """Emit a documented event of an entity now (`bulkSendId=`, `documentId=`, `requestId=` and `status=`).

        Return `{"eventId", "deliveries"}`: one delivery per active webhook that subscribes to it.
        """
        return self._object("POST", "/webhooks/trigger", json={"api": api, "tenant": tenant, "event": event, **entity})

    def clear_deliveries(self) -> None:
        """Drop the ended attempts from the log (pending ones stay)."""
        self._call("DELETE", "/deliveries")

    def settle(self, within: float = 10) -> dict[str, Any]:
        """Wait up to `within` seconds until no attempt due by the mock's now is pending or sending.

        Raise MockServerError (409 `not-settled`) when they are not done in time.
        """
        wait = max(0.0, float(within))
        body = {"withinMs": round(wait * 1000)}
        try:
            response = self.session.post(f"{self.url}/__mock/deliveries/settle", json=body, timeout=self.timeout + wait)
        except requests.RequestException as exc:
            problem = f"POST /__mock/deliveries/settle: no answer from {self.url}: {exc}"
            raise MockServerError(0, problem, "no-answer") from exc
        if response.status_code != 200:
            raise MockServerError.from_response(response)
        return cast(dict[str, Any], response.json())

    def clock(self) -> dict[str, Any]:
        """Return the mock clock as `{"now": ..., "frozen": ...}`."""
        return self._object("GET", "/clock")

    def freeze_clock(self, at: str | datetime | None = None) -> dict[str, Any]:
        """Freeze the clock at `at`, or at the current mock time when `at` is None."""
        if at is None:
            freeze: bool | str = True
        elif isinstance(at, datetime):
            freeze = _iso8601(at)
        elif isinstance(at, str):
            freeze = at
        else:
            raise TypeError(f"at must be None, a str or a datetime, not {type(at).__name__}")
        return self._object("POST", "/clock", json={"freeze": freeze})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward by `seconds`, frozen or not."""
        return self._object("POST", "/clock", json={"advance": seconds})

    def unfreeze_clock(self) -> dict[str, Any]:
        """Let the clock run on from the current mock time."""
        return self._object("POST", "/clock", json={"unfreeze": True})

    def rate_limits(self) -> dict[str, Any]:
        """Return the rate-limit settings per API."""
        return self._object("GET", "/rate-limits")

    def set_rate_limits(self, **settings: dict[str, Any]) -> dict[str, Any]:
        """Change rate-limit settings per API, e.g. `insigner={"enabled": False}`."""
        return self._object("PUT", "/rate-limits", json=settings)

    def state(
        self,
        api: str | None = None,
        collection: str | None = None,
        tenant: str | None = None,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """Return the state overview, or the items of one collection of `api`."""
        if api is None and collection is None:
            return self._object("GET", "/state", params={"tenant": tenant})
        if api is None or collection is None:
            raise ValueError("state() needs both api and collection, or neither")
        path = f"/state/{_segment(api)}/{_segment(collection)}"
        return self._list(path, "items", params={"tenant": tenant})

    def add_entity(
        self,
        api: str,
        collection: str,
        entity: dict[str, Any],
        tenant: str | None = None,
    ) -> dict[str, Any]:
        """Add an entity to one collection, in the tenant of API key `tenant` when given."""
        return self._object(
            "POST",
            f"/state/{_segment(api)}/{_segment(collection)}",
            json=entity,
            params={"tenant": tenant},
        )

    def scenarios(self) -> list[dict[str, Any]]:
        """Return the shipped scenarios with their names and descriptions."""
        return self._list("/scenarios", "scenarios")

    def apply_scenario(self, name: str) -> dict[str, Any]:
        """Apply one scenario by name."""
        return self._object("POST", f"/scenarios/{_segment(name)}")

    def verify(
        self, times: int | dict[str, int] | None = None, within: float | None = None, **pattern: Any
    ) -> dict[str, Any]:
        """Assert that requests matching `pattern` arrived `times` times, waiting up to `within` seconds.

        `pattern` takes the fields of POST /__mock/verify (api, method, path, tenant, status, query,
        headers, body); `times` is `{"exactly": n}`, `{"atLeast": n}` and/or `{"atMost": m}`, or an
        int for exactly (default at least 1). Raise VerificationError when it does not hold.
        """
        __tracebackhide__ = True  # pytest shows the test's line and the message, not this method
        return self._verify("/verify", times, within, pattern)

    def _verify(
        self, path: str, times: int | dict[str, int] | None, within: float | None, pattern: dict[str, Any]
    ) -> dict[str, Any]:
        __tracebackhide__ = True
        body: dict[str, Any] = dict(pattern)
        if times is not None:
            body["times"] = {"exactly": times} if isinstance(times, int) and not isinstance(times, bool) else times
        wait = 0.0 if within is None else float(within)
        if wait:
            body["withinMs"] = round(wait * 1000)
        response = self.session.post(f"{self.url}/__mock{path}", json=body, timeout=self.timeout + wait)
        if response.status_code == 409:
            try:
                result = response.json()
            except ValueError:
                result = None
            if isinstance(result, dict) and result.get("ok") is False:
                raise VerificationError(result)
        if response.status_code != 200:
            raise MockServerError.from_response(response)
        return cast(dict[str, Any], response.json())

    def coverage(self, format: str | None = None, tenant: str | None = None) -> dict[str, Any] | str:
        """Return the documented answers met so far: a dict, or text for format "markdown" or "junit"."""
        response = self._send("GET", "/coverage", params={"format": format, "tenant": tenant})
        if format in (None, "json"):
            return cast(dict[str, Any], response.json())
        return response.text

    def clear_coverage(self) -> None:
        """Start counting coverage again."""
        self._call("DELETE", "/coverage")

    def snapshot(self, tenant: str | None = None) -> dict[str, Any]:
        """Return the server's whole mutable state (or one tenant's) as a document restore() takes."""
        return self._object("GET", "/snapshot", params={"tenant": tenant})

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Make `snapshot` the server's state; return the server's summary."""
        return self._object("PUT", "/snapshot", json=snapshot)
