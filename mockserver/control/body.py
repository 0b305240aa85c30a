"""The body of a control call: the one JSON body reader, its problems in the control plane's words."""

from __future__ import annotations

from typing import Any

from flask import request

from ..bodies import MAX_JSON_DEPTH, BodyError, read_json_body
from ..context import get_state
from ..errors import ControlError

MESSAGES = {
    "empty": "a JSON object body is required",
    "utf-8": "the body is not valid JSON",
    "malformed": "the body is not valid JSON",
    "not-object": "the body must be a JSON object",
    "too-deep": f"the body nests deeper than {MAX_JSON_DEPTH} levels",
    "surrogate": "body: contains a lone UTF-16 surrogate escape",
}


def control_body(
    required: bool = False, max_bytes: int | None = None, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """Return the JSON object body of a control call (empty when absent and optional)."""
    try:
        limit = max_bytes if max_bytes is not None else get_state().settings.max_body_bytes
        body = read_json_body(request, limit, required=required, max_depth=max_depth)
    except BodyError as exc:
        if exc.too_large:
            raise ControlError(413, "request-entity-too-large", exc.message) from None
        message = MESSAGES.get(exc.problem, exc.message) if exc.problem != "too-deep" else exc.message
        raise ControlError(400, "bad-request", message) from None
    return body if body is not None else {}


def reject_unknown(body: dict[str, Any], allowed: set[str], code: str) -> None:
    """Raise a 400 naming the first key of `body` that a call does not take."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlError(400, code, f"{unknown[0]}: unknown field (expected {', '.join(sorted(allowed))})")
