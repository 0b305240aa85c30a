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

    def owns(self, path: str) -> bool:
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)


def read_json_body(request: Request, max_bytes: int, *, object_required: bool = True) -> Any:
    """Return the parsed JSON body, or raise BadRequest/PayloadTooLarge with a clear reason."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"The request body exceeds {max_bytes} bytes.")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
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
    if object_required and not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object.",
                         field_errors=[{"field": "body", "message": "Expected object"}])
    return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
