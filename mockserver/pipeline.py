"""The fixed request pipeline of the emulated APIs.

Every request under an API's prefix goes through the same stages, in this order:
authenticate (10) -> faults (20) -> rate limits (30) -> the view; then, on the way out,
the API's own headers (10) -> the journal (90). A stage that returns a response answers
the request; a stage that raises an ApiError gets that API's error body. `/__mock` never
enters the pipeline.
"""
from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Request, Response, g, request

if TYPE_CHECKING:
    from .apis import EmulatedApi
    from .state import MockState

BeforeStage = Callable[["MockState", "EmulatedApi", Request], "Response | None"]
AfterStage = Callable[["MockState", "EmulatedApi", Request, Response], Response]

AUTHENTICATE, FAULTS, RATE_LIMITS = 10, 20, 30
API_HEADERS, JOURNAL = 10, 90


class Pipeline:
    """Ordered before- and after-stages; components register themselves when the app is built."""

    def __init__(self) -> None:
        self._before: list[tuple[int, int, BeforeStage]] = []
        self._after: list[tuple[int, int, AfterStage]] = []

    def before(self, order: int, stage: BeforeStage) -> None:
        """Run `stage` before the view, at position `order`."""
        bisect.insort(self._before, (order, len(self._before), stage), key=lambda s: (s[0], s[1]))

    def after(self, order: int, stage: AfterStage) -> None:
        """Run `stage` on the response, at position `order`."""
        bisect.insort(self._after, (order, len(self._after), stage), key=lambda s: (s[0], s[1]))

    def run_before(self, state: "MockState", api: "EmulatedApi", req: Request) -> Response | None:
        for _, _, stage in self._before:
            answer = stage(state, api, req)
            if answer is not None:
                return answer
        return None

    def run_after(self, state: "MockState", api: "EmulatedApi", req: Request, response: Response) -> Response:
        for _, _, stage in self._after:
            response = stage(state, api, req, response)
        return response


def authenticate_stage(state: "MockState", api: "EmulatedApi", req: Request) -> None:
    """Resolve the request's tenant from its credentials (raises Unauthorized)."""
    g.tenant = api.authenticate(state, req)
    return None


def install(app: Flask, state: "MockState") -> None:
    """Hook the pipeline into the app."""
    state.pipeline.before(AUTHENTICATE, authenticate_stage)

    @app.before_request
    def _before() -> Response | None:
        api = state.api_for_path(request.path)
        g.api = api
        if api is None:
            return None
        g.started = time.perf_counter()
        g.tenant = None
        g.fault = None
        return state.pipeline.run_before(state, api, request)

    @app.after_request
    def _after(response: Response) -> Response:
        api = g.get("api")
        if api is None:
            return response
        return state.pipeline.run_after(state, api, request, response)
