"""How fault rules and verifications pick requests: by API, method, path (exact or a glob) and tenant."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from .config import API_NAMES

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ANY = "*"


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


def match_fields(
    unset_tenant: str,
) -> tuple[fields.Field[Any], fields.Field[Any], fields.Field[Any], fields.Field[Any]]:
    """The fields `api`, `method`, `path` and `tenant` of a schema (`unset_tenant`: what null means)."""
    return (
        fields.String(
            load_default=ANY,
            validate=validate.OneOf((*API_NAMES, ANY)),
            metadata={"description": "collect, insigner or * (any)."},
        ),
        HttpMethod(load_default=ANY, metadata={"description": "An HTTP method or * (any)."}),
        PathGlob(
            load_default=ANY,
            validate=validate.Length(max=2000),
            metadata={"description": "An exact path, a glob (/api/v1/bulk-sends/*) or * (any)."},
        ),
        fields.String(
            load_default=None,
            allow_none=True,
            validate=validate.Length(min=1, max=500),
            metadata={"description": f"The API key the client uses (or a tenant id); null: {unset_tenant}."},
        ),
    )
