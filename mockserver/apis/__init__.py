"""The emulated APIs and what every one of them offers the app: routes, errors, auth, seed data."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Request, Response

from ..errors import ApiError, BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from ..state import MockState
    from ..tenants import Tenant

# JSON nested deeper than this is refused (400, mock-defined): no field of either API nests more than
# a few levels, and code that walks a value recursively (copies, dumps, schemas) must never reach
# Python's recursion limit, which json.loads alone lets a body come within a few frames of.
MAX_JSON_DEPTH = 100


@dataclass
class EmulatedApi:
    """One emulated API as the app and the control plane see it."""

    name: str
    prefix: str
    blueprint: Blueprint
    collections: dict[str, tuple[str, tuple[str, ...]]]
    render_error: Callable[[ApiError], Response]
    authenticate: Callable[["MockState", Request], "Tenant"]
    build: Callable[["MockState"], Any]
    describe_entity: Callable[[str, dict], dict] = field(default=lambda collection, doc: doc)
    # The API's own response headers (e.g. inSigner's X-Request-Id and RateLimit-*), on every answer.
    decorate: Callable[["MockState", Request, Response], Response] | None = None

    def owns(self, path: str) -> bool:
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)


def api_headers_stage(state: "MockState", api: EmulatedApi, req: Request, response: Response) -> Response:
    """Pipeline after-stage (API_HEADERS): let the API add its own headers to any of its answers."""
    return api.decorate(state, req, response) if api.decorate is not None else response


def read_json_body(request: Request, max_bytes: int, *, object_required: bool = True,
                   reject_lone_surrogates: bool = True) -> Any:
    """Return the parsed JSON body, or raise BadRequest/PayloadTooLarge with a clear reason.

    A lone surrogate escape (`"\\ud800"`) is valid JSON but text with no UTF-8 form, so it can be
    neither stored nor answered: a 400 here, unless the API's schemas name the field instead.
    """
    length = request.content_length
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"The request body exceeds {max_bytes} bytes.")
    raw = request.stream.read(max_bytes + 1)
    if over_limit(request, raw, max_bytes):
        raise PayloadTooLarge(f"The request body exceeds {max_bytes} bytes.")
    mimetype = request.mimetype or ""
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise BadRequest(f"Content-Type must be application/json, not {mimetype}.",
                         field_errors=[{"field": "body", "message": "Content-Type must be application/json"}])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.",
                         field_errors=[{"field": "body", "message": "Invalid UTF-8"}]) from None
    if not text.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.",
                         field_errors=[{"field": "body", "message": "Required"}])
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BadRequest(f"Malformed JSON: {reason}.",
                         field_errors=[{"field": "body", "message": "Malformed JSON"}]) from None
    if nests_deeper(text, payload):
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.",
                         field_errors=[{"field": "body", "message": "Nested too deeply"}])
    if reject_lone_surrogates and "\\u" in text and has_lone_surrogate(payload):
        raise BadRequest("The request body has an unpaired UTF-16 surrogate escape.",
                         field_errors=[{"field": "body", "message": "Invalid Unicode escape"}])
    if object_required and not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object.",
                         field_errors=[{"field": "body", "message": "Expected object"}])
    return payload


def over_limit(request: Request, raw: bytes, max_bytes: int) -> bool:
    """Whether the body whose first bytes are `raw` (read up to `max_bytes` + 1) is over `max_bytes`.

    werkzeug cuts a body of unknown length (chunked) at MAX_CONTENT_LENGTH, this same size, without
    a word: then one more byte from the server's own stream tells whether there was more.
    """
    if len(raw) != max_bytes or request.content_length is not None:
        return len(raw) > max_bytes
    return bool(request.environ["wsgi.input"].read(1))


def nests_deeper(text: str | bytes, value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value`, parsed from `text`, nests more than `limit` arrays and objects."""
    opening = ("[", "{") if isinstance(text, str) else (b"[", b"{")
    if text.count(opening[0]) + text.count(opening[1]) <= limit:
        return False  # too few brackets to nest that deep: the common case costs two C scans
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (valid JSON escapes, not encodable text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
