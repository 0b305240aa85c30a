"""Serve an app with granian's embedded server: one process, HTTP in granian's Rust runtime, views on threads.

State lives in this process's memory, so there is one server in it. granian's embedded server
(`granian.server.embed`, its public in-process API) runs on this thread's asyncio loop and
serves the app through its RSGI interface and bridge.py, which takes a view thread only once
a request's body is in, so a delayed or slow request stalls no other.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import gc
import http.client
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import Flask

from ..config import Settings
from ..verification.model import MAX_WAITS
from . import logs
from .bridge import BodyArrival, WsgiBridge

if TYPE_CHECKING:
    from granian.server.embed import Server

# Connections served at once; past it, a new connection waits in the listen backlog.
CONNECTIONS = 4096


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


def client_host(host: str) -> str:
    """The address a client of this machine reaches a server bound on `host` at: all interfaces, the loopback."""
    if host in ("0.0.0.0", ""):  # noqa: S104 (reading the bind address, not binding)
        return "127.0.0.1"
    return "::1" if host == "::" else host


def url_for(host: str, port: int) -> str:
    """The URL a client uses: an address bound on all interfaces shown as its loopback, IPv6 in brackets."""
    shown = client_host(host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # RFC 3986: an IPv6 literal in a URL is bracketed
    return f"http://{shown}:{port}"


def wait_healthy(host: str, port: int, timeout: float, stop: threading.Event) -> bool:
    """Poll /__mock/health until it answers 200."""
    target = client_host(host)
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
        stop.wait(0.005)
    return False


def new_event_loop(bridge: WsgiBridge | None = None) -> asyncio.AbstractEventLoop:
    """The event loop granian's embedded server and the bridge run on: uvloop's.

    granian hands every request over on the loop, and a view thread hands its answer back with
    call_soon_threadsafe. Measured with wrk on GET /__mock/health, alternating: 2,420 -> 2,810
    req/s at one connection and 6,730 -> 7,610 at 16 with uvloop in place of asyncio's own loop.
    With `bridge`, a request is taken over where granian hands it over (HandOverLoop).
    """
    import uvloop

    if bridge is None:
        return uvloop.new_event_loop()

    answer_at_once, read_at_once = bridge.answer_at_once, bridge.read_at_once

    class HandOverLoop(uvloop.Loop):
        """A uvloop loop that lets the bridge take a request over at the moment granian hands it over.

        granian's embedded server (2.x, granian/_futures.py) hands each request from its one
        thread that holds the GIL to the loop as call_soon_threadsafe(run, coroutine, watcher),
        the watcher giving the request's scope and protocol. There, a request with no body that
        never waits is answered at once (WsgiBridge.answer_at_once), and one with a body has its
        read begun (WsgiBridge.read_at_once). granian settles a read on that same thread and
        tells the read's done callback through call_soon_threadsafe too: a BodyArrival is called
        right there, so the request is answered, or resumed on the loop, with no wake-up of the
        loop in between. That is granian's own working, not its documented API: anything else
        handed over (its futures' results, our view threads' answers) goes to the loop as before,
        and so would every request if granian changed it (tests/test_bridge_inline.py checks that
        the paths are taken).

        Measured with wrk, alternating. No body: GET /__mock/health 5,055 -> 6,783 req/s at one
        connection and 11,942 -> 13,121 at 16; POST /__mock/reset 3,097 -> 3,877 at one. A body
        (wake-ups a request 7.52 -> 5.32, bench/wakeups.py): PUT /__mock/rate-limits 2,543 ->
        3,323 and Collect's send 1,778 -> 2,058 at one connection.
        """

        def call_soon_threadsafe(  # type: ignore[override]  # typeshed ties the arguments to the callback
            self, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None
        ) -> asyncio.Handle:
            if type(callback) is BodyArrival:
                callback(*args)  # granian settles a body read at once, on its thread: answered here
                return self._never_run(callback, args, context)
            if len(args) == 2 and type(args[1]).__name__ == "CallbackWatcherHTTP":
                coroutine, watcher = args
                try:
                    if answer_at_once(watcher.scope, watcher.proto):
                        watcher.done()
                    elif not read_at_once(watcher, partial(self._resume, callback, watcher, context)):
                        return super().call_soon_threadsafe(callback, *args, context=context)
                except BaseException as exc:  # noqa: BLE001 - granian logs it and answers 500
                    watcher.err(exc)
                coroutine.close()  # never started: the request it would have served is taken over
                return self._never_run(callback, args, context)
            return super().call_soon_threadsafe(callback, *args, context=context)

        def _resume(
            self, run: Callable[..., object], watcher: Any, context: contextvars.Context | None, coroutine: Any
        ) -> None:
            """Hand a request taken over back to the loop, as granian would have, with `coroutine` to run."""
            super().call_soon_threadsafe(run, coroutine, watcher, context=context)

        def _never_run(
            self, callback: Callable[..., object], args: tuple[Any, ...], context: contextvars.Context | None
        ) -> asyncio.Handle:
            handle = asyncio.Handle(callback, args, self, context)  # what the caller is owed, never run
            handle.cancel()
            return handle

    loop = HandOverLoop()
    bridge.attach(loop)
    return loop


def embedded_server(
    app: Flask,
    settings: Settings,
    port: int,
    *,
    log: bool = True,
    never_waits: Callable[[str, Any], bool] | None = None,
) -> tuple[Server, WsgiBridge]:
    """Return granian's embedded server for `app` on `port`, and the bridge it serves through.

    `serve` runs it on the main thread; the tests and the pytest plugin run the same on a thread
    of their own (testing/server.py). `log`: granian's own error log (it reconfigures logging).
    `never_waits`: the app's word on which requests the bridge may answer on its event loop
    (pipeline.never_waits); without it, every request takes a view thread.
    """
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    # RSGI, not granian's WSGI: the bridge reads bodies before a view thread is taken (see bridge.py).
    # MAX_WAITS threads more than --threads: verifications that wait never take the threads of
    # the requests they wait for.
    bridge = WsgiBridge(app, settings.threads + MAX_WAITS, settings.max_body_bytes, never_waits=never_waits)
    # granian admits `backpressure` connections at once (default 128, idle keep-alive ones included):
    # the views' threads bound the work, so only a file-descriptor budget should bound connections.
    server = Server(
        bridge,
        address=settings.host,
        port=port,
        interface=Interfaces.RSGI,
        backlog=1024,
        backpressure=CONNECTIONS,
        log_enabled=log,
        log_level=LogLevels.error,
        log_access=False,
    )
    return server, bridge


def serve(
    app: Flask,
    settings: Settings,
    port: int,
    on_ready: Callable[[str], None],
    on_stop: Callable[[], None],
    warm_up: Callable[[], None] | None = None,
    never_waits: Callable[[str, Any], bool] | None = None,
) -> None:
    """Serve `app` until SIGINT or SIGTERM; `on_stop` runs first when a signal comes (it ends waits).

    `warm_up` runs on a thread of its own after the first answer to a client (a CI wait loop's
    health check, say): work that need not delay that answer (the seed data), done while the
    client gets its tests going. A request that needs it sooner builds it, or waits for it.
    """
    server, bridge = embedded_server(app, settings, port, never_waits=never_waits)
    # granian's constructor applies its own logging dictConfig, which closes existing handlers.
    logs.configure(settings.log_level, sys.stderr)
    stop = threading.Event()

    def announce() -> None:
        if wait_healthy(settings.host, port, 30.0, stop):
            on_ready(url_for(settings.host, port))
            if warm_up is not None:
                # Not at once: the warm-up holds the GIL, and would delay that first answer itself.
                bridge.after_next_answer(lambda: bridge.run_beside(run_warm_up, "mockserver-warm-up"))

    def run_warm_up() -> None:
        if warm_up is None:
            return
        try:
            warm_up()
        except Exception:
            logging.getLogger("mockserver").exception("warming up failed")
        gc.freeze()  # what it built lives as long as the process, as the start-up's objects do

    def stop_serving() -> None:
        on_stop()
        server.stop()  # type: ignore[no-untyped-call]  # granian's Server.stop has no annotations

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop_serving)
        await server.serve()

    # Everything built at start-up lives as long as the process: keep it out of the cyclic
    # garbage collector's scans, and let a request's short-lived objects pile up longer before
    # a collection, so full collections over a growing store do not stall requests.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    watcher = threading.Thread(target=announce, name="mockserver-ready", daemon=True)
    watcher.start()
    try:
        with asyncio.Runner(loop_factory=partial(new_event_loop, bridge)) as runner:
            runner.run(run())
    finally:
        stop.set()
        bridge.close()
