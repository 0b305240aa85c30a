"""POST /__mock/verify: did requests matching a pattern arrive the expected number of times?"""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import get_state
from ..control.body import control_body
from ..responses import json_response
from .model import load_pattern

blueprint = Blueprint("verification", __name__, url_prefix="/__mock")


@blueprint.post("/verify")
def verify() -> Response:
    """Verify that requests matching a pattern arrived (waiting up to withinMs); 200, or 409 with near misses."""
    state = get_state()
    pattern = load_pattern(control_body())
    outcome = state.verifier.verify(pattern, state.tenant_ids)
    return json_response(outcome.answer(), status=200 if outcome.holds else 409)
