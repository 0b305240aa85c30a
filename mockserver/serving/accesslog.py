"""The access log: one line per request, any path, with API keys in query strings cut short."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request
from werkzeug.datastructures import MultiDict

from ..context import context_or_none
from . import logs

LOGGER = "mockserver.access"


def redacted_query(args: MultiDict[str, str]) -> str:
    """Return the query string with API keys (the control plane's `tenant`) cut to 8 characters."""
    parts = []
    for name, value in args.items(multi=True):
        if name == "tenant" and len(value) > 8:
            value = value[:8] + "..."
        parts.append(f"{name}={value}")
    return "&".join(parts)


def install_access_log(app: Flask, level: str) -> None:
    """Log one line per request at INFO: address, method, path, redacted query, status, duration."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level.upper())

    @app.after_request
    def _log(response: Response) -> Response:
        if logger.isEnabledFor(logging.INFO):
            ctx = context_or_none()
            started = ctx.started if ctx is not None else time.perf_counter()
            req = ctx.request if ctx is not None else request
            query = redacted_query(req.args) if req.query_string else ""
            logs.info(
                logger,
                f'{req.remote_addr} "{req.method} {req.path}'
                f'{"?" + query if query else ""}" {response.status_code} '
                f"{(time.perf_counter() - started) * 1000:.1f}ms",
            )
        return response
