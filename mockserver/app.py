"""create_app(): the one place where settings, state, the emulated APIs and the control plane meet."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import pipeline
from .config import Settings
from .context import EXTENSION, context_or_none
from .control.browsers import refuse_foreign_callers
from .control.errors import control_error, render_control_error
from .control.token import require_control_token
from .coverage.views import blueprint as coverage_calls
from .dashboard.views import blueprint as dashboard_page
from .errors import ApiError, ControlError, MethodNotAllowed, NotFound, PayloadTooLarge
from .faults.views import blueprint as fault_calls
from .journal.views import blueprint as journal_calls
from .lifecycle.model import apply_startup_scenario
from .lifecycle.views import blueprint as lifecycle_calls
from .openapi.views import blueprint as openapi_calls
from .ratelimits.views import blueprint as rate_limit_calls
from .scenarios.model import ScenarioError, Scenarios
from .scenarios.views import blueprint as scenario_calls
from .serving.accesslog import install_access_log
from .snapshots.model import StartupSnapshot
from .snapshots.views import blueprint as snapshot_calls
from .state import MockState, mock_state
from .verification.views import blueprint as verification_calls
from .webhooks.views import blueprint as webhook_calls

if TYPE_CHECKING:
    from .emulated import EmulatedApi

# The /__mock calls, one blueprint per concern.
CONTROL_BLUEPRINTS = (
    lifecycle_calls,
    fault_calls,
    journal_calls,
    verification_calls,
    coverage_calls,
    snapshot_calls,
    rate_limit_calls,
    scenario_calls,
    webhook_calls,
    openapi_calls,
    dashboard_page,
)


def _load_apis() -> list[Any]:
    from .apis.collect import api as collect
    from .apis.insigner import api as insigner

    return [collect, insigner]


class AnswerJSONProvider(DefaultJSONProvider):
    """JSON as the vendors send it: keys in the schemas' order, compact."""

    sort_keys = False
    compact = True


class MockFlask(Flask):
    """Flask, with the answer to OPTIONS that the emulated APIs give: 204 and Allow, no body, no Content-Type."""

    json_provider_class = AnswerJSONProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask's documented hook, asked for every hook and view of every request; its answer
        # for a function never changes, and inspect's check cost ~10% of a fast request (cProfile).
        found = self._sync_functions.get(func)
        if found is None:
            found = self._sync_functions[func] = super().ensure_sync(func)
        return found

    def make_default_options_response(self) -> Response:
        # Flask's documented way to change automatic OPTIONS answers (it says 200 with text/html).
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(settings: Settings | dict[str, Any] | None = None, **overrides: Any) -> Flask:
    """Build a Flask app serving both emulated APIs and the control plane."""
    if settings is None or isinstance(settings, dict):
        settings = Settings.load(environ={}, **{**(settings or {}), **overrides})
    elif overrides:
        settings = settings.with_values(**overrides)
    app = MockFlask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    apis = _load_apis()
    # Scenarios name the APIs' collections: they are read (and checked) before the state is built.
    scenarios = Scenarios.load(settings.fixtures_path / "scenarios", {api.name: tuple(api.collections) for api in apis})
    # A --snapshot file is read first: a reset returns to it, so the state is given it whole.
    startup = StartupSnapshot(settings.snapshot) if settings.snapshot else None
    state = MockState(settings, apis, scenarios, startup.restore if startup else None)
    app.extensions[EXTENSION] = state
    for api in apis:
        app.register_blueprint(api.blueprint)
    for blueprint in CONTROL_BLUEPRINTS:
        app.register_blueprint(blueprint)
    # Hooks run in the order they are registered (after-request ones in reverse).
    pipeline.open_contexts(app, state)  # every request gets its context first
    install_access_log(app, settings.log_level)  # its timer covers faulted answers too
    app.before_request(refuse_foreign_callers)  # a Host not ours, cross-origin writes to /__mock
    app.before_request(require_control_token)  # /__mock only
    pipeline.run_stages(app)  # the emulated APIs' stages around their views
    try:
        apply_startup_scenario(state)
    except ControlError as exc:
        raise ScenarioError(f"scenario {settings.scenario!r}: {exc.message}") from None
    if state.startup_restore is not None:
        state.startup_restore(state)
    _install_error_handlers(app)
    return app


def owning_api(path: str) -> EmulatedApi | None:
    """Return the emulated API whose prefix `path` is under, or None (the request's context knows it)."""
    ctx = context_or_none()
    return ctx.api if ctx is not None else mock_state().api_for_path(path)


def _install_error_handlers(app: Flask) -> None:
    app.register_error_handler(ControlError, render_control_error)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        api = owning_api(request.path)
        if api is None:
            return control_error(exc.status, "error", exc.detail or "error")
        return api.render_error(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        api = owning_api(request.path)
        allow = None
        if exc.code == 405:
            allow = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        if api is None:
            response = control_error(exc.code or 500, _slug(exc), exc.description or exc.name)
        else:
            mapped: ApiError
            if exc.code == 404:
                mapped = NotFound(f"No route for {request.method} {request.path}.")
            elif exc.code == 405:
                mapped = MethodNotAllowed(f"{request.method} is not allowed on {request.path}.")
            elif exc.code == 413:
                mapped = PayloadTooLarge("The request body exceeds the size limit.")
            else:
                mapped = ApiError(exc.description, status=exc.code or 500)
            response = api.render_error(mapped)
        if allow:
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # Nothing a client sends may produce an unhandled 500: log it, answer in the API's envelope.
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        api = owning_api(request.path)
        if api is None:
            return control_error(500, "internal-error", "unexpected server error")
        return api.render_error(ApiError("Unexpected error in the mock server.", status=500))


def _slug(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "-")


__all__ = ["create_app", "mock_state"]
