"""The journal's two pipeline stages: keep the body's first bytes on the way in, write the entry on the way out."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException

from ..bodies import BodyRecorder, read_at_most
from .model import BODY_CAP, Journal, capped

if TYPE_CHECKING:
    from flask import Response

    from ..context import RequestContext
    from ..emulated import EmulatedApi


def capture_body(ctx: RequestContext) -> None:
    """Note the arrival time and keep the first bytes of the body as the view reads it."""
    ctx.arrived = ctx.state.clock.timestamp()
    req = ctx.request
    # The stream is built from wsgi.input on first use; wrap it before anyone reads.
    if "stream" not in vars(req):
        recorder = BodyRecorder(req.environ["wsgi.input"], BODY_CAP)
        req.environ["wsgi.input"] = recorder
        ctx.body = recorder


def _left(length: int | None, read: int) -> int | None:
    return None if length is None else max(0, length - read)


def write_journal(ctx: RequestContext, api: EmulatedApi, response: Response) -> Response:
    """Write the journal entry of this request and its answer."""
    req, recorder = ctx.request, ctx.body
    if recorder is not None and len(recorder.kept) <= BODY_CAP:
        # Bodies the view did not read (a 401, a fault) are read here, up to the cap: no more than
        # is left of them (io's read(n) allocates n bytes before it reads).
        with contextlib.suppress(HTTPException, OSError, ValueError):
            read_at_most(req.stream, BODY_CAP + 1 - len(recorder.kept), _left(req.content_length, recorder.size))
    size = max(recorder.size, req.content_length or 0) if recorder is not None else 0
    ctx.state.part(Journal).record(
        {
            "api": api.name,
            "tenant": ctx.tenant.id if ctx.tenant is not None else None,
            "method": req.method,
            "path": req.path,
            "status": None if ctx.dropped else response.status_code,
            "faultId": ctx.fault,
            "durationMs": round((time.perf_counter() - ctx.started) * 1000, 1),
            # Whether the journal keeps the whole body (a verification's `body` needs it whole).
            "bodyWhole": size <= BODY_CAP,
        },
        (
            ctx.arrived,
            capped(list(req.args.items(multi=True))) if req.query_string else [],
            capped(list(req.headers.items())),
            ctx.key,
            bytes(recorder.kept) if recorder is not None else None,
            size,
        ),
    )
    return response
