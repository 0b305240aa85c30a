"""/__mock/scenarios: list the shipped scenarios, apply one."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response

from ..context import get_state
from ..control.calls import ControlCall
from ..entities import add_entity, all_or_none
from ..errors import ControlError
from ..responses import json_response
from .model import Scenarios
from .schemas import ScenarioAppliedSchema, ScenarioListSchema

blueprint = Blueprint("scenarios", __name__, url_prefix="/__mock")
LIST = ControlCall(answer=ScenarioListSchema)
APPLY = ControlCall(answer=ScenarioAppliedSchema, errors=(404, 409))


@blueprint.get("/scenarios")
@LIST
def list_scenarios() -> Response:
    """List the scenarios of fixtures/scenarios with their descriptions."""
    return json_response(LIST.dump({"scenarios": get_state().part(Scenarios).list()}))


@blueprint.post("/scenarios/<name>")
@APPLY
def apply_scenario(name: str) -> Response:
    """Apply one scenario: its entities, rate-limit settings, clock and fault rules."""
    state = get_state()
    scenarios = state.part(Scenarios)
    if scenarios.get(name) is None:
        raise ControlError(404, "not-found", f"no scenario {name!r} (GET /__mock/scenarios lists them)")
    applied = scenarios.apply(state, name, partial(add_entity, state), partial(all_or_none, state))
    return json_response(APPLY.dump(applied))
