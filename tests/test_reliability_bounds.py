"""Bounded resources: the journal, tenants and bodies have limits; slow or stalled clients block nobody.

The network checks run against both servers a user meets: werkzeug's (ServerThread, the pytest
plugin) and granian's (`mockserver serve`, the CLI and the Docker image), the latter started with
few view threads so that stalling more clients than it has threads proves they hold none.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer, insigner_key, start_serve

from mockserver.app import create_app
from mockserver.journal.model import BODY_CAP
from mockserver.serving.bridge import WsgiBridge
from mockserver.tenants import derived_tenant_id
from mockserver.testing.server import ServerThread

SERVE_THREADS = 4
STALLED = 3 * SERVE_THREADS
COLLECT_BODY = json.dumps({"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}).encode()
JSON = {"Content-Type": "application/json"}
JSON_LOWER = {"content-type": "application/json"}
BASIC_LOWER = {"authorization": "Basic " + base64.b64encode(f":{COLLECT_KEY}".encode()).decode()}
MIB = 1024 * 1024


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))


@pytest.fixture(scope="module", params=["werkzeug", "granian"])
def port(request) -> Iterator[int]:
    """A server on a free port: werkzeug's ServerThread, or `mockserver serve` (granian) with 4 view threads."""
    if request.param == "werkzeug":
        with ServerThread(create_app({"store": "memory"})) as server:
            yield server.port
    else:
        served = start_serve("--threads", str(SERVE_THREADS), "--log-level", "warning")
        yield served.port
        served.stop()


