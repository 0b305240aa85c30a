"""The answers Collect documents for the operation the mock serves: what coverage counts against.

Every Collect operation page lists the same error table (the reference fact sheet, A.5), so the
documented answers of POST /v1/requests are its 200 and each status of that table.
"""

from __future__ import annotations

from .. import DocumentedAnswer, DocumentedOperation

PAGE = "Collect, Send multiple requests (developers.usecollect.com/operation/operation-send-multiple-requests)"
SUCCESS = f"{PAGE}: Responses, 200"
ERRORS = f"{PAGE}: Errors"

OPERATIONS = (
    DocumentedOperation(
        "POST",
        "/v1/requests",
        (
            DocumentedAnswer(200, SUCCESS),
            DocumentedAnswer(400, f"{ERRORS}, 400 Bad Request"),
            DocumentedAnswer(401, f"{ERRORS}, 401 Unauthorized"),
            DocumentedAnswer(403, f"{ERRORS}, 403 Forbidden"),
            DocumentedAnswer(404, f"{ERRORS}, 404 Not Found"),
            DocumentedAnswer(429, f"{ERRORS}, 429 Too Many Requests"),
            DocumentedAnswer(500, f"{ERRORS}, 500 Internal Server Error"),
            DocumentedAnswer(503, f"{ERRORS}, 503 Service Unavailable"),
        ),
    ),
)
