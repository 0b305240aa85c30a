"""The one renderer of Collect's error body: {"error": reason, "message": documented text, "details"?}."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response

from ...errors import ApiError, ValidationFailed
from ...responses import json_response

# The texts of the reference page, verbatim, per status.
DOCUMENTED_TEXTS = {
    400: "Your request is invalid.",
    401: "Your API key is wrong.",
    403: "The object requested is hidden for administrators only.",
    404: "The specified object could not be found.",
    429: "You're requesting too many objects! Slow down!",
    500: "We had a problem with our server. Try again later.",
    503: "We're temporarily offline for maintenance. Please try again later.",
}


# Reason phrases that changed between Python versions are pinned, so bodies do not.
# The message of a 401 for each reason a known key is refused (mock-defined; Collect's page shows
# only the 401's general text, which the body's `message` keeps for every 401 it documents).
KEY_REFUSED = {
    "revoked": "The API key has been revoked.",
    "expired": "The API key has expired.",
    "unknown": "Unknown API key (strict auth accepts fixture keys only).",
}
PINNED_PHRASES = {413: "Payload Too Large", 422: "Unprocessable Entity"}


def reason_phrase(status: int) -> str:
    """Return the HTTP reason phrase of `status`."""
    if status in PINNED_PHRASES:
        return PINNED_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, detail: str | None = None, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return Collect's error body for `status`: the documented text where there is one."""
    body: dict[str, Any] = {
        "error": reason_phrase(status),
        "message": DOCUMENTED_TEXTS.get(status) or detail or reason_phrase(status),
    }
    if details:
        body["details"] = details
    return body


def render_error(exc: ApiError) -> Response:
    """Render any ApiError as Collect answers errors (field errors are a 400 here)."""
    status = 400 if isinstance(exc, ValidationFailed) else exc.status
    details = exc.field_errors if status in (400, 404) else None
    return json_response(error_body(status, exc.detail, details), status=status, headers=exc.headers)
