"""/__mock/openapi.json: the OpenAPI document of both emulated APIs and of /__mock."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from ..control.calls import ControlCall
from ..responses import json_response

blueprint = Blueprint("openapi", __name__, url_prefix="/__mock")


@blueprint.get("/openapi.json")
@ControlCall(answer={"type": "object"})
def openapi_document() -> Response:
    """Return the OpenAPI 3.1 document of both emulated APIs and of /__mock."""
    from .document import document  # apispec loads only when the document is asked for

    return json_response(document(current_app))
