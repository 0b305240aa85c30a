"""The exceptions of the emulated APIs and of the control plane; each envelope's renderer draws them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of an emulated API: a status and, optionally, a detail and field errors."""

    status = 500

    def __init__(
        self,
        detail: str | None = None,
        *,
        field_errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail
        self.field_errors = field_errors or []
        self.headers = headers or {}
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class ValidationFailed(ApiError):
    """Field errors; Collect answers 400, inSigner 422."""

    status = 422


class RateLimited(ApiError):
    status = 429


class ControlError(Exception):
    """A control call that cannot be done: a status (400, 401, 403, 404, 405, 409, 413, 429), a slug, a message.

    Raised by models and views alike; only the control plane's renderer knows its envelope.
    """

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def flatten_messages(messages: object, prefix: str = "") -> list[dict[str, Any]]:
    """Turn marshmallow's nested error messages into `[{field: "a.0.b", message}]`."""
    out: list[dict[str, Any]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out.extend({"field": prefix or "body", "message": m} for m in messages)
        else:
            for item in messages:
                out.extend(flatten_messages(item, prefix))
    else:
        out.append({"field": prefix or "body", "message": str(messages)})
    return out


def describe_problems(messages: object) -> str:
    """Return marshmallow's error messages as one line naming each field: `status: ...; times: ...`."""
    return "; ".join(f"{p['field']}: {p['message'].rstrip('.')}" for p in flatten_messages(messages))
