"""Close the client's connection of the current request, whichever server runs the app."""
from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from ipaddress import ip_address
from typing import Any

# Where /proc/self/fd is missing, file descriptors are probed up to this number at most.
MAX_PROBED_FDS = 65_536
TCP_INFO_SIZE = 232


def drop_connection(environ: Mapping[str, Any], started: float) -> bool:
    """Close the connection of this request with no answer; return False if it cannot be found.

    werkzeug's server hands over the socket. Other servers (granian) own it elsewhere, so it is
    found among this process's file descriptors: the TCP socket on SERVER_PORT whose peer is
    REMOTE_ADDR:REMOTE_PORT. granian gives no REMOTE_PORT: then, of the sockets from REMOTE_ADDR,
    the one that received a request and has sent nothing since, closest to this request's
    arrival (`started`, a time.perf_counter() value), is taken.
    """
    direct = environ.get("werkzeug.socket")
    if isinstance(direct, socket.socket):
        _abort(direct)
        return True
    try:
        server_port = int(environ.get("SERVER_PORT") or 0)
        remote = _normal_address(str(environ.get("REMOTE_ADDR") or ""))
        remote_port = int(environ["REMOTE_PORT"]) if environ.get("REMOTE_PORT") else None
    except ValueError:
        return False
    age_ms = (time.perf_counter() - started) * 1000
    best: tuple[tuple[int, float], int, tuple[Any, ...]] | None = None
    for fd in _open_fds():
        with _socket_of(fd) as sock:
            if sock is None:
                continue
            try:
                peer, local = sock.getpeername(), sock.getsockname()
            except OSError:
                continue
            if local[1] != server_port or _normal_address(peer[0]) != remote:
                continue
            if remote_port is not None:
                if peer[1] == remote_port:
                    _abort(sock)
                    return True
                continue
            rank = _rank(sock, age_ms)
            if best is None or rank < best[0]:
                best = (rank, fd, peer)
    if best is None:
        return False
    _, fd, peer = best
    with _socket_of(fd) as sock:
        # The descriptor may have been closed and reused since the scan: check it is still that peer.
        with contextlib.suppress(OSError):
            if sock is not None and sock.getpeername() == peer:
                _abort(sock)
                return True
    return False


def _abort(sock: socket.socket) -> None:
    # Linger 0: when the server closes its socket the peer gets a reset, not a lingering close.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _normal_address(text: str) -> str:
    try:
        address = ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _open_fds() -> Iterator[int]:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        limit = MAX_PROBED_FDS if soft in (resource.RLIM_INFINITY, -1) else min(soft, MAX_PROBED_FDS)
        yield from range(3, limit)
        return
    for name in names:
        if name.isdigit():
            yield int(name)


@contextlib.contextmanager
def _socket_of(fd: int) -> Iterator[socket.socket | None]:
    """Yield a TCP socket object on a duplicate of `fd` (None if `fd` is no TCP socket)."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            yield None
            return
        copy = os.dup(fd)
    except OSError:
        yield None
        return
    try:
        sock = socket.socket(fileno=copy)
    except OSError:
        os.close(copy)
        yield None
        return
    with sock:
        yield sock if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM else None


def _rank(sock: socket.socket, age_ms: float) -> tuple[int, float]:
    """Order candidate connections: the likelier to wait for an answer first, then by when data came.

    Linux's struct tcp_info says how many milliseconds ago data last went out (offset 44) and
    came in (offset 52), how many bytes were ever sent (offset 200; before kernel 4.19: 120,
    acked) and how many segments with data came in and went out (offsets 152, 156). A
    connection that received data after it last sent any, or never sent any, waits for an
    answer; an idle keep-alive connection sent its answer last. Within one clock tick the
    times are equal: then more data segments in than out (one per message, as small HTTP/1.1
    messages go) says a request is waiting.
    """
    if not hasattr(socket, "TCP_INFO") or not sys.platform.startswith("linux"):
        return (0, 0.0)
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
        (last_sent,), (last_received,) = struct.unpack_from("I", info, 44), struct.unpack_from("I", info, 52)
        sent = struct.unpack_from("Q", info, 200 if len(info) >= 208 else 120)[0]
        segments_in, segments_out = struct.unpack_from("II", info, 152)
    except (OSError, struct.error):
        return (0, 0.0)
    if last_received < last_sent or sent == 0:
        likelihood = 0
    elif last_received == last_sent and segments_in > segments_out:
        likelihood = 1
    else:
        likelihood = 2
    return (likelihood, abs(last_received - age_ms))
