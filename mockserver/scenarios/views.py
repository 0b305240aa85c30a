"""/__mock/scenarios: list the shipped scenarios, apply one."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response

from ..context import get_state
from ..entities import add_entity
from ..errors import ControlError
from ..responses import json_response

blueprint = Blueprint("scenarios", __name__, url_prefix="/__mock")


@blueprint.get("/scenarios")
def list_scenarios() -> Response:
    """List the scenarios of fixtures/scenarios with their descriptions."""
    return json_response({"scenarios": get_state().scenarios.list()})


@blueprint.post("/scenarios/<name>")
def apply_scenario(name: str) -> Response:
    """Apply one scenario: its entities, rate-limit settings, clock and fault rules."""
    state = get_state()
    if state.scenarios.get(name) is None:
        raise ControlError(404, "not-found", f"no scenario {name!r} (GET /__mock/scenarios lists them)")
    return json_response(state.scenarios.apply(state, name, partial(add_entity, state)))
