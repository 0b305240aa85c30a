"""The calls' own cost, in-process: the app called as a WSGI application, no server, no socket.

Usage (from the repository root)::

    python bench/inprocess.py [--calls health,get,collect,create,reset] [-n 3000] [--profile CALL]

Each call is made ``n`` times in a row, 5 times over, after 500 unmeasured ones; the figure is
the best of the 5 means, in microseconds. Each request's environ is the one the bridge builds
(`serving/bridge.py`). The creates start each run from a reset, with rate
limits off, as the wrk runs of ``make bench`` do, and the access log is batched as ``serve``
has it. Over HTTP, a call costs this plus what granian, the bridge and the client cost (see
docs/explanation/speed.md). ``--profile CALL`` runs CALL under cProfile once more and prints
its 30 dearest functions; for where the time goes without cProfile's own cost, run this
script under ``py-spy record -r 2000``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from types import SimpleNamespace
from typing import Any

from benchlib import COLLECT_AUTH, COLLECT_EXAMPLE_BODY, INSIGNER_AUTH, INSIGNER_EXAMPLE_BODY, RATE_LIMITS_OFF

from mockserver.app import create_app
from mockserver.serving import logs
from mockserver.serving.bridge import wsgi_environ

CALLS: dict[str, tuple[str, str, str | None, bytes]] = {
    "health": ("GET", "/__mock/health", None, b""),
    "get": ("GET", "/api/v1/bulk-sends/bs_abc123", INSIGNER_AUTH, b""),
    "collect": ("POST", "/v1/requests", COLLECT_AUTH, json.dumps(COLLECT_EXAMPLE_BODY).encode()),
    "create": ("POST", "/api/v1/bulk-sends", INSIGNER_AUTH, json.dumps(INSIGNER_EXAMPLE_BODY).encode()),
    "reset": ("POST", "/__mock/reset", None, b""),
}


def environ(method: str, path: str, auth: str | None, body: bytes) -> dict[str, Any]:
    """The WSGI environ the bridge builds for this request from a loopback client (its own code)."""
    headers = {"host": "127.0.0.1:8080"}
    if body:
        headers |= {"content-type": "application/json", "content-length": str(len(body))}
    if auth:
        headers["authorization"] = auth
    scope = SimpleNamespace(
        method=method,
        path=path,
        query_string="",
        server="127.0.0.1:8080",
        client="127.0.0.1:50000",
        http_version="1.1",
        scheme="http",
        headers=headers,
    )
    return wsgi_environ(scope, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", default=",".join(CALLS), help="which calls, comma-separated")
    ap.add_argument("-n", type=int, default=3000, help="calls per run (5 runs)")
    ap.add_argument("--profile", choices=sorted(CALLS), help="profile this call with cProfile")
    args = ap.parse_args(argv)
    logs.configure("info", open("/dev/null", "w"))  # noqa: SIM115 - lives as long as the process
    app = create_app({"store": "memory", "seed": 42})
    control = app.test_client()

    def prepare() -> None:
        control.post("/__mock/reset")
        control.put("/__mock/rate-limits", json=RATE_LIMITS_OFF)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    statuses: list[str] = []
    for name in args.calls.split(","):
        method, path, auth, body = CALLS[name]

        def one() -> None:
            answer = app(environ(method, path, auth, body), start_response)  # noqa: B023 - used in the loop
            b"".join(answer)
            answer.close()

        prepare()
        for _ in range(500):
            one()
        best = float("inf")
        for _ in range(5):
            prepare()
            statuses.clear()
            started = time.perf_counter()
            for _ in range(args.n):
                one()
            best = min(best, (time.perf_counter() - started) / args.n)
            if any(not s.startswith("2") for s in statuses):
                print(f"{name}: answered {sorted(set(statuses))}", file=sys.stderr)
                return 1
        print(f"{name:8} {best * 1e6:7.1f} us   {method} {path}")
        if args.profile == name:
            prepare()
            profile = cProfile.Profile()
            profile.runcall(lambda: [one() for _ in range(args.n)])
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
