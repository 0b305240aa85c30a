"""The one object a request carries through the pipeline, and how views reach it and the app's state.

A context variable holds this object for the request being handled (set when it arrives, reset
when Flask tears the request down); every stage reads and writes its fields, so what a request
learned on its way (its API, credentials, tenant, the fault that answered it, its rate limit) is
in one typed place. A context variable, not `flask.g`: it is read a dozen times a request, and
each read of `g` goes through werkzeug's proxy (cProfile: ~4x the cost of a plain lookup).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .emulated import Caller

if TYPE_CHECKING:
    from flask import Request

    from .bodies import BodyRecorder
    from .credentials import Credentials
    from .emulated import AppState, EmulatedApi
    from .ports import Decision
    from .tenants import Tenant


# The key of the app's state (a `state.MockState`) in `app.extensions`.
EXTENSION = "mockserver"


def get_state(app: Flask | None = None) -> AppState:
    """Return the state of `app` (default: the current app), as everything below the composition root sees it."""
    state: AppState = (app or current_app).extensions[EXTENSION]
    return state


@dataclass(slots=True)
class RequestContext:
    """What one request learned on its way; created when it arrives, handed to every stage."""

    state: AppState
    request: Request
    # The emulated API whose prefix the path is under; None for /__mock and other paths.
    api: EmulatedApi | None
    # time.perf_counter() at arrival (durations) and the mock clock's POSIX time (the journal's `time`).
    started: float
    arrived: float = 0.0
    # What the Authorization header carried (None: no header), judged or not.
    credentials: Credentials | None = None
    # Set by authentication when the API accepted the credentials.
    caller: Caller | None = None
    # The id of the fault rule (or "prefer") that answered or delayed the request.
    fault: str | None = None
    rate_limit: Decision | None = None
    # True when a fault rule or `Prefer: code=` gave the answer (an error or a malformed body).
    injected: bool = False
    # True when a drop fault closed the connection: no answer reached the client.
    dropped: bool = False
    # The first bytes of the body, kept as the view reads it (the journal's `body`).
    body: BodyRecorder | None = None
    # What close_context() needs to make the previous context (normally none) current again.
    opened: Token[Any] | None = None

    @property
    def key(self) -> str | None:
        """The API key the request carries, if one could be read."""
        return self.credentials.key if self.credentials is not None else None

    @property
    def tenant(self) -> Tenant | None:
        """The tenant of an accepted request; None before authentication or when it was refused."""
        return self.caller.tenant if self.caller is not None else None

    def accept(self, api: EmulatedApi, tenant: Tenant, credentials: Credentials) -> Caller:
        """Note that `api` accepted the credentials, into `tenant`; return the caller."""
        if credentials.key is None:
            raise ValueError("an accepted request has a key")
        self.credentials = credentials
        self.caller = Caller(api, tenant, credentials, credentials.key)
        return self.caller

    @contextmanager
    def transaction(self) -> Iterator[Tenant]:
        """Hold the store's transaction for a view's work and yield the request's tenant as it is now.

        A reset (or an eviction) between authentication and now dropped the tenant the request was
        authenticated into: its credentials are judged again, against the state after the reset.
        """
        caller = self.caller
        if caller is None:
            raise RuntimeError("a view's transaction needs an authenticated request")
        with self.state.store.transaction():
            if caller.tenant.dropped:
                caller = self.accept(caller.api, *caller.api.authenticate(self.state, self.credentials))
            yield caller.tenant


_current: ContextVar[RequestContext | None] = ContextVar("mockserver_request_context", default=None)


def current_context() -> RequestContext:
    """Return the context of the request being handled."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no request context is open")
    return context


def current_caller() -> Caller:
    """Return the caller of the request being handled (a view of an emulated API runs after authentication)."""
    caller = current_context().caller
    if caller is None:
        raise RuntimeError("the request was not authenticated")
    return caller


def open_context(context: RequestContext) -> RequestContext:
    """Make `context` the current request's context (until close_context)."""
    context.opened = _current.set(context)
    return context


def close_context() -> None:
    """End the current request's context, if one is open (Flask's teardown of the request)."""
    context = _current.get()
    if context is not None and context.opened is not None:
        _current.reset(context.opened)
        context.opened = None


def context_or_none() -> RequestContext | None:
    """Return the current request's context, or None if it was never opened (a request refused earlier)."""
    return _current.get()
