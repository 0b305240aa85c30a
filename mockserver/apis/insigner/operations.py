"""inSigner's operations the mock serves, one record each: the table everything else reads.

The errors page lists the API's statuses for every endpoint; each operation's documented
answers are its success and those of the page's statuses that can arise there (the table of
control-plane.md, "Coverage"): 409 only where a state forbids the action (delete), 404 where a
resource is named (create names a template), 422 where a body or query is validated.
"""

from __future__ import annotations

from ...operations import DocumentedAnswer, Operation
from . import examples
from .schemas import (
    BulkSendAnswerSchema,
    BulkSendCreatedAnswerSchema,
    BulkSendCreateSchema,
    BulkSendListArgsSchema,
    BulkSendListSchema,
    WebhookAnswerSchema,
    WebhookCreatedAnswerSchema,
    WebhookCreateSchema,
    WebhookListArgsSchema,
    WebhookListSchema,
    WebhookUpdateSchema,
)

BULK_SEND = "inSigner, Bulk Send API (docs.insigner.co/api/bulk-send/)"
ERRORS = "inSigner, Errors (docs.insigner.co/getting-started/errors/): HTTP status codes"
RATE_LIMITS = "inSigner, Rate limits (docs.insigner.co/getting-started/rate-limits/)"
WEBHOOKS = "inSigner, Webhooks (docs.insigner.co/webhooks/overview/)"

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


def _answers(success: int, section: str, *statuses: int, page: str = BULK_SEND) -> tuple[DocumentedAnswer, ...]:
    errors = tuple(
        DocumentedAnswer(status, f"{RATE_LIMITS}, 429" if status == 429 else f"{ERRORS}, {STATUS_TEXT[status]}")
        for status in statuses
    )
    return (DocumentedAnswer(success, f"{page}: {section}"), *errors)


OPERATIONS = (
    Operation(
        endpoint="list_bulk_sends",
        method="GET",
        path="/api/v1/bulk-sends",
        summary="List the organization's bulk sends, newest first, one page at a time.",
        answers=_answers(200, "List bulk sends", 400, 401, 403, 422, 429, 500, 502),
        scope="bulk_sends.read",
        query=BulkSendListArgsSchema,
        answer=BulkSendListSchema,
        example_answer=examples.LIST,
    ),
    Operation(
        endpoint="create_bulk_send",
        method="POST",
        path="/api/v1/bulk-sends",
        summary="Send a template to up to 500 signers, one document each.",
        answers=_answers(201, "Create a bulk send", 400, 401, 403, 404, 422, 429, 500, 502),
        scope="bulk_sends.create",
        body=BulkSendCreateSchema,
        answer=BulkSendCreatedAnswerSchema,
        mock_statuses=(413,),
        example_request=examples.CREATE_REQUEST,
        example_answer=examples.CREATED,
    ),
    Operation(
        endpoint="get_bulk_send",
        method="GET",
        path="/api/v1/bulk-sends/{id}",
        summary="Return one bulk send with its progress.",
        answers=_answers(200, "Get bulk send status", 400, 401, 403, 404, 429, 500, 502),
        scope="bulk_sends.read",
        answer=BulkSendAnswerSchema,
        example_answer=examples.GOT,
    ),
    Operation(
        endpoint="delete_bulk_send",
        method="DELETE",
        path="/api/v1/bulk-sends/{id}",
        summary="Soft-delete a bulk send and its documents.",
        answers=_answers(204, "Delete a bulk send", 400, 401, 403, 404, 409, 429, 500, 502),
        scope="bulk_sends.delete",
    ),
    # Webhooks (webhooks.md, section 1). The list's 422 (a bad limit or cursor) is the mock's own:
    # the table of documented answers gives the list none.
    Operation(
        endpoint="list_webhooks",
        method="GET",
        path="/api/v1/webhooks",
        summary="List the organization's webhooks, newest first, one page at a time.",
        answers=_answers(200, "List webhooks", 400, 401, 403, 429, 500, 502, page=WEBHOOKS),
        scope="webhooks.read",
        query=WebhookListArgsSchema,
        answer=WebhookListSchema,
        mock_statuses=(422,),
    ),
    Operation(
        endpoint="create_webhook",
        method="POST",
        path="/api/v1/webhooks",
        summary="Register a URL for events; the answer is the only one that shows the signing secret.",
        answers=_answers(201, "Create a webhook", 400, 401, 403, 409, 422, 429, 500, 502, page=WEBHOOKS),
        scope="webhooks.create",
        body=WebhookCreateSchema,
        answer=WebhookCreatedAnswerSchema,
        mock_statuses=(413,),
        example_request=examples.WEBHOOK_CREATE_REQUEST,
        example_answer=examples.WEBHOOK_CREATED,
    ),
    Operation(
        endpoint="get_webhook",
        method="GET",
        path="/api/v1/webhooks/{id}",
        summary="Return one webhook, without its secret.",
        answers=_answers(200, "Get a webhook", 400, 401, 403, 404, 429, 500, 502, page=WEBHOOKS),
        scope="webhooks.read",
        answer=WebhookAnswerSchema,
    ),
    Operation(
        endpoint="update_webhook",
        method="PATCH",
        path="/api/v1/webhooks/{id}",
        summary="Change a webhook's URL, events, status or description.",
        answers=_answers(200, "Update a webhook", 400, 401, 403, 404, 422, 429, 500, 502, page=WEBHOOKS),
        scope="webhooks.update",
        body=WebhookUpdateSchema,
        answer=WebhookAnswerSchema,
        mock_statuses=(413,),
    ),
    Operation(
        endpoint="delete_webhook",
        method="DELETE",
        path="/api/v1/webhooks/{id}",
        summary="Delete a webhook; nothing more is delivered to it.",
        answers=_answers(204, "Delete a webhook", 400, 401, 403, 404, 429, 500, 502, page=WEBHOOKS),
        scope="webhooks.delete",
    ),
)
