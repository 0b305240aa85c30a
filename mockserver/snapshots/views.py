"""/__mock/snapshot: take the server's state as a document, or make a document the server's state."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..config import SNAPSHOT_MAX_BYTES
from ..control.body import control_body
from ..control.calls import ControlCall
from ..control.query import tenant_asked
from ..control.schemas import TenantQuerySchema
from ..responses import json_response
from ..state import mock_state
from .model import MAX_DEPTH, restore, take

blueprint = Blueprint("snapshots", __name__, url_prefix="/__mock")
# A snapshot is checked member by member (snapshots/schemas.py); as a whole it is a free-form document.
SNAPSHOT = {"type": "object"}


@blueprint.get("/snapshot")
@ControlCall(answer=SNAPSHOT, query=TenantQuerySchema)
def snapshot() -> Response:
    """The whole mutable state (?tenant= for one tenant) as a document PUT /__mock/snapshot takes."""
    return json_response(take(mock_state(), tenant_asked()))


@blueprint.put("/snapshot")
@ControlCall(answer=SNAPSHOT, body=SNAPSHOT, errors=(400, 409, 413))
def restore_snapshot() -> Response:
    """Make a snapshot the server's state (up to 64 MiB); a damaged or foreign one changes nothing."""
    request.max_content_length = SNAPSHOT_MAX_BYTES  # Flask's per-request bound: snapshots exceed the 1 MiB of bodies
    doc = control_body(required=True, max_bytes=SNAPSHOT_MAX_BYTES, max_depth=MAX_DEPTH)
    return json_response(restore(mock_state(), doc))
