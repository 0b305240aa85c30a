"""/__mock/rate-limits: read and change the rate-limit settings of both APIs."""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import get_state
from ..control.body import control_body
from ..control.calls import ControlCall
from ..errors import ControlError
from ..responses import json_response
from .model import RateLimits
from .schemas import RateLimitsSchema

blueprint = Blueprint("ratelimits", __name__, url_prefix="/__mock")
SHOW = ControlCall(answer=RateLimitsSchema)
# The body is partial: any of the answer's members (each checked by the rate limits, in their words).
CHANGE = ControlCall(answer=RateLimitsSchema, body=RateLimitsSchema, errors=(400,))


@blueprint.get("/rate-limits")
@SHOW
def rate_limits() -> Response:
    """Show the rate-limit settings of both APIs."""
    return json_response(SHOW.dump(get_state().part(RateLimits).describe()))


@blueprint.put("/rate-limits")
@CHANGE
def set_rate_limits() -> Response:
    """Change some rate-limit settings (a partial body); answer with all of them."""
    body = control_body(required=True)
    try:
        settings = get_state().part(RateLimits).update(body)
    except ValueError as exc:
        raise ControlError(400, "invalid-rate-limits", str(exc)) from None
    return json_response(CHANGE.dump(settings))
