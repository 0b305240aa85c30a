"""Run the WSGI app under granian's RSGI interface, each request's body read before a thread is taken.

granian's WSGI mode reads a request's body from inside the view's thread, so as many clients as
there are threads, each stalling in the middle of a body, stop the server for everyone
(granian#728, closed "wontfix"). Here the body is read on granian's event loop, where a stalled
client costs no thread, and has a deadline; the view runs on a pool of threads once it is in.
"""

from __future__ import annotations

import asyncio
import collections
import io
import queue
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from ..config import SNAPSHOT_MAX_BYTES, SNAPSHOT_PATH
from . import DROP_CONNECTION
from .drop import close_peer

# A body that has not fully arrived by then gets 408 and its connection closed (mock-defined).
BODY_TIMEOUT_SECONDS = 30.0
Answer = tuple[int, list[tuple[str, str]], bytes]


class WsgiBridge:
    """An RSGI application that serves a WSGI application on `threads` threads of its own."""

    def __init__(
        self,
        app: Callable[..., Any],
        threads: int,
        max_body: int,
        body_timeout: float = BODY_TIMEOUT_SECONDS,
        never_waits: Callable[[str, Any], bool] | None = None,
    ) -> None:
        self.app = app
        # The app's word on whether a request (path, headers) can never wait: such a request is
        # answered on the event loop's turn while no view thread is busy (see __rsgi__).
        self.never_waits = never_waits or _always_waits
        self.max_body = max_body
        # Paths whose bodies may be larger than `max_body` (a snapshot: up to 64 MiB).
        self.limits = {SNAPSHOT_PATH: max(max_body, SNAPSHOT_MAX_BYTES)}
        self.body_timeout = body_timeout
        # A plain queue and threads: loop.run_in_executor's futures cost ~20% of fast requests' throughput.
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Answers ready for the event loop, handed over in batches: one wake-up of the loop (its
        # self-pipe) for all the answers ready by then, not one per answer.
        self._ready: collections.deque[Any] = collections.deque()
        self._wake_pending = False
        # Run once after the next answer is handed over (see after_next_answer).
        self._after_next: Callable[[], None] | None = None
        self._after_next_lock = threading.Lock()
        # Requests handed to view threads and not yet settled, counted on the event loop only.
        self._in_threads = 0
        # Requests being answered outside the view threads: on the loop's turn, or by answer_at_once
        # on granian's thread (changed and read under the GIL).
        self._at_once = 0
        # How many requests answer_at_once has answered (the tests check that the path is taken).
        self.answered_at_once = 0
        # Bodies read at once, not yet settled, in the order they began, each with granian's read
        # (see read_at_once); their deadlines are watched once attach has been given the loop
        # granian serves on. The read is held here only: granian's read holds its callback (the
        # arrival) without telling the cyclic collector, so an arrival holding its read made a cycle
        # never collected, which kept every request's scope and protocol for the server's life.
        self._reading: dict[BodyArrival, Any] = {}
        self._watching = False
        # Work of the app running beside the requests (the warm-up): while any, every request
        # takes a view thread, since that work may hold a lock a request needs.
        self._beside = 0
        self._beside_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"mockserver-view-{n}", daemon=True) for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        limit = self.limits.get(scope.path, self.max_body)
        try:
            body = await self.read_body(scope.headers, proto, limit)
        except TimeoutError:
            answer_late(proto)
            return
        except Exception:  # noqa: BLE001 - the client went away mid-body: nobody to answer
            return
        await self._respond(scope, proto, body, limit)

    async def _respond(self, scope: Any, proto: Any, body: bytes, limit: int) -> None:
        """Answer a request whose body has been read: on this loop's turn if it never waits, else on a view thread."""
        if not self._busy() and self.never_waits(scope.path, scope.headers):
            # Answered here, it saves the hand-over to a thread and back (a third of a fast
            # request's time); see _answer_here.
            status, headers, data = self._answer_here(scope, body)
        else:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            self._in_threads += 1
            self._jobs.put((wsgi_environ(scope, body), loop, done))
            try:
                status, headers, data = await done
            finally:
                self._in_threads -= 1
        if unread_body(scope.headers, len(body), limit):
            # The rest of the body was never read, so the connection cannot carry another request
            # and closes after this answer (a 413, or a 401 given before a large body): say so, or a
            # keep-alive client sends its next call into a closed socket.
            headers = [*(h for h in headers if h[0].lower() != "connection"), ("Connection", "close")]
        answer(proto, status, headers, data)

    def answer_at_once(self, scope: Any, proto: Any) -> bool:
        """Answer a request on the thread granian hands it over from, if it has no body and never waits.

        Return False, having done nothing, for any other request: it goes to the event loop as
        usual. The same conditions as answering on the loop's turn hold (no view thread busy, no
        work beside, no other request answered so), and with no body there is nothing to await:
        so the hand-over to the loop and its task are saved (see HandOverLoop in server.py).
        """
        if scope.proto != "http" or self._busy():
            return False  # (the loop's turn may be answering one: then this request goes there after it)
        if not has_no_body(scope.headers) or not self.never_waits(scope.path, scope.headers):
            return False
        answer(proto, *self._answer_here(scope, b""))
        self.answered_at_once += 1
        return True

    def read_at_once(self, watcher: Any, resume: Callable[[Coroutine[Any, Any, None]], object]) -> bool:
        """Begin reading a body on the thread granian hands its request over from, if its length is within the limit.

        Return False, having done nothing, for any other request (chunked, or one the app answers
        413 from its Content-Length): it goes to the event loop as usual. No coroutine waits for
        the body: granian settles the read on its thread (HandOverLoop hands the settling to the
        BodyArrival there), and the request is answered then if it never waits and nothing runs,
        or else `resume`d on the loop with its body read. A body that has not arrived by its
        deadline is cancelled by watch_deadlines, and answered 408 on the loop.
        """
        scope = watcher.scope
        if scope.proto != "http" or not self._watching:
            return False
        limit = self.limits.get(scope.path, self.max_body)
        if not length_within(scope.headers, limit):
            return False
        arrival = BodyArrival(self, watcher, resume, limit, time.monotonic() + self.body_timeout)
        read = watcher.proto()
        # Settled on granian's thread, which is this one: it cannot settle before the callback is on.
        read.add_done_callback(arrival)
        self._reading[arrival] = read  # only now may watch_deadlines cancel it
        return True

    @property
    def reads_in_flight(self) -> int:
        """How many bodies read at once have not yet settled (their deadlines are being watched)."""
        return len(self._reading)

    def arrived(self, arrival: BodyArrival, read: Any) -> None:
        """Answer a request whose body read at once has settled (see read_at_once), and tell granian."""
        self._reading.pop(arrival, None)
        watcher = arrival.watcher
        try:
            if self._answer_arrived(arrival, read):
                return  # resumed on the loop, whose coroutine tells granian
        except BaseException as exc:  # noqa: BLE001 - granian logs it and answers 500
            watcher.err(exc)
            return
        watcher.done()

    def _answer_arrived(self, arrival: BodyArrival, read: Any) -> bool:
        """Answer here, or resume the request on the loop (True); a body past its deadline gets 408."""
        scope, proto = arrival.watcher.scope, arrival.watcher.proto
        if read.cancelled():  # past its deadline (watch_deadlines)
            answer_late(proto)
            return False
        try:
            body = read.result()
        except Exception:  # noqa: BLE001 - the client went away mid-body: nobody to answer
            return False
        if self._busy() or not self.never_waits(scope.path, scope.headers):
            arrival.resume(_watched(self._respond(scope, proto, body, arrival.limit), arrival.watcher))
            return True
        answer(proto, *self._answer_here(scope, body))
        self.answered_at_once += 1
        return False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the deadlines of bodies read at once on `loop` (the loop granian serves on)."""
        self._watching = True
        loop.call_soon(self.watch_deadlines, loop)

    def watch_deadlines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the body reads past their deadline (their arrivals answer 408), then look again later."""
        now = time.monotonic()
        for arrival, read in list(self._reading.items()):  # in the order they began, so by deadline
            if arrival.deadline > now:
                break
            self._reading.pop(arrival, None)
            read.cancel()  # granian then calls the arrival on this loop, unless it has settled
        # So a body past its deadline is answered 408 within an eighth of the deadline, a second at most.
        loop.call_later(min(1.0, max(self.body_timeout / 8, 0.01)), self.watch_deadlines, loop)

    def _busy(self) -> bool:
        """Whether a view thread is busy, work runs beside the requests, or a request is answered outside a thread."""
        return bool(self._in_threads or self._beside or self._at_once)

    def _answer_here(self, scope: Any, body: bytes) -> Answer:
        """Run the app on this thread for a request that never waits, while nothing else runs.

        No view thread is busy, no work runs beside, and no other request is being answered
        outside a view thread (on the loop's turn or at once on granian's thread): so this request
        meets no held lock, and it never sleeps nor does I/O.
        """
        self._at_once += 1
        try:
            result = self.call(wsgi_environ(scope, body))
        finally:
            self._at_once -= 1
        self._answered()
        return result

    async def read_body(self, headers: Any, proto: Any, max_body: int) -> bytes:
        """Return the body; past `max_body` bytes, none or only its start (the app answers 413 then).

        Raise TimeoutError if it has not arrived within `body_timeout` seconds.
        """
        if has_no_body(headers):
            return b""
        async with asyncio.timeout(self.body_timeout):
            if "transfer-encoding" not in headers:
                # The app answers 413 from Content-Length alone; a body within it is read in one go.
                return await proto() if length_within(headers, max_body) else b""
            chunks, size = [], 0
            async for chunk in proto:
                chunks.append(chunk)
                size += len(chunk)
                if size > max_body:
                    break
            return b"".join(chunks)

    def call(self, environ: dict[str, Any]) -> Answer:
        """Run the WSGI app on `environ`; return its status, headers and whole body."""
        started: list[Any] = [500, []]

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [int(status.split(" ", 1)[0]), headers]

        result = self.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], data

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            environ, loop, done = job
            try:
                result: Answer | None = self.call(environ)
                error: BaseException | None = None
            except BaseException as exc:  # noqa: BLE001 - raised again in the request's coroutine
                result, error = None, exc
            self._ready.append((done, result, error))
            # Read and set under the GIL: at worst two wake-ups, the second finding nothing. An answer
            # appended while a wake-up is pending is settled by it (it clears the flag before it looks).
            if not self._wake_pending:
                self._wake_pending = True
                loop.call_soon_threadsafe(self._settle_ready)
            self._answered()

    def _answered(self) -> None:
        """Run the hook waiting for the next answer, if any (on the thread that answered)."""
        if self._after_next is not None:
            with self._after_next_lock:
                hook, self._after_next = self._after_next, None
            if hook is not None:
                hook()

    def run_beside(self, work: Callable[[], None], name: str) -> None:
        """Run `work` on a thread of its own; until it ends, every request takes a view thread."""
        with self._beside_lock:
            self._beside += 1

        def run() -> None:
            try:
                work()
            finally:
                with self._beside_lock:
                    self._beside -= 1

        threading.Thread(target=run, name=name, daemon=True).start()

    def _settle_ready(self) -> None:
        self._wake_pending = False
        ready = self._ready
        while ready:
            _settle(*ready.popleft())

    def after_next_answer(self, hook: Callable[[], None]) -> None:
        """Call `hook` (on a view thread, so it must be quick) once the next answer has been handed over."""
        with self._after_next_lock:
            self._after_next = hook

    def close(self) -> None:
        """Let the view threads end once the requests already queued are answered."""
        for _ in self._threads:
            self._jobs.put(None)


