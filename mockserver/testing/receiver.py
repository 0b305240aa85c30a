"""A webhook receiver for tests: it records what it got, checks inSigner's signatures, answers as told.

`WebhookReceiver()` listens on a free loopback port (or `host`/`port`) from a thread of this
process. `url` is where a webhook should point; `answer(500, 500, 200)` queues the statuses of the
next deliveries (then 200 again); `wait_for(n)` waits, in real time, until `n` deliveries came.
The pytest plugin's `mockserver_webhook_receiver` fixture is one of these.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE = "X-InSigner-Signature"
TIMESTAMP = "X-InSigner-Timestamp"
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    """One request the receiver got: its path, headers (names as sent) and body's bytes."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    # When it arrived (time.perf_counter(), of this process): what a bench measures delivery by.
    arrived: float = 0.0

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """Tell whether `X-InSigner-Signature` is the HMAC-SHA256 of the body keyed with `secret`, as inSigner signs."""
        sent = self.header(SIGNATURE)
        expected = "sha256=" + hmac.new(secret.encode("ascii"), self.body, hashlib.sha256).hexdigest()
        return sent is not None and hmac.compare_digest(sent, expected)


class WebhookReceiver:
    """An HTTP receiver of webhook deliveries on a thread: records, answers queued statuses, can hang."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/webhooks") -> None:
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._answers: deque[tuple[int, float]] = deque()
        self._released = threading.Event()
        self._arrived = 0
        # The signing secrets to check deliveries against (the pytest fixture asks the mock for them).
        self.secrets: Callable[[], list[str]] = list
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                arrived = time.perf_counter()
                status, hold = receiver._next_answer()
                receiver._arrive()
                if hold > 0:
                    receiver._released.wait(hold)
                receiver._record(Received(self.path, dict(self.headers.items()), body, status, arrived))
                payload = b'{"received":true}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up first (its time-out)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self.path = path
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Where a webhook should point: `http://<host>:<port><path>`."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}{self.path}"

    # -- what it answers ----------------------------------------------------------------------------
    def answer(self, *statuses: int, hang: float = 0.0) -> None:
        """Answer the next deliveries with `statuses` in turn (then 200); `hang`: hold each answer that long."""
        with self._lock:
            self._answers.extend((status, hang) for status in statuses)

    def release(self) -> None:
        """End every hang now (and those to come)."""
        self._released.set()

    def _next_answer(self) -> tuple[int, float]:
        with self._lock:
            return self._answers.popleft() if self._answers else (200, 0.0)

    def _arrive(self) -> None:
        with self._lock:
            self._arrived += 1
            self._lock.notify_all()

    def wait_arrived(self, count: int, timeout: float = 10.0) -> None:
        """Wait (real time) until `count` requests arrived, answered or still held by a hang."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._arrived < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self._arrived} requests arrived, not {count}, in {timeout} s")
                self._lock.wait(left)

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)
            self._lock.notify_all()

    # -- what it got -------------------------------------------------------------------------------------
    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait (real time) until `count` deliveries came; return them all, or raise AssertionError."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the receiver got {len(self._received)} deliveries, not {count}, in {timeout} s"
                    )
                self._lock.wait(left)
            return list(self._received)

    def signature_valid(self, received: Received) -> bool:
        """Tell whether a delivery is signed with one of the secrets (`secrets`), as inSigner signs."""
        return any(received.signature_valid(secret) for secret in self.secrets())

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._answers.clear()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
