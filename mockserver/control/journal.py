"""Control calls for the journal of requests to the emulated APIs."""
from __future__ import annotations

from flask import Response, request

from ..journal import parse_filter
from ..responses import json_response
from ..state import get_state
from .errors import ControlError
from .views import control


@control.get("/requests")
def list_requests() -> Response:
    """List journal entries, oldest first, filtered by api, method, path, status, tenant and limit."""
    state = get_state()
    try:
        wanted = parse_filter(state, request.args.to_dict())
    except ValueError as exc:
        raise ControlError(400, "invalid-filter", str(exc)) from None
    entries, total = state.journal.entries(wanted)
    return json_response({"requests": entries, "total": total})


@control.delete("/requests")
def clear_requests() -> Response:
    """Empty the journal."""
    get_state().journal.clear()
    return Response(status=204)
