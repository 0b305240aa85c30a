"""create_app(): the one place where settings, state, the emulated APIs and the control plane meet."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import pipeline
from .config import Settings
from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from .state import EXTENSION, MockState, get_state


def _load_apis() -> list:
    from .apis.collect import api as collect

    return [collect]


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
    pipeline.install(app, state)
    from .control import control

    app.register_blueprint(control)
    _install_error_handlers(app)
    logging.getLogger("mockserver").setLevel(settings.log_level.upper())
    return app


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
