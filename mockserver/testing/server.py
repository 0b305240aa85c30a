"""A mockserver running in a background thread of this process, on a real socket (tests, the plugin)."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..serving import DROP_CONNECTION
from ..serving.drop import abort


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler without its access line (the app logs one per request), with the drop hook."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[DROP_CONNECTION] = self._drop
        return environ

    def _drop(self) -> bool:
        """End this handler's own connection with no answer (the drop fault)."""
        abort(self.connection)
        return True


class ServerThread:
    """Serve an app on 127.0.0.1 in a daemon thread; one thread per request, so delays do not block."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]  # threaded=True makes a ThreadingMixIn server
        self.host = host
        self.port = self._server.server_port
        # A short poll interval: stop() returns as soon as the loop notices (werkzeug's default is 0.5 s).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="mockserver", daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ServerThread:
        """Start serving (once: a started server is returned as it is)."""
        if self._thread.ident is None:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (ending verifications' waits first) and close the app's store."""
        self.app.extensions["mockserver"].stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.extensions["mockserver"].close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(settings: dict[str, Any] | None = None) -> ServerThread:
    """Build an app from `settings` and serve it on a free port."""
    from ..app import create_app

    return ServerThread(create_app(dict(settings or {}))).start()
