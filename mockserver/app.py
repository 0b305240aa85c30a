"""create_app(): the one place where settings, state, the emulated APIs and the control plane meet."""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import logs, pipeline
from .apis import api_headers_stage
from .config import Settings
from .control import ControlError, control, require_control_token
from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from .faults.stage import faults_stage
from .journal import CAPTURE, capture_stage, journal_stage
from .ratelimits import rate_limit_stage
from .scenarios import Scenarios, ScenarioError
from .state import EXTENSION, MockState, get_state


def _load_apis() -> list:
    from .apis.collect import api as collect
    from .apis.insigner import api as insigner

    return [collect, insigner]


def create_app(settings: Settings | dict[str, Any] | None = None, **overrides: Any) -> Flask:
    """Build a Flask app serving both emulated APIs and the control plane."""
    if settings is None or isinstance(settings, dict):
        settings = Settings.load(environ={}, **{**(settings or {}), **overrides})
    elif overrides:
        settings = settings.with_values(**overrides)
    app = Flask("mockserver")
    app.json.sort_keys = False
    app.json.compact = True
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    apis = _load_apis()
    state = MockState(settings, apis)
    app.extensions[EXTENSION] = state
    for api in apis:
        app.register_blueprint(api.blueprint)
    app.register_blueprint(control)
    _install_access_log(app, settings)  # first, so its timer also covers faulted answers
    app.before_request(require_control_token)
    _assemble_pipeline(app, state)
    state.scenarios = Scenarios.load(settings.fixtures_path / "scenarios", state.apis)
    try:
        state.apply_startup_scenario()
    except ControlError as exc:
        raise ScenarioError(f"scenario {settings.scenario!r}: {exc.message}") from None
    _install_error_handlers(app)
    return app


def _assemble_pipeline(app: Flask, state: MockState) -> None:
    """Register every stage of the request pipeline, in its fixed order."""
    pipeline.install(app, state)
    state.pipeline.before(CAPTURE, capture_stage)
    state.pipeline.before(pipeline.FAULTS, faults_stage)
    state.pipeline.before(pipeline.RATE_LIMITS, rate_limit_stage)
    state.pipeline.after(pipeline.API_HEADERS, api_headers_stage)
    state.pipeline.after(pipeline.JOURNAL, journal_stage)


def redacted_query(args) -> str:
    """Return the query string with API keys (the control plane's `tenant`) cut to 8 characters."""
    parts = []
    for name, value in args.items(multi=True):
        if name == "tenant" and len(value) > 8:
            value = value[:8] + "..."
        parts.append(f"{name}={value}")
    return "&".join(parts)


def _install_access_log(app: Flask, settings: Settings) -> None:
    logger = logging.getLogger("mockserver.access")
    logger.setLevel(settings.log_level.upper())

    @app.before_request
    def _start_clock() -> None:
        request.environ["mockserver.started"] = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if logger.isEnabledFor(logging.INFO):
            started = request.environ.get("mockserver.started", time.perf_counter())
            query = redacted_query(request.args) if request.query_string else ""
            logs.info(logger, f'{request.remote_addr} "{request.method} {request.path}'
                              f'{"?" + query if query else ""}" {response.status_code} '
                              f'{(time.perf_counter() - started) * 1000:.1f}ms')
        return response


def owning_api(path: str):
    """Return the emulated API whose prefix `path` is under, or None."""
    return get_state().api_for_path(path)


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        api = owning_api(request.path)
        if api is None:
            from .control.errors import control_error

            return control_error(exc.status, "error", exc.detail or "error")
        return api.render_error(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        api = owning_api(request.path)
        allow = None
        if exc.code == 405:
            allow = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        if api is None:
            from .control.errors import control_error

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
            from .control.errors import control_error

            return control_error(500, "internal-error", "unexpected server error")
        return api.render_error(ApiError("Unexpected error in the mock server.", status=500))


def _slug(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "-")


__all__ = ["create_app", "get_state"]
