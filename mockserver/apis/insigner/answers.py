"""The answers inSigner documents for each bulk-send operation the mock serves: what coverage counts against.

The errors page lists the API's statuses for every endpoint; each operation's documented
answers are its success and those of the page's statuses that can arise there (the table of
control-plane.md, "Coverage"): 409 only where a state forbids the action (delete), 404 where a
resource is named (create names a template), 422 where a body or query is validated.
"""

from __future__ import annotations

from .. import DocumentedAnswer, DocumentedOperation

BULK_SEND = "inSigner, Bulk Send API (docs.insigner.co/api/bulk-send/)"
ERRORS = "inSigner, Errors (docs.insigner.co/getting-started/errors/): HTTP status codes"
RATE_LIMITS = "inSigner, Rate limits (docs.insigner.co/getting-started/rate-limits/)"

STATUS_TEXT = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    409: "409 Conflict",
    422: "422 Validation Error",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
}


def _answers(success: DocumentedAnswer, *statuses: int) -> tuple[DocumentedAnswer, ...]:
    errors = tuple(
        DocumentedAnswer(status, f"{RATE_LIMITS}, 429" if status == 429 else f"{ERRORS}, {STATUS_TEXT[status]}")
        for status in statuses
    )
    return (success, *errors)


OPERATIONS = (
    DocumentedOperation(
        "GET",
        "/api/v1/bulk-sends",
        _answers(DocumentedAnswer(200, f"{BULK_SEND}: List bulk sends"), 400, 401, 403, 422, 429, 500, 502),
    ),
    DocumentedOperation(
        "POST",
        "/api/v1/bulk-sends",
        _answers(DocumentedAnswer(201, f"{BULK_SEND}: Create a bulk send"), 400, 401, 403, 404, 422, 429, 500, 502),
    ),
    DocumentedOperation(
        "GET",
        "/api/v1/bulk-sends/{id}",
        _answers(DocumentedAnswer(200, f"{BULK_SEND}: Get bulk send status"), 400, 401, 403, 404, 429, 500, 502),
    ),
    DocumentedOperation(
        "DELETE",
        "/api/v1/bulk-sends/{id}",
        _answers(DocumentedAnswer(204, f"{BULK_SEND}: Delete a bulk send"), 400, 401, 403, 404, 409, 429, 500, 502),
    ),
)
