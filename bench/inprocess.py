"""The calls' own cost, in-process: the app called as a WSGI application, no server, no socket.

Usage (from the repository root)::

    python bench/inprocess.py [--calls health,get,collect,create,reset] [-n 3000] [--profile CALL]

Each call is made ``n`` times in a row, 5 times over, after 500 unmeasured ones; the figure is
the best of the 5 means, in microseconds. The creates start each run from a reset, with rate
limits off, as the wrk runs of ``make bench`` do, and the access log is batched as ``serve``
has it. Over HTTP, a call costs this plus what granian, the bridge and the client cost (see
docs/explanation/speed.md). ``--profile CALL`` runs CALL under cProfile once more and prints
its 30 dearest functions; for where the time goes without cProfile's own cost, run this
script under ``py-spy record -r 2000``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from typing import Any

from benchlib import COLLECT_AUTH, COLLECT_EXAMPLE_BODY, INSIGNER_AUTH, INSIGNER_EXAMPLE_BODY, RATE_LIMITS_OFF

from mockserver.app import create_app
from mockserver.serving import logs

CALLS: dict[str, tuple[str, str, str | None, bytes]] = {
    "health": ("GET", "/__mock/health", None, b""),
    "get": ("GET", "/api/v1/bulk-sends/bs_abc123", INSIGNER_AUTH, b""),
    "collect": ("POST", "/v1/requests", COLLECT_AUTH, json.dumps(COLLECT_EXAMPLE_BODY).encode()),
    "create": ("POST", "/api/v1/bulk-sends", INSIGNER_AUTH, json.dumps(INSIGNER_EXAMPLE_BODY).encode()),
    "reset": ("POST", "/__mock/reset", None, b""),
}


def environ(method: str, path: str, auth: str | None, body: bytes) -> dict[str, Any]:
    """A WSGI environ as the bridge builds one (PEP 3333), for a loopback client."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8080",
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    if auth:
        env["HTTP_AUTHORIZATION"] = auth
    return env


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
