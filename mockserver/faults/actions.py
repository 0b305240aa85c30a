"""What a fired rule does: wait, answer an error, close the connection, or answer broken JSON."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Response

from ..errors import ApiError
from ..responses import dumps
from ..serving import DROP_CONNECTION
from .rules import FaultRule

if TYPE_CHECKING:
    from ..emulated import EmulatedApi

RETRY_AFTER_STATUSES = (429, 503)


def wait(rule: FaultRule) -> None:
    """Sleep `delayMs` in the request's own thread (other requests run on other threads)."""
    if rule.delay_ms:
        time.sleep(rule.delay_ms / 1000)


def with_headers(response: Response, rule: FaultRule) -> Response:
    """Set the rule's `headers`, which win over the default ones."""
    for name, value in rule.headers.items():
        response.headers[name] = value
    return response


def error_answer(rule: FaultRule, api: EmulatedApi) -> Response:
    """Answer `rule.status` in the API's own error body (`Retry-After` on 429 and 503); `body` wins."""
    headers = {"Retry-After": str(rule.retry_after)} if rule.status in RETRY_AFTER_STATUSES else {}
    response = api.render_error(ApiError(None, status=rule.status, headers=headers))
    if rule.body is not None:
        response.set_data(rule.body if isinstance(rule.body, str) else dumps(rule.body))
    return with_headers(response, rule)


def malformed_answer(rule: FaultRule, api: EmulatedApi, method: str, path: str) -> Response:
    """Answer 200 with the first half of the API's own answer to the call (or of the rule's `body`).

    A string `body` is sent as it is. Cut in half, no JSON parser accepts it; what it says does not
    matter, only that it is the start of what this API answers, never another API's shape.
    """
    if isinstance(rule.body, str):
        text = rule.body
    else:
        whole = dumps(rule.body if rule.body is not None else api.example_answer(method, path))
        text = whole[: len(whole) // 2]
    return with_headers(Response(text, status=200, mimetype="application/json"), rule)


def drop(rule: FaultRule, environ: Mapping[str, Any]) -> tuple[Response, bool]:
    """Close the client's connection; return the answer (not delivered then) and whether it closed.

    The server puts the way to close its connection in the environ. Without a connection to
    close (the Flask test client), the answer is what the client gets: 502 with an empty body,
    what a proxy reports when its upstream hangs up.
    """
    close = environ.get(DROP_CONNECTION)
    closed = bool(close()) if close is not None else False
    return with_headers(Response(b"", status=502), rule), closed
