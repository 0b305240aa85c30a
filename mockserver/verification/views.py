"""POST /__mock/verify: did requests matching a pattern arrive the expected number of times?"""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import get_state
from ..control.body import control_body
from ..control.calls import ControlCall
from ..responses import json_response
from .model import PatternSchema, Verifier, load_pattern
from .schemas import VerificationFailedSchema, VerifiedSchema

blueprint = Blueprint("verification", __name__, url_prefix="/__mock")
VERIFY = ControlCall(
    answer=VerifiedSchema,
    body=PatternSchema,
    body_required=False,
    errors=(400, 409, 413, 429),
    special={409: VerificationFailedSchema},
    example={"api": "insigner", "method": "POST", "path": "/api/v1/bulk-sends", "times": {"exactly": 0}},
)


@blueprint.post("/verify")
@VERIFY
def verify() -> Response:
    """Verify that requests matching a pattern arrived (waiting up to withinMs); 200, or 409 with near misses."""
    state = get_state()
    pattern = load_pattern(control_body())
    outcome = state.part(Verifier).verify(pattern, state.tenant_ids)
    status = 200 if outcome.holds else 409
    return json_response(VERIFY.dump(outcome.answer(), status), status=status)
