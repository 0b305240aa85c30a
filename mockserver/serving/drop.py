"""Close one TCP connection of this process with no byte of an answer (the drop fault under granian).

granian's public API has no way to end a connection without answering: a handler that raises,
returns without answering, or is cancelled gets a 500 from granian, and a status outside
100-999 makes its runtime panic (each tried on granian 2.8.9). The socket is granian's, so the
bridge, which knows its request's exact peer (`scope.client`) and local address
(`scope.server`), finds that one socket among this process's descriptors and shuts it down.
Only an exact match of both addresses counts: there is no guessing between connections.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
from collections.abc import Iterator
from ipaddress import ip_address

# Where /proc/self/fd is missing, file descriptors are probed up to this number at most.
MAX_PROBED_FDS = 65_536


def close_peer(local: str, peer: str) -> bool:
    """Shut down the TCP connection from `peer` to `local` (both `host:port`); return False if there is none."""
    try:
        wanted_local = _address(local)
        wanted_peer = _address(peer)
    except ValueError:
        return False
    for fd in _open_fds():
        with _socket_of(fd) as sock:
            if sock is None:
                continue
            try:
                found_peer, found_local = sock.getpeername(), sock.getsockname()
            except OSError:
                continue
            if (_normal(found_peer[0]), found_peer[1]) != wanted_peer:
                continue
            if found_local[1] != wanted_local[1]:
                continue
            abort(sock)
            return True
    return False


def abort(sock: socket.socket) -> None:
    """Shut the socket down so that its peer gets a reset, not an orderly close with an answer pending."""
    # Linger 0: when the server closes its socket the peer gets a reset, not a lingering close.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return _normal(host.strip("[]")), int(port)


def _normal(text: str) -> str:
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