class BodyArrival:
    """A request whose body is read with no coroutine waiting (WsgiBridge.read_at_once), called as the read settles."""

    __slots__ = ("bridge", "deadline", "limit", "resume", "watcher")

    def __init__(
        self, bridge: WsgiBridge, watcher: Any, resume: Callable[..., object], limit: int, deadline: float
    ) -> None:
        self.bridge = bridge
        self.watcher = watcher
        # Not its read, which holds this arrival: the bridge holds the read while it is in flight.
        self.resume = resume
        self.limit = limit
        self.deadline = deadline

    def __call__(self, read: Any) -> None:
        self.bridge.arrived(self, read)


async def _watched(respond: Coroutine[Any, Any, None], watcher: Any) -> None:
    """Run `respond` on the loop as granian runs a request's coroutine: its watcher is told how it ended."""
    try:
        await respond
    except BaseException as exc:  # noqa: BLE001 - granian logs it and answers 500
        watcher.err(exc)
        return
    watcher.done()


def answer_late(proto: Any) -> None:
    """Answer 408 to a request whose body did not arrive by its deadline; its connection closes."""
    answer(
        proto,
        408,
        [("Content-Type", "text/plain"), ("Connection", "close")],
        b"The request body did not arrive in time.\n",
    )


def _always_waits(path: str, headers: Any) -> bool:
    return False


