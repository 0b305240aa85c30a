"""The control plane's own error body: {"error": {"code", "message"}}."""
from __future__ import annotations

from flask import Response

from ..responses import json_response


class ControlError(Exception):
    """A control call that cannot be done: status 400, 401, 404, 405 or 409, a slug and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def control_error(status: int, code: str, message: str) -> Response:
    """Render a control-plane error."""
    return json_response({"error": {"code": code, "message": message}}, status=status)
