"""/__mock/webhooks: every webhook registered with either API, through its calls or declared ahead."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from ..context import get_state
from ..control.calls import ControlCall
from ..errors import ControlError, describe_problems
from ..responses import json_response
from .schemas import WebhooksQuerySchema, WebhooksSchema

blueprint = Blueprint("webhooks", __name__, url_prefix="/__mock")
QUERY = WebhooksQuerySchema()
LIST = ControlCall(answer=WebhooksSchema, query=WebhooksQuerySchema, errors=(400,))


@blueprint.get("/webhooks")
@LIST
def list_webhooks() -> Response:
    """List the webhooks of both APIs (by API, then oldest first), filtered by api and tenant."""
    state = get_state()
    try:
        wanted = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    only = state.tenant_ids(wanted["tenant"]) if "tenant" in wanted else None
    found: list[dict[str, Any]] = []
    with state.store.transaction():
        for api, tenants in state.tenants.items():
            if wanted.get("api", api) != api or (only is not None and only.get(api) is None):
                continue
            backend = state.backends[api]
            for tenant in tenants.all():
                if only is None or tenant.id == only[api]:
                    found.extend(
                        {"api": api, "tenant": tenant.id, **hook} for hook in backend.registered_webhooks(tenant)
                    )
    return json_response(LIST.dump({"webhooks": found}))
