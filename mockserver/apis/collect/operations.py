"""Collect's operation the mock serves, as a record: the table everything else reads.

Every Collect operation page lists the same error table (the reference fact sheet, A.5), so the
documented answers of POST /v1/requests are its 200 and each status of that table.
"""

from __future__ import annotations

from ...operations import DocumentedAnswer, Operation
from . import examples
from .schemas import SendMultipleRequestsResultSchema, SendMultipleRequestsSchema

PAGE = "Collect, Send multiple requests (developers.usecollect.com/operation/operation-send-multiple-requests)"
SUCCESS = f"{PAGE}: Responses, 200"
ERRORS = f"{PAGE}: Errors"

OPERATIONS = (
    Operation(
        endpoint="send_multiple_requests",
        method="POST",
        path="/v1/requests",
        summary="Send a campaign's request to up to 50 new or existing contacts.",
        answers=(
            DocumentedAnswer(200, SUCCESS),
            DocumentedAnswer(400, f"{ERRORS}, 400 Bad Request"),
            DocumentedAnswer(401, f"{ERRORS}, 401 Unauthorized"),
            DocumentedAnswer(403, f"{ERRORS}, 403 Forbidden"),
            DocumentedAnswer(404, f"{ERRORS}, 404 Not Found"),
            DocumentedAnswer(429, f"{ERRORS}, 429 Too Many Requests"),
            DocumentedAnswer(500, f"{ERRORS}, 500 Internal Server Error"),
            DocumentedAnswer(503, f"{ERRORS}, 503 Service Unavailable"),
        ),
        body=SendMultipleRequestsSchema,
        answer=SendMultipleRequestsResultSchema,
        mock_statuses=(413,),
        example_request=examples.SEND_MULTIPLE_REQUESTS_REQUEST,
        example_answer=examples.SEND_MULTIPLE_REQUESTS,
    ),
)