def answers_within(port: int, seconds: float = 5.0) -> int:
    """Send one real Collect request and return its status; raise if no answer within `seconds`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
    try:
        conn.request("POST", "/v1/requests", body=COLLECT_BODY, headers={**basic(COLLECT_KEY), **JSON})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def open_sockets(
    stack: ExitStack, port: int, count: int, first_bytes: bytes = b"", receive_buffer: int | None = None
) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


# -- slow and stalled clients --------------------------------------------------------------------------
HALF_HEADERS = b"POST /v1/requests HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic "
HALF_BODY = (
    b"POST /v1/requests HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Authorization: "
    + basic(COLLECT_KEY)["Authorization"].encode()
    + b"\r\nContent-Length: 1000\r\n\r\n"
    + COLLECT_BODY[:20]
)


# A snapshot may be 64 MiB (it has a bound of its own); one whose upload stalls holds no thread either.
HALF_SNAPSHOT = (
    b"PUT /__mock/snapshot HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: 67108864\r\n\r\n{" + b" " * MIB
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "first_bytes",
    [
        pytest.param(HALF_HEADERS, id="half-the-headers"),
        pytest.param(HALF_BODY, id="half-the-body"),
        pytest.param(HALF_SNAPSHOT, id="the-first-mib-of-a-64-mib-snapshot"),
        pytest.param(b"", id="nothing"),
    ],
)
def test_stalled_clients__others_are_still_answered(port, first_bytes):
    with ExitStack() as stack:
        open_sockets(stack, port, STALLED, first_bytes)
        assert answers_within(port) == 200
        assert answers_within(port) == 200
    assert answers_within(port) == 200


@pytest.mark.slow
def test_clients_that_never_read_their_answers__others_are_still_answered(port):
    pipelined = b"GET /__mock/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n" * 20  # far more than the buffers hold
    with ExitStack() as stack:
        open_sockets(stack, port, STALLED, pipelined, receive_buffer=4096)
        assert answers_within(port) == 200
    assert answers_within(port) == 200


@pytest.mark.slow
def test_200_idle_connections__a_request_is_still_answered(port):
    with ExitStack() as stack:
        sockets = open_sockets(stack, port, 200)
        assert answers_within(port) == 200
        # The idle ones are still usable: the server dropped none of them to cope.
        sockets[0].sendall(b"GET /__mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert sockets[0].recv(12) == b"HTTP/1.1 200"


def test_body_that_never_arrives__408_once_the_deadline_passes():
    class Stalled:
        """An RSGI protocol whose body never comes (what a stalled client looks like to the bridge)."""

        answer = None

        def __aiter__(self):
            return self

        async def __anext__(self):
            await asyncio.Event().wait()

        async def __call__(self):
            await asyncio.Event().wait()

        def response_bytes(self, status, headers, body):
            self.answer = (status, dict(headers), body)

    bridge = WsgiBridge(create_app({"store": "memory"}), threads=1, max_body=MIB, body_timeout=0.05)
    try:
        for length in ({"content-length": "100"}, {"transfer-encoding": "chunked"}):
            scope = SimpleNamespace(proto="http", headers=length, path="/v1/requests")
            proto = Stalled()
            asyncio.run(bridge.__rsgi__(scope, proto))
            assert proto.answer[0] == 408 and proto.answer[1]["Connection"] == "close"
    finally:
        bridge.close()


class Arrived:
    """An RSGI protocol whose body is all there (as granian hands one over), recording the answer."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.answer = None

    def __aiter__(self):
        async def chunks():
            yield self.body

        return chunks()

    async def __call__(self):
        return self.body

    def response_bytes(self, status, headers, body):
        self.answer = (status, headers, body)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"content-length": str(2 * MIB), **JSON_LOWER, **BASIC_LOWER}, 413, id="413-content-length"),
        pytest.param({"transfer-encoding": "chunked", **JSON_LOWER, **BASIC_LOWER}, 413, id="413-chunked"),
        pytest.param({"content-length": str(2 * MIB), **JSON_LOWER}, 401, id="401-before-a-large-body"),
    ],
)
def test_answer_after_which_the_body_stays_unread__says_connection_close(headers, status):
    """The server closes such a connection: without the header a keep-alive client's next call fails."""
    bridge = WsgiBridge(create_app({"store": "memory"}), threads=1, max_body=MIB)
    try:
        scope = SimpleNamespace(
            proto="http",
            headers=headers,
            path="/v1/requests",
            method="POST",
            query_string="",
            server="127.0.0.1:8080",
            client="127.0.0.1:5000",
            http_version="1.1",
            scheme="http",
        )
        proto = Arrived(b"{" + b" " * (MIB + 10) + b"}")
        asyncio.run(bridge.__rsgi__(scope, proto))
        answered, sent, _ = proto.answer
        assert answered == status
        assert [value for name, value in sent if name.lower() == "connection"] == ["close"], sent
        # A body within the bound is read whole: the connection stays open for the next call.
        small = SimpleNamespace(**{**vars(scope), "headers": {**headers, "content-length": "2"}})
        small.headers.pop("transfer-encoding", None)
        proto = Arrived(b"{}")
        asyncio.run(bridge.__rsgi__(small, proto))
        assert not [value for name, value in proto.answer[1] if name.lower() == "connection"]
    finally:
        bridge.close()


# -- bodies ----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "path, headers, mimetype",
    [
        pytest.param("/v1/requests", basic(COLLECT_KEY), "application/json", id="collect"),
        pytest.param("/api/v1/bulk-sends", bearer(INSIGNER_KEY), "application/problem+json", id="insigner"),
        pytest.param("/__mock/faults", {}, "application/json", id="control"),
    ],
)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_over_1_mib__413_in_the_envelope_on_the_wire(port, path, headers, mimetype, framing):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    for name, value in {**headers, **JSON}.items():
        conn.putheader(name, value)
    body = b"{" + b" " * MIB + b"}"
    if framing == "chunked":
        conn.putheader("Transfer-Encoding", "chunked")
    else:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    try:
        if framing == "chunked":
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        else:
            conn.send(body)
    except OSError:
        pass  # the server may answer and close before it has read everything
    response = conn.getresponse()
    assert response.status == 413
    assert response.getheader("Content-Type").startswith(mimetype)
    json.loads(response.read())
    conn.close()
    assert answers_within(port) == 200


