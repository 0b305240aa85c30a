"""One delivery attempt on the wire: resolve, check every address, connect to a checked one, POST, read.

No redirect is followed, no proxy variable read and no certificate verified (a local receiver's
is self-signed; mock-defined). The whole attempt, from the name's lookup to the last byte of the
answer, has one deadline; the answer is read up to 64 KiB. Written on sockets rather than with
`requests` or `http.client`: the connection must go to the address that was checked (not to
whatever a second resolution gives), and a receiver that drips its answer a byte at a time must
not outlast the deadline, which per-read time-outs cannot promise.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..egress import EgressPolicy, Refused, parse_url

ANSWER_BYTES = 64 * 1024
HEAD_BYTES = 16 * 1024


@dataclass
class Outcome:
    """What an attempt got: the receiver's answer (status None without one) or why there was none."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # timeout, refused, dns, tls, redirect, blocked (None: a 2xx, or another status)
    error: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


class Connection:
    """The socket of one attempt in flight, which a reset or a shutdown may close from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.closed = False

    def hold(self, sock: socket.socket) -> None:
        with self._lock:
            if self.closed:
                sock.close()
                raise OSError("the attempt was dropped")
            self._sock = sock

    def close(self) -> None:
        with self._lock:
            self.closed = True
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):  # not connected yet, or closed by the other side
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` resolves to (an IP literal: itself); raise OSError when it resolves to none."""
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    found = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise OSError(f"{host} resolves to no address")
    return found


# At most this many name lookups at once. The system's resolver has no time-out of its own, so a
# lookup runs on a thread of its own while the attempt waits for it no longer than its deadline;
# a lookup that hangs keeps its slot until the resolver gives up, and past the bound an attempt
# waits for a free slot within its deadline, so hanging lookups cannot pile up threads.
MAX_LOOKUPS = 8
_lookups = threading.BoundedSemaphore(MAX_LOOKUPS)


def resolve_by(host: str, port: int, deadline: float) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """`resolve` within the attempt's deadline; raise TimeoutError when it is up, OSError when nothing resolves."""
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    if not _lookups.acquire(timeout=_remaining(deadline)):
        raise TimeoutError(f"no name lookup could start in time ({MAX_LOOKUPS} are running)")
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            found.extend(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            failed.append(exc)
        finally:
            _lookups.release()
            done.set()

    threading.Thread(target=lookup, name="mockserver-resolve", daemon=True).start()
    if not done.wait(_remaining(deadline)):
        raise TimeoutError(f"resolving {host} took longer than the attempt's time")
    if failed:
        raise failed[0]
    return found


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: EgressPolicy,
    timeout: float,
    connection: Connection | None = None,
) -> Outcome:
    """POST `body` to `url` with `headers`, as the egress policy allows; never raise."""
    deadline = time.monotonic() + timeout
    try:
        target = parse_url(url)
    except ValueError as exc:
        return Outcome(error="blocked", detail=str(exc))
    try:
        addresses = resolve_by(target.host, target.port, deadline)
    except TimeoutError as exc:
        return Outcome(error="timeout", detail=str(exc))
    except (OSError, UnicodeError) as exc:
        return Outcome(error="dns", detail=str(exc))
    listed = policy.allows_name(target.host)
    try:
        for address in addresses:
            policy.check_address(address, target.port, target.host, listed_name=listed)
    except Refused as exc:
        return Outcome(error="blocked", detail=str(exc))
    connection = connection or Connection()
    try:
        literal = target.address is not None
        return _exchange(
            target.scheme, target.host, target.port, addresses[0], literal, url, body, headers, deadline, connection
        )
    except TimeoutError as exc:
        return Outcome(error="timeout", detail=str(exc) or "no answer in time")
    except ssl.SSLError as exc:
        return Outcome(error="tls", detail=str(exc))
    except ConnectionRefusedError as exc:
        return Outcome(error="refused", detail=str(exc))
    except (OSError, ValueError) as exc:
        if connection.closed:
            return Outcome(error="refused", detail="dropped")
        return Outcome(error="refused", detail=str(exc))
    finally:
        connection.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the attempt's time is up")
    return left


def _exchange(
    scheme: str,
    host: str,
    port: int,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    literal: bool,
    url: str,
    body: bytes,
    headers: dict[str, str],
    deadline: float,
    connection: Connection,
) -> Outcome:
    sock = socket.create_connection((str(address), port), timeout=_remaining(deadline))
    connection.hold(sock)
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock.settimeout(_remaining(deadline))
        sock = context.wrap_socket(sock, server_hostname=None if literal else host)
        connection.hold(sock)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if scheme == "https" else 80
    shown_host = f"[{host}]" if ":" in host else host
    host_header = shown_host if port == default else f"{shown_host}:{port}"
    lines = [f"POST {path} HTTP/1.1", f"Host: {host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    request = "\r\n".join(lines).encode("latin-1") + body
    sock.settimeout(_remaining(deadline))
    sock.sendall(request)
    received = bytearray()
    limit = HEAD_BYTES + ANSWER_BYTES
    while len(received) < limit:
        sock.settimeout(_remaining(deadline))
        chunk = sock.recv(min(65536, limit - len(received)))
        if not chunk:
            break
        received += chunk
        head_end = received.find(b"\r\n\r\n")
        if head_end >= 0 and _complete(received, head_end):
            break
    return _parse(bytes(received))


def _complete(received: bytearray, head_end: int) -> bool:
    """Tell whether the answer read so far is whole (by Content-Length, or a chunked body's last chunk)."""
    head = bytes(received[:head_end]).decode("latin-1").lower()
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length" and value.strip().isdigit():
            return len(received) - head_end - 4 >= int(value.strip())
        if name.strip() == "transfer-encoding" and "chunked" in value:
            return received.endswith(b"0\r\n\r\n")
    return False


def _parse(raw: bytes) -> Outcome:
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        if not raw:
            return Outcome(error="refused", detail="the receiver closed the connection without answering")
        return Outcome(error="refused", detail="the answer's head did not end")
    lines = raw[:head_end].decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        return Outcome(error="refused", detail=f"not an HTTP answer: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    body = raw[head_end + 4 :]
    lowered = {name.lower(): value for name, value in headers.items()}
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    elif lowered.get("content-length", "").isdigit():
        body = body[: int(lowered["content-length"])]
    status = int(status_line[1])
    outcome = Outcome(status=status, headers=headers, body=body[:ANSWER_BYTES])
    if 300 <= status < 400:
        outcome.error = "redirect"
    return outcome


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    position = 0
    while position < len(data):
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            break
        try:
            size = int(data[position:line_end].split(b";", 1)[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += data[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2
    return bytes(out)
