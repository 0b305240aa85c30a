"""marshmallow fields and schemas that every part of the mock shares: strict JSON types, field errors."""

from __future__ import annotations

import json
import math
from typing import Any

from marshmallow import Schema, ValidationError, fields


class StrictBoolean(fields.Field[Any]):
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


class JsonEncoded(fields.String):
    """A value shown as its compact JSON text: a string in the answer (inSigner's webhook `events`)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
