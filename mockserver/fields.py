"""marshmallow fields and schemas that every part of the mock shares: strict JSON types, field errors."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ANY = "*"


class StrictBoolean(fields.Field):
    """A JSON boolean and nothing else (marshmallow's Boolean also takes 1, "yes", ...)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class StrictInteger(fields.Integer):
    """A JSON integer and nothing else (no strings, booleans or 2.0)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Not a valid integer.")
        return value


class StrictNumber(fields.Float):
    """A finite JSON number and nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError("Not a valid number.")
        return float(value)


class FieldErrorSchema(Schema):
    """One field error of an error body: the field (a dot path, `signers.0.email`) and what is wrong with it."""

    field = fields.String(required=True)
    message = fields.String(required=True)


class HttpMethod(fields.String):
    """An HTTP method (any case) or `*`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text != ANY and text.upper() not in METHODS:
            raise ValidationError(f"Must be one of {', '.join(METHODS)} or *.")
        return text


class PathGlob(fields.String):
    """An exact path or a glob (`/api/v1/bulk-sends/*`), or `*` for any path."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not (text == ANY or text.startswith("/")) or any(c.isspace() for c in text):
            raise ValidationError("Must be a path starting with / (a glob such as /v1/* is allowed) or *.")
        return text