def has_no_body(headers: Any) -> bool:
    """Whether a request's headers say it has no body: not chunked, and no or a zero Content-Length."""
    return "transfer-encoding" not in headers and headers.get("content-length", "0") == "0"


def length_within(headers: Any, limit: int) -> bool:
    """Whether a request's body is not chunked and has a Content-Length of at most `limit` bytes."""
    length = headers.get("content-length")
    return "transfer-encoding" not in headers and length is not None and length.isdigit() and int(length) <= limit


def unread_body(headers: Any, read: int, limit: int) -> bool:
    """Whether part of the request's body is left unread: a Content-Length or a chunked body past `limit`."""
    if "transfer-encoding" in headers:
        return read > limit
    length = headers.get("content-length")
    return length is not None and (not length.isdigit() or int(length) > limit)


def _settle(done: asyncio.Future[Any], result: Answer | None, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def answer(proto: Any, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
    """Send the answer, unless the connection is gone (the client left, or a drop fault closed it)."""
    # try/except, not contextlib.suppress: this runs once per answer, and suppress builds an object each time.
    try:  # noqa: SIM105
        proto.response_bytes(status, headers, data)
    except RuntimeError:  # granian's RSGIProtocolClosed
        pass


def wsgi_environ(scope: Any, body: bytes) -> dict[str, Any]:
    """Build the WSGI environ (PEP 3333) of an RSGI request scope whose body has been read."""
    server_host, _, server_port = scope.server.rpartition(":")
    client_host, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # granian gives the path percent-decoded as text; WSGI wants its UTF-8 bytes read as Latin-1.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host.strip("[]"),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host.strip("[]"),
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        # The drop fault's way to end exactly this request's connection with no answer.
        DROP_CONNECTION: partial(close_peer, scope.server, scope.client),
    }
    keys = _ENVIRON_KEYS
    for name, value in scope.headers.items():
        key = keys.get(name)
        if key is None:
            key = environ_key(name)
            if len(keys) < 512:  # the names clients send are few; a hostile client's do not grow it
                keys[name] = key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def environ_key(name: str) -> str:
    """The environ key of a header: `x-mock-token` -> `HTTP_X_MOCK_TOKEN`, `content-type` -> `CONTENT_TYPE`."""
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


# Header name -> environ key, as met (py-spy: building each key anew was ~2% of a request's samples).
_ENVIRON_KEYS: dict[str, str] = {}
