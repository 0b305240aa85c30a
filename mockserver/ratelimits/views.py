"""/__mock/rate-limits: read and change the rate-limit settings of both APIs."""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import get_state
from ..control.body import control_body
from ..errors import ControlError
from ..responses import json_response

blueprint = Blueprint("ratelimits", __name__, url_prefix="/__mock")


@blueprint.get("/rate-limits")
def rate_limits() -> Response:
    """Show the rate-limit settings of both APIs."""
    return json_response(get_state().rate_limits.describe())


@blueprint.put("/rate-limits")
def set_rate_limits() -> Response:
    """Change some rate-limit settings (a partial body); answer with all of them."""
    body = control_body(required=True)
    try:
        settings = get_state().rate_limits.update(body)
    except ValueError as exc:
        raise ControlError(400, "invalid-rate-limits", str(exc)) from None
    return json_response(settings)
