"""The server users run (granian's embedded server and the bridge, as `mockserver serve` starts it),
on a thread of this process instead of its main thread: for the tests and the pytest plugin.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from flask import Flask

from ..pipeline import never_waits
from ..serving.bridge import WsgiBridge
from ..serving.server import check_bindable, embedded_server, new_event_loop, url_for, wait_healthy
from ..state import mock_state


class ServerThread:
    """Serve an app on 127.0.0.1 from a daemon thread, as `serve` does: granian, the bridge, view threads."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = check_bindable(host, port)
        state = mock_state(app)
        settings = state.settings.with_values(host=host)
        # Deliveries never reach the server itself: the policy learns the port it listens on.
        state.egress.learn_port(self.port)
        # granian's own log stays off: its constructor would reconfigure the process's logging.
        quick = never_waits(state)
        self._server, self._bridge = embedded_server(app, settings, self.port, log=False, never_waits=quick)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mockserver", daemon=True)

    @property
    def bridge(self) -> WsgiBridge:
        """The bridge the server serves the app through (its counts tell which path a request took)."""
        return self._bridge

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def _run(self) -> None:
        loop = new_event_loop(self._bridge)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_until_complete(self._server.serve())
        finally:
            loop.close()

    def start(self) -> ServerThread:
        """Start serving and return once the server answers (once: a started server is returned as it is)."""
        if self._thread.ident is None:
            self._thread.start()
            self._ready.wait(5)
            if not wait_healthy(self.host, self.port, 30.0, self._stopped):
                raise RuntimeError(f"the server on {self.url} did not answer within 30 s")
        return self

    def stop(self) -> None:
        """Stop serving (ending verifications' waits first) and close the app's store."""
        state = mock_state(self.app)
        state.stop()
        self._stopped.set()
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._server.stop)
            self._thread.join(timeout=10)
        self._bridge.close()
        state.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(settings: dict[str, Any] | None = None) -> ServerThread:
    """Build an app from `settings` and serve it on a free port."""
    from ..app import create_app

    return ServerThread(create_app(dict(settings or {}))).start()
