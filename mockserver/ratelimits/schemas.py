"""The answer (and the partial body) of /__mock/rate-limits: each API's settings."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from .model import DEFAULTS


def _settings_schema(name: str, defaults: dict[str, Any]) -> type[Schema]:
    # The settings' fields follow their start-up values: booleans and whole numbers.
    return Schema.from_dict(
        {key: fields.Boolean() if isinstance(value, bool) else fields.Integer() for key, value in defaults.items()},
        name=name,
    )


RateLimitsSchema = Schema.from_dict(
    {api: fields.Nested(_settings_schema(f"{api.capitalize()}RateLimits", values)) for api, values in DEFAULTS.items()},
    name="RateLimits",
)
