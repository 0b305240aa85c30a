"""/__mock/coverage: the documented answers the client met, as JSON, Markdown or JUnit XML; clear it."""

from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from ..clock import from_timestamp, iso_millis
from ..context import get_state
from ..control.calls import ControlCall
from ..errors import ControlError, describe_problems
from ..responses import json_response, no_content
from .model import Coverage
from .report import render
from .schemas import CoverageQuerySchema, CoverageSchema

blueprint = Blueprint("coverage", __name__, url_prefix="/__mock")
QUERY = CoverageQuerySchema()
COVERAGE = ControlCall(
    answer=CoverageSchema,
    query=CoverageQuerySchema,
    errors=(400,),
    formats={
        "text/markdown": {"type": "string", "description": "?format=markdown: a table and a summary line."},
        "application/xml": {"type": "string", "description": "?format=junit: JUnit XML."},
    },
)


@blueprint.get("/coverage")
@COVERAGE
def coverage() -> Response:
    """Lay every answer given since the last clear against each operation's documented answers."""
    state = get_state()
    try:
        values = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    tenant = values.get("tenant")
    counted = state.part(Coverage)
    since = iso_millis(from_timestamp(counted.since))
    doc = counted.document(
        {name: api.operations for name, api in state.apis.items()},
        since,
        state.tenant_ids(tenant) if tenant is not None else None,
    )
    if values["format"] == "json":
        return json_response(COVERAGE.dump(doc))
    text, content_type = render(doc, values["format"])
    return Response(text, content_type=content_type)


@blueprint.delete("/coverage")
@ControlCall(ok=204)
def clear_coverage() -> Response:
    """Forget every counted answer; counting starts again now (mock clock)."""
    state = get_state()
    state.part(Coverage).clear(state.clock.timestamp())
    return no_content()
