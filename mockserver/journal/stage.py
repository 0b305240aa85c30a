"""The journal's two pipeline stages: keep the body's first bytes on the way in, write the entry on the way out."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

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
    environ = req.environ
    if environ.get("CONTENT_LENGTH", "0") in ("", "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        return  # no body (HTTP/1.1 sends one only with a length or chunked): nothing to keep
    # The stream is built from wsgi.input on first use; wrap it before anyone reads.
    if "stream" not in vars(req):
        recorder = BodyRecorder(req.environ["wsgi.input"], BODY_CAP)
        req.environ["wsgi.input"] = recorder
        ctx.body = recorder


# Environ key -> the header name werkzeug's EnvironHeaders gives it ("" for a key that is no
# header), as met: the names clients send are few; a hostile client's do not grow it past 512.
_HEADER_NAMES: dict[str, str] = {}


def request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request's headers as `request.headers.items()` lists them, read straight from the environ.

    py-spy under wrk: werkzeug's EnvironHeaders, a generator over a generator, was most of the
    journal's stage on an inSigner GET.
    """
    names = _HEADER_NAMES
    pairs = []
    for key, value in environ.items():
        name = names.get(key)
        if name is None:
            name = header_name(key)
            if len(names) < 512:
                names[key] = name
        # An empty Content-Type or Content-Length in the environ is no header (werkzeug's rule).
        if name and (value or key not in ("CONTENT_TYPE", "CONTENT_LENGTH")):
            pairs.append((name, value))
    return pairs


def header_name(key: str) -> str:
    """`HTTP_X_MOCK_TOKEN` -> `X-Mock-Token`, `CONTENT_TYPE` -> `Content-Type`, any other key -> ``."""
    if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return key[5:].replace("_", "-").title()
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.replace("_", "-").title()
    return ""


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
            capped(request_headers(req.environ)),
            ctx.key,
            bytes(recorder.kept) if recorder is not None else None,
            size,
        ),
    )
    return response
