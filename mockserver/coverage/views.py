"""/__mock/coverage: the documented answers the client met, as JSON, Markdown or JUnit XML; clear it."""

from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..clock import from_timestamp, iso_millis
from ..context import get_state
from ..errors import ControlError, describe_problems
from ..responses import json_response, no_content
from .report import FORMATS, render

blueprint = Blueprint("coverage", __name__, url_prefix="/__mock")


class CoverageQuerySchema(Schema):
    """The query parameters of GET /__mock/coverage."""

    class Meta:
        unknown = RAISE

    format = fields.String(
        load_default="json", validate=validate.OneOf(FORMATS), metadata={"description": "json, markdown or junit."}
    )
    tenant = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The API key the client uses (or a tenant id): that tenant's answers only."},
    )


QUERY = CoverageQuerySchema()


@blueprint.get("/coverage")
def coverage() -> Response:
    """Lay every answer given since the last clear against each operation's documented answers."""
    state = get_state()
    try:
        values = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    tenant = values.get("tenant")
    since = iso_millis(from_timestamp(state.coverage.since))
    doc = state.coverage.document(
        {name: api.operations for name, api in state.apis.items()},
        since,
        state.tenant_ids(tenant) if tenant is not None else None,
    )
    if values["format"] == "json":
        return json_response(doc)
    text, content_type = render(doc, values["format"])
    return Response(text, content_type=content_type)


@blueprint.delete("/coverage")
def clear_coverage() -> Response:
    """Forget every counted answer; counting starts again now (mock clock)."""
    state = get_state()
    state.coverage.clear(state.clock.timestamp())
    return no_content()
