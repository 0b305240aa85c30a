"""The `tenant` query parameter the state and snapshot calls share."""

from __future__ import annotations

from flask import request
from marshmallow import EXCLUDE

from .schemas import TenantQuerySchema

TENANT = TenantQuerySchema(unknown=EXCLUDE)


def tenant_asked() -> str | None:
    """The request's `tenant` query parameter (None when absent or empty); other parameters are ignored."""
    return TENANT.load(request.args).get("tenant") or None
