"""/__mock/faults: add, list, remove one, remove all."""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import get_state
from ..control.body import control_body
from ..control.calls import ControlCall
from ..errors import ControlError
from ..responses import json_response, no_content
from .engine import FaultEngine
from .rules import FaultRuleError, FaultRuleSchema, load_rule
from .schemas import FaultListSchema, FaultSchema

blueprint = Blueprint("faults", __name__, url_prefix="/__mock")
ADD = ControlCall(ok=201, answer=FaultSchema, body=FaultRuleSchema, errors=(400,))
LIST = ControlCall(answer=FaultListSchema)


@blueprint.post("/faults")
@ADD
def add_fault() -> Response:
    """Add a fault rule; 201 with it, its id, hits and remaining."""
    body = control_body(required=True)
    try:
        rule = load_rule(body)
    except FaultRuleError as exc:
        raise ControlError(400, "invalid-fault", str(exc)) from None
    return json_response(ADD.dump(get_state().part(FaultEngine).add(rule)), status=201)


@blueprint.get("/faults")
@LIST
def list_faults() -> Response:
    """List the fault rules, oldest first, with live hits and remaining."""
    return json_response(LIST.dump({"faults": get_state().part(FaultEngine).list()}))


@blueprint.delete("/faults/<fault_id>")
@ControlCall(ok=204, errors=(404,))
def remove_fault(fault_id: str) -> Response:
    """Remove one fault rule."""
    if not get_state().part(FaultEngine).remove(fault_id):
        raise ControlError(404, "not-found", f"no fault rule {fault_id!r}")
    return no_content()


@blueprint.delete("/faults")
@ControlCall(ok=204)
def clear_faults() -> Response:
    """Remove every fault rule."""
    get_state().part(FaultEngine).clear()
    return no_content()
