"""The request pipeline of the emulated APIs: the stage order, written once, and how it meets Flask.

Every request gets one RequestContext when it arrives. A request under an API's prefix then
goes through ON_ARRIVAL, `authenticate` (which gives the Caller), AUTHENTICATED, the view, then
AFTER_VIEW, each in order. A stage that returns a response answers the request (the rest of the
stages and the view are skipped); a stage that raises an ApiError gets that API's error body. The
stages after authentication receive the Caller, whose api, tenant and credentials are never None.
AFTER_VIEW runs on every answer of
the API, the view's, a stage's or an error's. `/__mock` never enters the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .context import RequestContext, close_context, context_or_none, open_context
from .coverage.stage import count_answer
from .credentials import read_credentials
from .emulated import Caller
from .faults.stage import decide_fault, may_delay
from .journal.stage import capture_body, write_journal
from .ratelimits.stage import count_request

if TYPE_CHECKING:
    from flask import Request

    from .emulated import EmulatedApi
    from .state import MockState

# A stage before authentication sees the request; one after it, the caller the API accepted too;
# one after the view, the API and the answer (any answer: a refused request has no caller).
ArrivalStage = Callable[[RequestContext], "Response | None"]
CallerStage = Callable[[RequestContext, Caller], "Response | None"]
AfterStage = Callable[[RequestContext, "EmulatedApi", Response], Response]


def authenticate(ctx: RequestContext, api: EmulatedApi) -> Caller:
    """Read the credentials once; the API judges them and names the tenant (raises Unauthorized)."""
    ctx.credentials = read_credentials(ctx.request.headers.get("Authorization"))
    return ctx.accept(api, *api.authenticate(ctx.state, ctx.credentials))


def add_api_headers(ctx: RequestContext, api: EmulatedApi, response: Response) -> Response:
    """Let the API add its own headers to any of its answers (inSigner: X-Request-Id, RateLimit-*)."""
    return api.decorate(ctx, response) if api.decorate is not None else response


# The order of the stages: each is named after what it does and lives with its concern.
ON_ARRIVAL: tuple[ArrivalStage, ...] = (
    capture_body,  # journal: arrival time; keep the body's first bytes as the view reads it
)
# Then `authenticate`: credentials -> caller (401 here, whatever the fault rules say).
AUTHENTICATED: tuple[CallerStage, ...] = (
    decide_fault,  # Prefer: code/delay, then the oldest live matching fault rule
    count_request,  # the key's rate-limit window (429 past the limit)
)
# Then the view (its operation's scope checked first), then, on every answer of the API:
AFTER_VIEW: tuple[AfterStage, ...] = (
    add_api_headers,  # the API's own headers on every answer
    write_journal,  # the journal entry: request, answer, fault, duration
    count_answer,  # coverage: the answer under its operation and status
)


# Control calls answered from memory that never wait: the bridge may run them on its event loop
# (see never_waits). The others (a verification that waits, a snapshot, the dashboard's files,
# entities, the journal) always get a view thread.
QUICK_CONTROL_PATHS = frozenset({"/__mock/health", "/__mock/reset", "/__mock/rate-limits", "/__mock/clock"})
# A body larger than this is not read on the event loop's turn: a view thread parses it.
QUICK_BODY_BYTES = 64 * 1024


def never_waits(state: MockState) -> Callable[[str, Any], bool]:
    """Return whether a request (its path and headers, before its body is read) can never wait.

    Such a request does no I/O and never sleeps: an emulated API's call or a quick control call
    on the memory store, with a small body, no `Prefer`, while no fault rule delays. The bridge
    answers it on its event loop when no view thread is busy (so no other request holds a lock),
    saving the hand-over to a thread and back. Anything else goes to a view thread, as before.
    """

    def check(path: str, headers: Any) -> bool:
        if state.settings.store != "memory":
            return False  # the file store writes to disk on every change
        if "transfer-encoding" in headers:
            return False
        length = headers.get("content-length")
        if length is not None and not (length.isdigit() and int(length) <= QUICK_BODY_BYTES):
            return False
        if path not in QUICK_CONTROL_PATHS and state.api_for_path(path) is None:
            return False
        if path == "/__mock/clock" and not state.deliveries.idle:
            return False  # an advance waits for the deliveries that fall due
        return not may_delay(state, headers.get("prefer"))

    return check


def open_contexts(app: Flask, state: MockState) -> None:
    """Give every request its context when it arrives (register before every other hook)."""

    @app.before_request
    def _open() -> None:
        # The proxied object itself, as Flask's docs on proxies say to take it: the stages read it
        # dozens of times per request, and each read through the proxy is a context-variable lookup.
        req: Request = request._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as a Request
        open_context(RequestContext(state, req, state.api_for_path(req.path), time.perf_counter()))

    @app.teardown_request
    def _close(exc: BaseException | None = None) -> None:
        close_context()


def run_stages(app: Flask) -> None:
    """Run the stages around the views of the emulated APIs."""

    @app.before_request
    def _before() -> Response | None:
        ctx = context_or_none()
        if ctx is None or ctx.api is None:
            return None
        for arrival in ON_ARRIVAL:
            answer = arrival(ctx)
            if answer is not None:
                return answer
        caller = authenticate(ctx, ctx.api)
        for stage in AUTHENTICATED:
            answer = stage(ctx, caller)
            if answer is not None:
                return answer
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        ctx = context_or_none()
        if ctx is None or ctx.api is None:
            return response
        api = ctx.api
        for stage in AFTER_VIEW:
            response = stage(ctx, api, response)
        return response