# -- the journal and the tenants -------------------------------------------------------------------
def test_journal__keeps_journal_size_entries_each_with_a_capped_body():
    client = create_app({"store": "memory", "journal_size": 10}).test_client()
    for n in range(25):
        client.post(
            "/v1/requests", data=b'{"pad": "' + b"x" * (n * 10_000) + b'"}', headers={**basic(COLLECT_KEY), **JSON}
        )
    journal = client.get("/__mock/requests").get_json()
    assert journal["total"] == 10 and [e["id"] for e in journal["requests"]] == list(range(16, 26))
    assert all(len(json.dumps(entry["body"])) <= BODY_CAP + 100 for entry in journal["requests"])


def test_journal__entries_stay_small_whatever_the_request_head():
    with ServerThread(create_app({"store": "memory"})) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        query = "&".join(f"q{n}={'v' * 2000}" for n in range(30))  # a 60 KB request line
        conn.putrequest("POST", f"/v1/requests?{query}")
        for n in range(95):  # granian reads a head of up to 408 KiB (HTTP1Settings.max_buffer_size)
            conn.putheader(f"X-Pad-{n}", "p" * 3_000)
        conn.putheader("Authorization", basic(COLLECT_KEY)["Authorization"])
        conn.putheader("Content-Length", str(len(COLLECT_BODY)))
        conn.endheaders(COLLECT_BODY)
        assert conn.getresponse().status == 200  # a request with a 345 KB head is served...
        conn.close()
        journal = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        journal.request("GET", "/__mock/requests")
        entry = json.loads(journal.getresponse().read())["requests"][0]
        journal.close()
    assert len(json.dumps(entry)) < 120_000  # ...and journaled in 100 KB at most
    assert entry["headers"]["X-Pad-0"].endswith("... [3000 characters]") and len(entry["headers"]) == 50


def test_tenants__least_recently_used_go_first():
    client = create_app({"store": "memory", "max_tenants": 4}).test_client()  # the fixture one and 3

    def use(key: str) -> None:
        assert client.get("/api/v1/bulk-sends?limit=1", headers=bearer(key)).status_code == 200

    keys = [insigner_key(f"lru{n}") for n in range(5)]
    for key in keys[:3]:
        use(key)
    use(keys[0])  # the oldest, used again: now the most recent
    use(keys[3])
    use(keys[4])
    tenants = set(client.get("/__mock/state").get_json()["apis"]["insigner"])
    kept = {derived_tenant_id("insigner", key) for key in (keys[0], keys[3], keys[4])}
    fixture = tenants - {derived_tenant_id("insigner", key) for key in keys}
    assert tenants == kept | fixture and len(fixture) == 1  # the fixture organization is never dropped


@pytest.mark.slow
def test_tenants__300_keys_per_api_stay_bounded_in_count_and_memory():
    served = start_serve("--log-level", "warning", "--journal-size", "50")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)

        def send(method: str, path: str, headers: dict, body: bytes | None = None) -> int:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status

        send("GET", "/__mock/health", {})
        before = rss_mib(served.process.pid)
        for n in range(300):
            collect = {"Authorization": "Basic " + base64.b64encode(f":bounds-{n}".encode()).decode(), **JSON}
            assert send("POST", "/v1/requests", collect, COLLECT_BODY) == 200
            assert send("GET", "/api/v1/bulk-sends?limit=1", bearer(insigner_key(f"bounds{n}"))) == 200
        grown = rss_mib(served.process.pid) - before
        conn.request("GET", "/__mock/state")
        counts = {api: len(tenants) for api, tenants in json.loads(conn.getresponse().read())["apis"].items()}
        conn.request("GET", "/__mock/requests")
        journal = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        served.stop()
    assert counts == {"collect": 200, "insigner": 200}  # --max-tenants' default, per API
    assert grown < 150, f"{grown} MiB for 600 tenants"
    assert journal["total"] == 50 and len(journal["requests"]) == 50  # --journal-size
