"""Serve an app with granian: one process, HTTP in granian's Rust runtime, views on a thread pool.

State lives in this process's memory, so there is one worker; a pool of Python threads runs the
views, so a delayed or slow request does not stall the others. granian serves the app through
its RSGI interface and bridge.py, which takes a thread only once a request's body is in.
"""
from __future__ import annotations

import errno
import gc
import http.client
import socket
import sys
import threading
import time
from collections.abc import Callable

from flask import Flask

from . import logs
from .bridge import WsgiBridge
from .config import Settings


class ServeError(Exception):
    """The server cannot start (port in use, address not available); one line for the user."""


def check_bindable(host: str, port: int) -> int:
    """Return the port to use (a free one for 0); raise ServeError if it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {port} on {host} is already in use") from None
            raise ServeError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
        return probe.getsockname()[1]


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    return f"http://{shown}:{port}"


def wait_healthy(host: str, port: int, timeout: float, stop: threading.Event) -> bool:
    """Poll /__mock/health until it answers 200."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            conn = http.client.HTTPConnection(target, port, timeout=1)
            conn.request("GET", "/__mock/health")
            if conn.getresponse().status == 200:
                conn.close()
                return True
            conn.close()
        except OSError:
            pass
        time.sleep(0.005)
    return False


def serve(app: Flask, settings: Settings, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve `app` until SIGINT or SIGTERM."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.mt import MTServer

    class InProcessServer(MTServer):
        # granian runs thread workers only on free-threaded builds by default; with one worker
        # and the GIL the thread worker is what keeps the app (and its state) in this process.
        def _check_gil(self) -> None:
            return None

    # RSGI, not granian's WSGI: the bridge reads bodies before a view thread is taken (see bridge.py).
    bridge = WsgiBridge(app, settings.threads, settings.max_body_bytes)
    server = InProcessServer(
        "mockserver.app:create_app",
        address=settings.host,
        port=port,
        interface=Interfaces.RSGI,
        workers=1,
        log_enabled=True,
        log_level=LogLevels.error,
        log_access=False,
    )
    # granian's constructor applies its own logging dictConfig, which closes existing handlers.
    logs.configure(settings.log_level, sys.stderr)
    stop = threading.Event()

    def announce() -> None:
        if wait_healthy(settings.host, port, 30.0, stop):
            on_ready(url_for(settings.host, port))

    # Everything built at start-up lives as long as the process: keep it out of the cyclic
    # garbage collector's scans, and let a request's short-lived objects pile up longer before
    # a collection, so full collections over a growing store do not stall requests.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    watcher = threading.Thread(target=announce, name="mockserver-ready", daemon=True)
    watcher.start()
    try:
        server.serve(target_loader=lambda *args, **kwargs: bridge, wrap_loader=False)
    finally:
        stop.set()
        bridge.close()
