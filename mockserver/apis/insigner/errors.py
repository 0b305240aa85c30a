"""The one renderer of inSigner's errors: RFC 9457 problem details, `application/problem+json`."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Response

from ...errors import ApiError
from ...responses import json_response
from .schemas import ProblemSchema

TYPE_BASE = "https://docs.insigner.com/errors/"  # sic: .com, as the vendor's pages write it
PROBLEM_MIMETYPE = "application/problem+json"

# Documented slugs (401-429); inferred ones for 400/500/502; mock-defined for 405/413/503.
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    502: "bad-gateway",
    503: "service-unavailable",
}
# The "Meaning" column of the errors page, plus the statuses the page does not list.
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Validation Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# The detail of a 401 for each reason a known key is refused (mock-defined: the vendor's page shows none).
# The documented body text of every 429 (rate-limits page), whatever window or fault answered.
RATE_LIMITED_DETAIL = "Rate limit exceeded. Please retry after the reset period."
KEY_REFUSED = {
    "revoked": "The API key has been revoked.",
    "expired": "The API key has expired.",
    "unknown": "Unknown API key (strict auth accepts fixture keys only).",
}
# Used when the error carries no detail of its own (e.g. an injected fault).
DEFAULT_DETAILS = {
    400: "Malformed JSON or invalid request format",
    401: KEY_REFUSED["revoked"],  # an injected 401 is what a revoked key gets
    403: "API key lacks the required scope",
    404: "Resource not found",
    409: "Action conflicts with current resource state",
    422: "The request body contains invalid fields",
    429: RATE_LIMITED_DETAIL,
    500: "Unexpected server error",
    502: "Upstream service failure",
    503: "The service is temporarily unavailable",
}
PROBLEM = ProblemSchema()


def title_of(status: int) -> str:
    """Return the problem title of `status`."""
    if status in TITLES:
        return TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def type_of(status: int) -> str:
    """Return the problem type URI of `status`."""
    slug = SLUGS.get(status) or re.sub(r"[^a-z0-9]+", "-", title_of(status).lower()).strip("-") or "error"
    return TYPE_BASE + slug


def problem(status: int, detail: str | None = None, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the problem body for `status` (`errors` on 422 only; 429 always says the documented text)."""
    if status == 429:
        detail = RATE_LIMITED_DETAIL
    body = {
        "type": type_of(status),
        "title": title_of(status),
        "status": status,
        "detail": detail or DEFAULT_DETAILS.get(status) or title_of(status),
    }
    if status == 422:
        body["errors"] = errors or []
    return PROBLEM.dump(body)


def render_error(exc: ApiError) -> Response:
    """Render any ApiError as inSigner answers errors."""
    return json_response(
        problem(exc.status, exc.detail, exc.field_errors),
        status=exc.status,
        headers=exc.headers,
        mimetype=PROBLEM_MIMETYPE,
    )
