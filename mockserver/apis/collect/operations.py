"""Collect's operation the mock serves, as a record: the table everything else reads.

Every Collect operation page lists the same error table (the reference fact sheet, A.5), so the
documented answers of POST /v1/requests are its 200 and each status of that table.
"""

from __future__ import annotations

from ...operations import DocumentedAnswer, Operation
from . import examples
from .schemas import (
    SendMultipleRequestsResultSchema,
    SendMultipleRequestsSchema,
    WebhookChangeSchema,
    WebhookOutSchema,
    WebhookSchema,
)

PAGE = "Collect, Send multiple requests (developers.usecollect.com/operation/operation-send-multiple-requests)"
SUCCESS = f"{PAGE}: Responses, 200"
ERRORS = f"{PAGE}: Errors"
ADD_WEBHOOK = "Collect, Add a webhook (developers.usecollect.com/operation/operation-add-a-webhook)"
MODIFY_WEBHOOK = "Collect, Modify a webhook (developers.usecollect.com/operation/operation-modify-webhook)"
ERROR_STATUSES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


def _answers(success: str) -> tuple[DocumentedAnswer, ...]:
    """The 200 of a page, then each status of the error table every Collect page lists (A.5)."""
    return (
        DocumentedAnswer(200, success),
        *(DocumentedAnswer(status, f"{ERRORS}, {text}") for status, text in ERROR_STATUSES.items()),
    )


OPERATIONS = (
    Operation(
        endpoint="send_multiple_requests",
        method="POST",
        path="/v1/requests",
        summary="Send a campaign's request to up to 50 new or existing contacts.",
        answers=_answers(SUCCESS),
        body=SendMultipleRequestsSchema,
        answer=SendMultipleRequestsResultSchema,
        mock_statuses=(413,),
        example_request=examples.SEND_MULTIPLE_REQUESTS_REQUEST,
        example_answer=examples.SEND_MULTIPLE_REQUESTS,
    ),
    # Webhooks (webhooks.md, section 1): the only two calls the vendor documents for them.
    Operation(
        endpoint="add_webhook",
        method="POST",
        path="/v1/webhooks",
        summary="Register a URL for the team's events, all types or some, one campaign or all.",
        answers=_answers(f"{ADD_WEBHOOK}: Responses, 200"),
        body=WebhookSchema,
        answer=WebhookOutSchema,
        mock_statuses=(413,),
        example_request=examples.ADD_WEBHOOK_REQUEST,
        example_answer=examples.ADD_WEBHOOK,
    ),
    Operation(
        endpoint="modify_webhook",
        method="POST",
        path="/v1/webhooks/{id}",
        summary="Change a webhook's URL, types, campaign, token or status (active or paused).",
        answers=_answers(f"{MODIFY_WEBHOOK}: Responses, 200"),
        body=WebhookChangeSchema,
        answer=WebhookOutSchema,
        mock_statuses=(413,),
        example_request=examples.MODIFY_WEBHOOK_REQUEST,
    ),
)
