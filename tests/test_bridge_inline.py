"""The bridge answers a request that can never wait on its event loop (or, with no body, on granian's
thread as it is handed over), and everything else on a view thread.

A request is answered on the loop's turn only when the app says it never sleeps nor does I/O
(pipeline.never_waits: an API call or a quick control call, memory store, small body, no
`Prefer`, no delaying fault rule) and nothing else runs: no view thread is busy and no work of
the app runs beside the requests (the warm-up). Then no lock it needs can be held by anyone.
"""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace

import pytest

from mockserver.app import create_app
from mockserver.faults.engine import FaultEngine
from mockserver.faults.rules import FaultRule
from mockserver.pipeline import QUICK_BODY_BYTES, never_waits
from mockserver.serving.bridge import WsgiBridge
from mockserver.state import mock_state

LOOP_THREAD = threading.current_thread().name
JSON = {"Content-Type": "application/json"}
# Collect's send of the vendor's example campaign to one contact.
COLLECT_SEND = json.dumps({"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]})


@pytest.fixture(scope="module")
def app():
    return create_app({"store": "memory", "seed": 42})


@pytest.mark.parametrize(
    "path, headers, expected",
    [
        ("/v1/requests", {"content-length": "120"}, True),
        ("/api/v1/bulk-sends/bs_abc123", {}, True),
        ("/api/v1/no-such-path", {}, True),  # inSigner's 404, from memory
        ("/__mock/health", {}, True),
        ("/__mock/reset", {"content-length": "0"}, True),
        ("/__mock/rate-limits", {"content-length": "64"}, True),
        ("/__mock/clock", {"content-length": "20"}, True),
        ("/v1/requests", {"prefer": "code=503"}, False),  # a Prefer may ask for a delay
        ("/v1/requests", {"content-length": str(QUICK_BODY_BYTES + 1)}, False),
        ("/v1/requests", {"content-length": "12x"}, False),
        ("/v1/requests", {"transfer-encoding": "chunked"}, False),
        ("/__mock/verify", {"content-length": "40"}, False),  # a verification may wait
        ("/__mock/snapshot", {}, False),
        ("/__mock/requests", {}, False),
        ("/__mock/ui", {}, False),
        ("/elsewhere", {}, False),
    ],
)
def test_never_waits__what_the_app_answers_from_memory_without_sleeping(app, path, headers, expected):
    assert never_waits(mock_state(app))(path, headers) is expected


def test_never_waits__not_while_a_fault_rule_delays_answers(app):
    check = never_waits(mock_state(app))
    faults = mock_state(app).part(FaultEngine)
    assert check("/v1/requests", {})
    error = faults.add(FaultRule(id="", kind="error", status=503))
    assert check("/v1/requests", {})  # an error rule answers at once
    delay = faults.add(FaultRule(id="", kind="delay", delay_ms=10))
    assert not check("/v1/requests", {})
    faults.remove(delay["id"])
    assert check("/v1/requests", {})
    faults.add(FaultRule(id="", kind="delay", delay_ms=10))
    faults.clear()
    assert check("/v1/requests", {})
    faults.remove(error["id"])


def test_never_waits__never_on_the_file_store(tmp_path):
    app = create_app({"store": "tinydb", "db": str(tmp_path / "db.json"), "seed": 42})
    try:
        assert not never_waits(mock_state(app))("/__mock/health", {})
    finally:
        mock_state(app).close()


class Proto:
    """An RSGI protocol with no body, recording the answer."""

    answer = None

    async def __call__(self):
        return b""

    def response_bytes(self, status, headers, body):
        self.answer = (status, body)


def scope(path: str) -> SimpleNamespace:
    return SimpleNamespace(
        proto="http",
        method="GET",
        path=path,
        query_string="",
        headers={},
        server="127.0.0.1:8080",
        client="127.0.0.1:50000",
        http_version="1.1",
        scheme="http",
    )


class Recorder:
    """A WSGI app answering with the name of the thread it ran on; /slow waits for /quick first."""

    def __init__(self) -> None:
        self.quick_ran = threading.Event()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            assert self.quick_ran.wait(5)
        else:
            self.quick_ran.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [threading.current_thread().name.encode()]


def answer(bridge: WsgiBridge, path: str) -> str:
    proto = Proto()
    asyncio.run(bridge.__rsgi__(scope(path), proto))
    assert proto.answer[0] == 200
    return proto.answer[1].decode()


def test_bridge__a_request_that_never_waits_runs_on_the_loop_and_one_that_may_on_a_view_thread():
    bridge = WsgiBridge(Recorder(), threads=2, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    try:
        assert answer(bridge, "/quick") == LOOP_THREAD
        assert answer(bridge, "/other").startswith("mockserver-view-")
        # Without the app's word, every request takes a view thread, as before.
        plain = WsgiBridge(Recorder(), threads=1, max_body=1024)
        try:
            assert answer(plain, "/quick").startswith("mockserver-view-")
        finally:
            plain.close()
    finally:
        bridge.close()


def test_bridge__while_a_view_thread_is_busy_a_quick_request_takes_a_thread_too():
    # /slow holds its view thread until /quick has run: were /quick answered on the loop while
    # /slow held a lock, the loop would wait for it; here it runs on the other view thread.
    app = Recorder()
    bridge = WsgiBridge(app, threads=2, max_body=1024, never_waits=lambda path, headers: path == "/quick")

    async def both():
        slow, quick = Proto(), Proto()
        first = asyncio.ensure_future(bridge.__rsgi__(scope("/slow"), slow))
        await asyncio.sleep(0)  # /slow is handed to a view thread first
        await asyncio.wait_for(asyncio.gather(first, bridge.__rsgi__(scope("/quick"), quick)), 10)
        return slow.answer[1].decode(), quick.answer[1].decode()

    try:
        slow_thread, quick_thread = asyncio.run(both())
        assert slow_thread.startswith("mockserver-view-")
        assert quick_thread.startswith("mockserver-view-") and quick_thread != slow_thread
        # Once nothing is in flight, the quick one is answered on the loop again.
        assert answer(bridge, "/quick") == LOOP_THREAD
    finally:
        bridge.close()


def test_bridge__while_work_runs_beside_the_requests_every_request_takes_a_view_thread():
    bridge = WsgiBridge(Recorder(), threads=1, max_body=1024, never_waits=lambda path, headers: True)
    release, started, ended = threading.Event(), threading.Event(), threading.Event()

    def warm_up():
        started.set()
        release.wait(5)

    try:
        bridge.run_beside(lambda: (warm_up(), ended.set()), "test-beside")
        assert started.wait(5)
        assert answer(bridge, "/quick").startswith("mockserver-view-")
        release.set()
        assert ended.wait(5)
        for _ in range(100):  # the count drops just after the work returns
            if answer(bridge, "/quick") == LOOP_THREAD:
                break
        else:
            pytest.fail("requests never came back to the loop after the work ended")
    finally:
        bridge.close()


def test_storm__loop_and_view_threads_mixed__no_hang_and_no_5xx():
    # Through the server users run: requests the loop answers (API calls, health, resets,
    # rate-limit changes, clock advances) mixed with ones that take view threads (Prefer
    # delays, verification waits, journal reads, a delaying fault rule added and removed).
    import http.client
    import json

    from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer

    from mockserver.testing.server import start_server

    calls = [
        ("POST", "/v1/requests", COLLECT_SEND, {**basic(COLLECT_KEY), **JSON}),
        ("GET", "/api/v1/bulk-sends/bs_abc123", None, bearer(INSIGNER_KEY)),
        ("GET", "/api/v1/bulk-sends", None, {**bearer(INSIGNER_KEY), "Prefer": "delay=5"}),
        ("GET", "/__mock/health", None, {}),
        ("POST", "/__mock/reset", None, {}),
        ("PUT", "/__mock/rate-limits", json.dumps({"collect": {"enabled": False}}), JSON),
        ("POST", "/__mock/clock", json.dumps({"advance": 1}), JSON),
        ("POST", "/__mock/verify", json.dumps({"path": "/v1/none", "withinMs": 20}), JSON),
        ("GET", "/__mock/requests?limit=5", None, {}),
        ("POST", "/__mock/faults", json.dumps({"kind": "delay", "delayMs": 5, "times": 3}), JSON),
        ("DELETE", "/__mock/faults", None, {}),
    ]
    server = start_server({"store": "memory", "seed": 42})
    failures: list[str] = []

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for i in range(60):
                method, path, data, headers = calls[(n * 7 + i) % len(calls)]
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 500:
                    failures.append(f"{method} {path}: {response.status}")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(f"worker {n}: {exc!r}")
        finally:
            conn.close()

    try:
        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
        assert failures == []
        assert answer_status(server.port, "/__mock/health") == 200
        # The storm took all three ways: at once on granian's thread, the loop's turn, view threads.
        assert server.bridge.answered_at_once > 0
    finally:
        server.stop()


def answer_status(port: int, path: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def broken(environ, start_response):
    """A WSGI app that raises, as a bug of the app's would."""
    raise RuntimeError("broken app")


# -- answered where granian hands the request over ------------------------------------------------


class CallbackWatcherHTTP:
    """Stands for granian's watcher of a request (HandOverLoop knows it by this name)."""

    def __init__(self, path: str, headers: dict[str, str] | None = None) -> None:
        self.scope = scope(path)
        self.scope.headers = headers or {}
        self.proto = Proto()
        self.finished: list[object] = []

    def done(self) -> None:
        self.finished.append("done")

    def err(self, exc: BaseException) -> None:
        self.finished.append(exc)


def test_answer_at_once__a_quick_request_with_no_body_is_answered_on_the_calling_thread():
    bridge = WsgiBridge(Recorder(), threads=1, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    try:
        proto = Proto()
        assert bridge.answer_at_once(scope("/quick"), proto)
        assert proto.answer == (200, LOOP_THREAD.encode())
        assert bridge.answered_at_once == 1
        for path, headers in [
            ("/other", {}),  # the app's word: it may wait
            ("/quick", {"content-length": "2"}),  # a body is read on the loop
            ("/quick", {"transfer-encoding": "chunked"}),
        ]:
            request = scope(path)
            request.headers = headers
            untouched = Proto()
            assert not bridge.answer_at_once(request, untouched)
            assert untouched.answer is None
        empty = scope("/quick")
        empty.headers = {"content-length": "0"}
        assert bridge.answer_at_once(empty, Proto())
        assert bridge.answered_at_once == 2
    finally:
        bridge.close()


def test_answer_at_once__not_while_a_view_thread_is_busy_nor_while_work_runs_beside():
    app = Recorder()
    bridge = WsgiBridge(app, threads=2, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    release, started = threading.Event(), threading.Event()
    try:

        async def slow_in_a_thread():
            slow = Proto()
            task = asyncio.ensure_future(bridge.__rsgi__(scope("/slow"), slow))
            await asyncio.sleep(0)  # /slow now holds a view thread, waiting for a /quick to run
            assert not bridge.answer_at_once(scope("/quick"), Proto())
            assert await asyncio.wait_for(bridge.__rsgi__(scope("/quick"), Proto()), 10) is None
            await asyncio.wait_for(task, 10)

        asyncio.run(slow_in_a_thread())
        bridge.run_beside(lambda: (started.set(), release.wait(5)), "test-beside")
        assert started.wait(5)
        assert not bridge.answer_at_once(scope("/quick"), Proto())
        release.set()
    finally:
        bridge.close()


def test_hand_over_loop__answers_at_once_or_schedules_as_before():
    from mockserver.serving.server import new_event_loop

    bridge = WsgiBridge(Recorder(), threads=1, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    loop = new_event_loop(bridge)
    ran: list[str] = []

    async def never_started():
        ran.append("coroutine")

    try:
        # A quick request: answered during the call, its coroutine closed unstarted, nothing scheduled.
        watcher = CallbackWatcherHTTP("/quick")
        coroutine = never_started()
        handle = loop.call_soon_threadsafe(lambda *args: ran.append("scheduled"), coroutine, watcher)
        assert handle.cancelled()
        assert watcher.proto.answer[0] == 200 and watcher.finished == ["done"]
        assert coroutine.cr_frame is None  # closed: no "never awaited" warning either
        # Anything else goes to the loop as before: a request that may wait, or another callback.
        other = CallbackWatcherHTTP("/other")
        loop.call_soon_threadsafe(lambda coro, w: (coro.close(), ran.append("request")), never_started(), other)
        loop.call_soon_threadsafe(ran.append, "callback")
        loop.call_soon_threadsafe(loop.stop)
        loop.run_forever()
        assert ran == ["request", "callback"]
        assert other.proto.answer is None and other.finished == []
    finally:
        loop.close()
        bridge.close()


def test_hand_over_loop__an_error_in_the_bridge_goes_to_granian_and_the_loop_lives_on():
    from mockserver.serving.server import new_event_loop

    bridge = WsgiBridge(broken, threads=1, max_body=1024, never_waits=lambda path, headers: True)
    loop = new_event_loop(bridge)

    async def never_started():
        pass

    try:
        watcher = CallbackWatcherHTTP("/quick")
        coroutine = never_started()
        assert loop.call_soon_threadsafe(lambda *args: None, coroutine, watcher).cancelled()
        assert len(watcher.finished) == 1 and isinstance(watcher.finished[0], RuntimeError)
        assert coroutine.cr_frame is None
        loop.call_soon_threadsafe(loop.stop)
        loop.run_forever()
    finally:
        loop.close()
        bridge.close()


def test_server__quick_requests_are_answered_at_once_and_the_rest_as_before():
    import http.client
    import json

    from helpers import COLLECT_KEY, basic

    from mockserver.testing.server import start_server

    server = start_server({"store": "memory", "seed": 42})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        before = server.bridge.answered_at_once
        conn.request("GET", "/__mock/health")
        assert conn.getresponse().read() and before < server.bridge.answered_at_once
        at_once = server.bridge.answered_at_once
        conn.request("POST", "/__mock/reset")
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["seed"] == 42
        assert server.bridge.answered_at_once == at_once + 1
        # A body is read with no coroutine waiting, and the call answered where the read settles.
        conn.request("POST", "/v1/requests", body=COLLECT_SEND, headers={**basic(COLLECT_KEY), **JSON})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert json.loads(response.read())
        assert server.bridge.answered_at_once == at_once + 2
        # A call that may wait (a Prefer delay, a verification) takes a view thread, with or without a body.
        conn.request("GET", "/__mock/health", headers={"Prefer": "delay=1"})
        assert conn.getresponse().read()
        conn.request("POST", "/__mock/verify", body=json.dumps({"path": "/v1/requests"}), headers=JSON)
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["count"] == 1
        # A chunked body is read on the loop, as before.
        conn.request("PUT", "/__mock/rate-limits", body=iter([b'{"collect":', b'{"enabled":false}}']), headers=JSON)
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
        assert server.bridge.answered_at_once == at_once + 2
    finally:
        conn.close()
        server.stop()


# -- bodies read with no coroutine waiting ----------------------------------------------------------


class Read:
    """Stands for granian's read of a body: a future its thread settles, telling its done callback."""

    def __init__(self) -> None:
        self.callback = None
        self.state = "pending"
        self.body = b""

    def add_done_callback(self, callback, context=None) -> None:
        self.callback = callback

    def settle(self, body: bytes) -> None:
        """The body is in: granian's thread calls the callback (through HandOverLoop, at once)."""
        self.state, self.body = "done", body
        self.callback(self)

    def fail(self) -> None:
        self.state = "failed"
        self.callback(self)

    def cancel(self) -> bool:
        if self.state != "pending":
            return False
        self.state = "cancelled"
        self.callback(self)  # granian calls it on the loop (the canceller's thread)
        return True

    def cancelled(self) -> bool:
        return self.state == "cancelled"

    def result(self) -> bytes:
        if self.state == "failed":
            raise RuntimeError("the client went away")  # granian's RSGIProtocolError
        return self.body


class BodyProto(Proto):
    """An RSGI protocol whose body is read through a Read."""

    def __init__(self) -> None:
        self.reads: list[Read] = []

    def __call__(self):
        self.reads.append(Read())
        return self.reads[-1]


class Echo(Recorder):
    """A WSGI app answering with the thread it ran on and the body it read."""

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read()
        name = super().__call__(environ, lambda *args: None)[0]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [name + b" " + body]


def body_watcher(path: str, headers: dict[str, str]) -> CallbackWatcherHTTP:
    watcher = CallbackWatcherHTTP(path, headers)
    watcher.proto = BodyProto()
    return watcher


def attached(bridge: WsgiBridge) -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    bridge.attach(loop)
    return loop


def test_read_at_once__a_quick_request_is_answered_where_its_body_settles():
    bridge = WsgiBridge(Echo(), threads=1, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    loop = attached(bridge)
    resumed: list[object] = []
    try:
        watcher = body_watcher("/quick", {"content-length": "5"})
        assert bridge.read_at_once(watcher, resumed.append)
        assert watcher.proto.answer is None and watcher.finished == []  # the body is not in yet
        watcher.proto.reads[0].settle(b"hello")
        assert watcher.proto.answer == (200, LOOP_THREAD.encode() + b" hello")
        assert watcher.finished == ["done"] and resumed == []
        assert bridge.answered_at_once == 1
    finally:
        loop.close()
        bridge.close()


def test_read_at_once__left_to_the_loop_unless_a_content_length_within_the_limit():
    bridge = WsgiBridge(Echo(), threads=1, max_body=1024, never_waits=lambda path, headers: True)
    try:
        watcher = body_watcher("/quick", {"content-length": "5"})
        assert not bridge.read_at_once(watcher, print)  # no loop attached: nobody would watch its deadline
        loop = attached(bridge)
        for headers in [
            {"transfer-encoding": "chunked"},
            {"content-length": "1025"},  # the app answers 413 from the Content-Length, on the loop
            {"content-length": "12x"},
            {},
        ]:
            watcher = body_watcher("/quick", headers)
            assert not bridge.read_at_once(watcher, print)
            assert watcher.proto.reads == [] and watcher.finished == []
        loop.close()
    finally:
        bridge.close()


def test_read_at_once__one_that_may_wait_or_meets_a_busy_bridge_is_resumed_on_the_loop_with_its_body():
    app = Echo()
    bridge = WsgiBridge(app, threads=2, max_body=1024, never_waits=lambda path, headers: path == "/quick")
    loop = attached(bridge)
    resumed: list[object] = []
    try:
        other = body_watcher("/other", {"content-length": "2"})
        assert bridge.read_at_once(other, resumed.append)
        other.proto.reads[0].settle(b"hi")
        assert other.proto.answer is None and other.finished == [] and len(resumed) == 1
        app.quick_ran.set()
        loop.run_until_complete(resumed.pop())  # as granian runs a request's coroutine
        assert other.proto.answer[1].startswith(b"mockserver-view-") and other.proto.answer[1].endswith(b" hi")
        assert other.finished == ["done"]
        release, started = threading.Event(), threading.Event()
        bridge.run_beside(lambda: (started.set(), release.wait(5)), "test-beside")  # work beside: busy
        assert started.wait(5)
        quick = body_watcher("/quick", {"content-length": "2"})
        assert bridge.read_at_once(quick, resumed.append)
        quick.proto.reads[0].settle(b"ok")
        assert quick.proto.answer is None and len(resumed) == 1
        loop.run_until_complete(resumed.pop())
        release.set()
        assert quick.proto.answer[1].startswith(b"mockserver-view-") and quick.finished == ["done"]
        assert bridge.answered_at_once == 0
    finally:
        loop.close()
        bridge.close()


def test_read_at_once__a_body_past_its_deadline_gets_408_and_one_whose_client_left_no_answer():
    bridge = WsgiBridge(Echo(), threads=1, max_body=1024, body_timeout=60, never_waits=lambda path, headers: True)
    loop = attached(bridge)
    try:
        stalled = body_watcher("/quick", {"content-length": "5"})
        assert bridge.read_at_once(stalled, print)
        bridge.watch_deadlines(loop)  # not yet past its deadline: left alone
        assert stalled.proto.reads[0].state == "pending"
        bridge.body_timeout = 0  # every body read from now on is past its deadline at once
        late = body_watcher("/quick", {"content-length": "5"})
        assert bridge.read_at_once(late, print)
        bridge.watch_deadlines(loop)  # deadlines are kept in the order reads began: the first stops the look
        assert late.proto.reads[0].state == "pending"
        stalled.proto.reads[0].settle(b"hello")
        bridge.watch_deadlines(loop)
        assert late.proto.answer[0] == 408 and late.finished == ["done"]
        assert stalled.proto.answer[0] == 200
        gone = body_watcher("/quick", {"content-length": "5"})
        assert bridge.read_at_once(gone, print)
        gone.proto.reads[0].fail()
        assert gone.proto.answer is None and gone.finished == ["done"]  # granian answers nobody
        bridge.watch_deadlines(loop)  # a settled read is no longer watched
        assert gone.proto.reads[0].state == "failed"
    finally:
        loop.close()
        bridge.close()


def test_read_at_once__an_error_of_the_app_goes_to_granian():
    bridge = WsgiBridge(broken, threads=1, max_body=1024, never_waits=lambda path, headers: True)
    loop = attached(bridge)
    try:
        watcher = body_watcher("/quick", {"content-length": "2"})
        assert bridge.read_at_once(watcher, print)
        watcher.proto.reads[0].settle(b"{}")
        assert len(watcher.finished) == 1 and isinstance(watcher.finished[0], RuntimeError)
    finally:
        loop.close()
        bridge.close()


def test_hand_over_loop__a_body_read_at_once_is_settled_on_the_calling_thread():
    from mockserver.serving.server import new_event_loop

    bridge = WsgiBridge(Echo(), threads=1, max_body=1024, never_waits=lambda path, headers: True)
    loop = new_event_loop(bridge)
    ran: list[str] = []

    async def never_started():
        ran.append("coroutine")

    try:
        watcher = body_watcher("/quick", {"content-length": "5"})
        coroutine = never_started()
        assert loop.call_soon_threadsafe(lambda *args: ran.append("scheduled"), coroutine, watcher).cancelled()
        assert coroutine.cr_frame is None and watcher.finished == []
        read = watcher.proto.reads[0]
        read.state, read.body = "done", b"hello"
        # granian's thread tells the read's done callback through the loop: it runs during the call.
        assert loop.call_soon_threadsafe(read.callback, read).cancelled()
        assert watcher.proto.answer == (200, LOOP_THREAD.encode() + b" hello") and watcher.finished == ["done"]
        loop.call_soon_threadsafe(loop.stop)
        loop.run_forever()  # the deadlines' watch runs, and nothing else
        assert ran == []
    finally:
        loop.close()
        bridge.close()


@pytest.mark.slow
def test_server__a_stalled_body_gets_408_after_its_deadline_and_others_are_answered_meanwhile():
    import socket

    from mockserver.testing.server import start_server

    server = start_server({"store": "memory", "seed": 42})
    server.bridge.body_timeout = 0.2  # the watch looks again within its next second
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as stalled:
            stalled.sendall(
                b"PUT /__mock/rate-limits HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"collect":'
            )
            assert answer_status(server.port, "/__mock/health") == 200
            head = stalled.recv(4096)
        assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower()
        assert answer_status(server.port, "/__mock/health") == 200
    finally:
        server.stop()


def test_server__a_body_read_at_once_leaves_nothing_behind_once_answered():
    import gc
    import http.client

    from helpers import COLLECT_KEY, basic

    from mockserver.testing.server import start_server

    server = start_server({"store": "memory", "seed": 42})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        before = server.bridge.answered_at_once
        for _ in range(50):
            conn.request("POST", "/v1/requests", body=COLLECT_SEND, headers={**basic(COLLECT_KEY), **JSON})
            response = conn.getresponse()
            assert response.status == 200, response.read()
            response.read()
        assert server.bridge.answered_at_once == before + 50
        assert server.bridge.reads_in_flight == 0
        # granian's read holds its callback without telling the cyclic collector: an arrival that
        # kept its read would keep each request's scope and protocol for as long as the server runs.
        gc.collect()
        alive = [type(o).__name__ for o in gc.get_objects()]
        assert alive.count("BodyArrival") == 0
        assert alive.count("RSGIHTTPScope") <= 2  # at most the requests in flight
    finally:
        conn.close()
        server.stop()
