"""The emulated APIs (one package each) and what their views share: reading a JSON body.

What an API is to the app (`EmulatedApi`, its backend's protocol, its build) is in
`mockserver/emulated.py`, below the request context, so that the context and the concerns can
name it without importing the APIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..bodies import BodyError, read_json_body
from ..errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from ..context import RequestContext


# The short `message` of the field error `body` that each body problem gets.
BODY_FIELD_MESSAGES = {
    "content-type": "Content-Type must be application/json",
    "utf-8": "Invalid UTF-8",
    "empty": "Required",
    "malformed": "Malformed JSON",
    "too-deep": "Nested too deeply",
    "surrogate": "Invalid Unicode escape",
    "not-object": "Expected object",
}


def read_body(ctx: RequestContext, *, reject_lone_surrogates: bool = True) -> dict[str, Any]:
    """Return the request's JSON object body, or raise the API error that its problem deserves (400, 413)."""
    try:
        return read_json_body(
            ctx.request,
            ctx.state.settings.max_body_bytes,
            json_content_type=True,
            reject_lone_surrogates=reject_lone_surrogates,
        )
    except BodyError as exc:
        if exc.too_large:
            raise PayloadTooLarge(exc.message) from None
        raise BadRequest(
            exc.message, field_errors=[{"field": "body", "message": BODY_FIELD_MESSAGES.get(exc.problem, exc.message)}]
        ) from None
