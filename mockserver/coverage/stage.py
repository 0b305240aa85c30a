"""Coverage's pipeline stage: count every answer of an emulated API against its operation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import Coverage

if TYPE_CHECKING:
    from flask import Response

    from ..context import RequestContext
    from ..emulated import EmulatedApi


def count_answer(ctx: RequestContext, api: EmulatedApi, response: Response) -> Response:
    """Count the answer under its operation's path template; a dropped connection got none and counts nowhere."""
    if not ctx.dropped:
        ctx.state.part(Coverage).record(
            api.name,
            ctx.tenant.id if ctx.tenant is not None else None,
            ctx.request.method,
            api.template_for(ctx.request.path),
            response.status_code,
            ctx.injected,
        )
    return response
