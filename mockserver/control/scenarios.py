"""Control calls for scenarios: list the shipped ones, apply one."""
from __future__ import annotations

from flask import Response

from ..responses import json_response
from ..state import get_state
from .errors import ControlError
from .views import control


@control.get("/scenarios")
def list_scenarios() -> Response:
    """List the scenarios of fixtures/scenarios with their descriptions."""
    return json_response({"scenarios": get_state().scenarios.list()})


@control.post("/scenarios/<name>")
def apply_scenario(name: str) -> Response:
    """Apply one scenario: its entities, rate-limit settings, clock and fault rules."""
    scenarios = get_state().scenarios
    if scenarios.get(name) is None:
        raise ControlError(404, "not-found", f"no scenario {name!r} (GET /__mock/scenarios lists them)")
    return json_response(scenarios.apply(get_state(), name))
