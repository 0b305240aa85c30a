"""/__mock/requests: read and empty the journal of requests to the emulated APIs."""

from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from ..context import get_state
from ..control.calls import ControlCall
from ..errors import ControlError, describe_problems
from ..responses import json_response, no_content
from .model import Journal, JournalFilter, JournalQuerySchema
from .schemas import JournalSchema

blueprint = Blueprint("journal", __name__, url_prefix="/__mock")
QUERY = JournalQuerySchema()
LIST = ControlCall(answer=JournalSchema, query=JournalQuerySchema, errors=(400,))


@blueprint.get("/requests")
@LIST
def list_requests() -> Response:
    """List journal entries, oldest first, filtered by api, method, path, status, tenant and limit."""
    state = get_state()
    try:
        values = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    tenant = values.pop("tenant", None)
    wanted = JournalFilter(**values, tenants=state.tenant_ids(tenant) if tenant is not None else None)
    entries, total = state.part(Journal).entries(wanted)
    return json_response(LIST.dump({"requests": entries, "total": total}))


@blueprint.delete("/requests")
@ControlCall(ok=204)
def clear_requests() -> Response:
    """Empty the journal."""
    get_state().part(Journal).clear()
    return no_content()
