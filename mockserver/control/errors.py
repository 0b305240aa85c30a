"""The control plane's own error body: {"error": {"code", "message"}}; the only code that knows it."""

from __future__ import annotations

from flask import Response

from ..errors import ControlError
from ..responses import json_response


def control_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """Render a control-plane error."""
    return json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def render_control_error(exc: ControlError) -> Response:
    """Render a ControlError raised by any control call or model."""
    return control_error(exc.status, exc.code, exc.message, exc.headers)
