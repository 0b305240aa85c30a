"""GET /__mock/ui and its static files: one page, no build step, nothing from another host.

The page is static (static/index.html, app.js, app.css, shipped in the wheel); everything it
shows it fetches from the /__mock calls, with the control token the person types in when the
server has one. Its Content-Security-Policy allows this server only, and the script writes
what requests carried as text, never as markup. The three files are read once, when first asked
for, and answered from memory: no file handle stays open on an answer a client never reads.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from flask import Blueprint, Response

from ..control.calls import ControlCall
from ..errors import ControlError

blueprint = Blueprint("dashboard", __name__, url_prefix="/__mock")

FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# This server only: no other host's script, style, font or image, and no inline script.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def content(name: str) -> bytes:
    return (resources.files(__package__) / "static" / name).read_bytes()


def page_file(name: str) -> Response:
    return Response(content(name), content_type=FILES[name], headers=HEADERS)


@blueprint.get("/ui")
@ControlCall(secured=False, formats={"text/html": {"type": "string"}})
def dashboard() -> Response:
    """The dashboard: the journal live, fault rules, scenarios, clock, rate limits, coverage, state."""
    return page_file("index.html")


@blueprint.get("/ui/static/<filename>")
@ControlCall(
    secured=False,
    errors=(404,),
    formats={kind: {"type": "string"} for kind in ("text/css", "text/javascript", "text/html")},
)
def static_file(filename: str) -> Response:
    """The dashboard's script and style sheet."""
    if filename not in FILES:
        raise ControlError(404, "not-found", f"no dashboard file {filename!r}")
    return page_file(filename)
