"""Control call for the OpenAPI document of both emulated APIs and of /__mock."""
from __future__ import annotations

from flask import Response, current_app

from ..responses import json_response
from .views import control


@control.get("/openapi.json")
def openapi_document() -> Response:
    """Return the OpenAPI 3.1 document of both emulated APIs and of /__mock."""
    from ..openapi import document  # apispec loads only when the document is asked for

    return json_response(document(current_app))
