"""mockserver vs WireMock serving the vendors' examples as static stubs.

Usage (from the repository root)::

    python bench/peers.py [--rounds 3] [--duration 5] [--warmup 2]
                          [--server-cmd "mockserver serve --port 0 --seed 42"]
                          [--out bench/peers.json] [--servers mockserver,wiremock]

What it does, per round (rounds alternate the two servers and swap which one
goes first each round, so slow drift of a shared, noisy machine hits both):

* starts the server and measures startup: wall time from spawn to the first
  200 from its health endpoint, polled every 5 ms (mockserver: the URL is read
  from its ready line on stdout, then ``GET /__mock/health``; WireMock: a free
  port chosen up front, then ``GET /__admin/health``);
* for each of the three calls -- Collect ``POST /v1/requests`` with the vendor's
  example body, inSigner ``GET /api/v1/bulk-sends/bs_abc123`` and inSigner
  ``POST /api/v1/bulk-sends`` with the vendor's example body -- runs wrk with
  ``-t1 -c1`` and ``-t2 -c16`` (``--latency``; a generated Lua script sets
  method, body and headers, counts non-2xx answers in ``response()`` and prints
  the count in ``done()``). Each measured run is preceded by an unmeasured
  warm-up run of ``--warmup`` seconds (the JVM needs its JIT warm-up; the same
  warm-up is given to mockserver). For mockserver, every measurement starts from
  ``POST /__mock/reset`` followed by ``PUT /__mock/rate-limits`` with both APIs'
  limits off, so state created by one run does not slow the next;
* stops the server (SIGTERM);
* then times a whole CI job, as users run one, on a fresh process of each
  server: spawn -> first 200 from health -> 60 tests, each a reset
  (``POST /__mock/reset``; WireMock: ``POST /__admin/reset``), the rate limits
  off (``PUT /__mock/rate-limits``; WireMock has none, and answers the same PUT
  from a static stub, so both jobs make the same requests) and the three
  calls, all over one keep-alive ``http.client`` connection -> SIGTERM -> exit.
  Reported: the whole job, its parts (startup, suite, stop), the reset's p50 and
  the rate-limit change's p50.

It prints a table of medians over rounds with the ratios mockserver / WireMock
(req/s: above 1 means mockserver serves more; p99 and startup: below 1 means
mockserver is faster) and writes every round's figures as JSON to --out.

WireMock is the npm package ``wiremock`` (which ships the standalone jar), pinned
to WIREMOCK_VERSION below; when the jar is missing it is installed with
``npm install --prefix bench/.cache/wiremock wiremock@<version>`` (bench/.cache/
is git-ignored) and run with Java 17 as::

    java -jar <jar> --port <free port> --root-dir bench/wiremock --disable-banner
         --bind-address 127.0.0.1 --max-request-journal-entries 1000

The stubs are the JSON mappings in bench/wiremock/mappings/ (method + URL path +
an ``Authorization`` regex -> the vendor's example response). Options chosen the
way a user running WireMock for contract tests plausibly would: the request
journal stays on (contract tests verify requests with it) but is bounded to 1,000
entries, which is also mockserver's default journal size; no
``--no-request-journal``, no ``--async-response-enabled`` (only matters for
delayed stubs), default container threads, default JVM flags; per-request
logging is already off without ``--verbose``. Neither process is pinned to a
core: on a 2-core machine wrk shares the CPUs with the server under test.

Needs: Python 3.11 + requests, wrk (installed with ``apt-get install -y wrk`` if
missing), Java 17, npm (only if the jar is not yet installed). Traffic goes to
127.0.0.1 only. With the defaults (3 rounds, 5 s) it takes about 4-5 minutes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shlex
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl

WIREMOCK_VERSION = "3.13.2"
WIREMOCK_PREFIX = bl.BENCH_DIR / ".cache" / "wiremock"
WIREMOCK_ROOT = bl.BENCH_DIR / "wiremock"
WIREMOCK_OPTIONS = ["--disable-banner", "--bind-address", "127.0.0.1", "--max-request-journal-entries", "1000"]


def wiremock_jar() -> Path:
    build = WIREMOCK_PREFIX / "node_modules" / "wiremock" / "build"
    jar = build / f"wiremock-standalone-{WIREMOCK_VERSION}.jar"
    if not jar.exists():
        cmd = [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(WIREMOCK_PREFIX),
            f"wiremock@{WIREMOCK_VERSION}",
        ]
        print("WireMock jar not found; installing it:\n  $ " + shlex.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    if not jar.exists():
        raise SystemExit(f"no WireMock jar at {jar} after npm install")
    return jar


def java_version() -> str:
    p = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (p.stderr or p.stdout).splitlines()[0].strip()


def start_wiremock(jar: Path) -> bl.ServerProcess:
    port = bl.free_port()
    cmd = ["java", "-jar", str(jar), "--port", str(port), "--root-dir", str(WIREMOCK_ROOT), *WIREMOCK_OPTIONS]
    return bl.ServerProcess(cmd, "/__admin/health", url=f"http://127.0.0.1:{port}", timeout=60, name="wiremock")


def sanity(session, url, label):
    for call in bl.CALLS:
        status, body = bl.check_call(session, url, call)
        if not 200 <= status <= 299:
            bl.log(f"WARNING {label}: {call['name']} answered {status}: {body}")


def measure_mockserver(cmd, duration, warmup):
    srv = bl.start_mockserver(cmd)
    try:
        s = requests.Session()

        def before(call):
            bl.mock_prepare(s, srv.url)

        bl.mock_prepare(s, srv.url)
        sanity(s, srv.url, "mockserver")
        calls = bl.bench_calls(srv.url, duration, warmup, before_each=before, label="mockserver: ")
        return {"startup_s": srv.startup_s, "calls": calls, "rss_mb_end": srv.rss_mb()}
    finally:
        srv.stop()


def measure_wiremock(jar, duration, warmup):
    srv = start_wiremock(jar)
    try:
        s = requests.Session()
        sanity(s, srv.url, "wiremock")
        calls = bl.bench_calls(srv.url, duration, warmup, label="wiremock: ")
        return {"startup_s": srv.startup_s, "calls": calls, "rss_mb_end": srv.rss_mb()}
    finally:
        srv.stop()


CI_TESTS = 60


def ci_job(start, reset_path, tests=CI_TESTS):
    """Spawn a server, run `tests` tests of reset + the three calls on one connection, stop it."""
    bodies = [None if c["body"] is None else json.dumps(c["body"]).encode() for c in bl.CALLS]
    limits_off = json.dumps(bl.RATE_LIMITS_OFF).encode()
    t0 = time.perf_counter()
    srv = start()
    healthy = time.perf_counter()
    try:
        u = urllib.parse.urlsplit(srv.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

        def call(method, path, body=None, headers=None):
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            answer.read()
            return answer.status

        resets, limits, bad = [], [], 0
        suite_start = time.perf_counter()
        for _ in range(tests):
            t = time.perf_counter()
            bad += call("POST", reset_path) != 200
            resets.append((time.perf_counter() - t) * 1000.0)
            t = time.perf_counter()
            bad += call("PUT", "/__mock/rate-limits", limits_off, {"Content-Type": "application/json"}) != 200
            limits.append((time.perf_counter() - t) * 1000.0)
            for c, body in zip(bl.CALLS, bodies, strict=True):
                bad += not 200 <= call(c["method"], c["path"], body, c["headers"]) <= 299
        suite = time.perf_counter() - suite_start
        conn.close()
    finally:
        stop_start = time.perf_counter()
        status = srv.stop()
        end = time.perf_counter()
    return {
        "job_s": end - t0,
        "startup_s": healthy - t0,
        "suite_s": suite,
        "stop_s": end - stop_start,
        "reset_p50_ms": bl.percentile(resets, 50),
        "rate_limits_p50_ms": bl.percentile(limits, 50),
        "non2xx": bad,
        "exit_status": status,
    }


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    ap.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of unmeasured wrk warm-up before each run (0: none)"
    )
    ap.add_argument(
        "--server-cmd",
        default=None,
        help='mockserver command (default: "<this python> -m mockserver serve --port 0 --seed 42")',
    )
    ap.add_argument("--out", default=str(bl.BENCH_DIR / "peers.json"))
    ap.add_argument("--servers", default="mockserver,wiremock", help="comma-separated subset of mockserver,wiremock")
    args = ap.parse_args(argv)
    bl.compile_bytecode()

    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in servers:
        if s not in ("mockserver", "wiremock"):
            ap.error(f"unknown server {s!r}")
    bl.ensure_wrk()
    cmd = bl.server_cmd_from_arg(args.server_cmd) if "mockserver" in servers else None
    jar = wiremock_jar() if "wiremock" in servers else None

    meta = bl.machine_info()
    meta.update(
        {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rounds": args.rounds,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "mockserver_cmd": shlex.join(cmd) if cmd else None,
            "wiremock_version": WIREMOCK_VERSION if jar else None,
            "wiremock_cmd": (
                shlex.join(
                    [
                        "java",
                        "-jar",
                        str(jar),
                        "--port",
                        "<free port>",
                        "--root-dir",
                        str(WIREMOCK_ROOT),
                        *WIREMOCK_OPTIONS,
                    ]
                )
                if jar
                else None
            ),
            "java": java_version() if jar else None,
            "concurrency": [{"threads": t, "connections": c} for t, c in bl.CONCURRENCY],
        }
    )
    bl.log("WireMock " + (meta["wiremock_cmd"] or "-"))
    bl.log("mockserver " + (meta["mockserver_cmd"] or "-"))

    rounds = []
    for i in range(args.rounds):
        order = servers if i % 2 == 0 else list(reversed(servers))
        rnd = {}
        for name in order:
            bl.log(f"round {i + 1}/{args.rounds}: {name}")
            if name == "mockserver":
                rnd[name] = measure_mockserver(cmd, args.duration, args.warmup)
            else:
                rnd[name] = measure_wiremock(jar, args.duration, args.warmup)
            bl.log(f"round {i + 1}: {name} startup {rnd[name]['startup_s']:.3f} s")
        for name in order:
            if name == "mockserver":
                job = ci_job(lambda: bl.start_mockserver(cmd), "/__mock/reset")
            else:
                job = ci_job(lambda: start_wiremock(jar), "/__admin/reset")
            rnd[name]["ci_job"] = job
            bl.log(
                f"round {i + 1}: {name} CI job {job['job_s']:.3f} s (startup {job['startup_s']:.3f}, "
                f"suite {job['suite_s']:.3f}, stop {job['stop_s']:.3f}; reset p50 {job['reset_p50_ms']:.2f} ms, "
                f"rate limits p50 {job['rate_limits_p50_ms']:.2f} ms; "
                f"non-2xx {job['non2xx']})"
            )
        rounds.append(rnd)

    # medians over rounds
    def med(server, key, field):
        vals = [r[server]["calls"][key][field] for r in rounds if server in r]
        vals = [v for v in vals if v is not None]
        return bl.median(vals)

    def med_startup(server):
        return bl.median([r[server]["startup_s"] for r in rounds if server in r])

    def total_non2xx(server, key):
        vals = [r[server]["calls"][key]["non2xx"] for r in rounds if server in r]
        return None if not vals or any(v is None for v in vals) else sum(vals)

    summary = {"startup_s": {}, "calls": {}}
    m_st = med_startup("mockserver") if "mockserver" in servers else None
    w_st = med_startup("wiremock") if "wiremock" in servers else None
    summary["startup_s"] = {"mockserver": m_st, "wiremock": w_st, "ratio": ratio(m_st, w_st)}

    def med_rss(server):
        vals = [r[server]["rss_mb_end"] for r in rounds if server in r]
        return bl.median([v for v in vals if v is not None])

    m_rss = med_rss("mockserver") if "mockserver" in servers else None
    w_rss = med_rss("wiremock") if "wiremock" in servers else None
    summary["rss_mb_end"] = {"mockserver": m_rss, "wiremock": w_rss, "ratio": ratio(m_rss, w_rss)}

    rows = []
    for call in bl.CALLS:
        for _, conns in bl.CONCURRENCY:
            key = f"{call['key']}@c{conns}"
            d = {"call": call["name"], "conns": conns}
            for s in ("mockserver", "wiremock"):
                for f in ("rps", "p50_ms", "p99_ms"):
                    d[f"{s}_{f}"] = med(s, key, f) if s in servers else None
                d[f"{s}_non2xx_total"] = total_non2xx(s, key) if s in servers else None
            d["rps_ratio"] = ratio(d["mockserver_rps"], d["wiremock_rps"])
            d["p50_ratio"] = ratio(d["mockserver_p50_ms"], d["wiremock_p50_ms"])
            d["p99_ratio"] = ratio(d["mockserver_p99_ms"], d["wiremock_p99_ms"])
            # per-round ratios, to show the spread
            d["rps_ratio_per_round"] = [
                ratio(r["mockserver"]["calls"][key]["rps"], r["wiremock"]["calls"][key]["rps"])
                for r in rounds
                if "mockserver" in r and "wiremock" in r
            ]
            summary["calls"][key] = d
            bad = any(d[f"{s}_non2xx_total"] for s in ("mockserver", "wiremock"))
            d["comparable"] = not bad
            star = " *" if bad else ""
            rows.append(
                [
                    call["name"],
                    f"c{conns}",
                    bl.fmt_num(d["mockserver_rps"]),
                    bl.fmt_num(d["wiremock_rps"]),
                    (bl.fmt_num(d["rps_ratio"]) if d["rps_ratio"] is not None else "n/a") + star,
                    bl.fmt_num(d["mockserver_p50_ms"], "ms"),
                    bl.fmt_num(d["wiremock_p50_ms"], "ms"),
                    bl.fmt_num(d["mockserver_p99_ms"], "ms"),
                    bl.fmt_num(d["wiremock_p99_ms"], "ms"),
                    (bl.fmt_num(d["p99_ratio"]) if d["p99_ratio"] is not None else "n/a") + star,
                    f"{bl.fmt_num(d['mockserver_non2xx_total'])}/{bl.fmt_num(d['wiremock_non2xx_total'])}",
                ]
            )
    print()
    print(
        f"mockserver vs WireMock {WIREMOCK_VERSION} (static stubs) - medians of "
        f"{args.rounds} round(s), wrk {args.duration:g} s per run after {args.warmup:g} s warm-up"
    )
    print("ratio = mockserver / WireMock (req/s: >1 mockserver faster; p99, startup: <1 mockserver faster)")
    print()
    bl.print_table(
        [
            "call",
            "conns",
            "mock req/s",
            "WM req/s",
            "req/s ratio",
            "mock p50",
            "WM p50",
            "mock p99",
            "WM p99",
            "p99 ratio",
            "non-2xx m/WM",
        ],
        rows,
    )
    if any(not d["comparable"] for d in summary["calls"].values()):
        print("* non-2xx answers during the run: that ratio compares error answers, not the call")
    print()
    bl.print_table(
        ["median over rounds", "mockserver", "WireMock", "ratio"],
        [
            [
                "spawn -> first 200 from health",
                bl.fmt_num(m_st, "s"),
                bl.fmt_num(w_st, "s"),
                bl.fmt_num(summary["startup_s"]["ratio"]),
            ],
            [
                "RSS after the wrk runs",
                bl.fmt_num(m_rss, "MB"),
                bl.fmt_num(w_rss, "MB"),
                bl.fmt_num(summary["rss_mb_end"]["ratio"]),
            ],
        ],
    )

    print()
    print(
        f"A CI job: spawn -> healthy -> {CI_TESTS} tests (reset, rate limits off, the three calls, one keep-alive"
        " connection)"
        " -> SIGTERM -> exit; medians over rounds"
    )
    print()
    targets = {"job_s": 0.3, "startup_s": 0.2, "suite_s": 0.7, "reset_p50_ms": None}
    job_rows = []
    summary["ci_job"] = {}
    for field, label, unit in (
        ("job_s", "whole job", "s"),
        ("startup_s", "spawn -> healthy", "s"),
        ("suite_s", f"{CI_TESTS} tests", "s"),
        ("stop_s", "SIGTERM -> exit", "s"),
        ("reset_p50_ms", "reset p50", "ms"),
        ("rate_limits_p50_ms", "rate limits off p50", "ms"),
        ("non2xx", "non-2xx answers (all rounds)", ""),
    ):
        vals = {}
        for server in servers:
            got = [r[server]["ci_job"][field] for r in rounds if server in r]
            vals[server] = sum(got) if field == "non2xx" else bl.median(got)
        m, w = vals.get("mockserver"), vals.get("wiremock")
        r = ratio(m, w) if field != "non2xx" else None
        limit = targets.get(field)
        verdict = "" if limit is None or r is None else ("pass" if r <= limit else "FAIL")
        summary["ci_job"][field] = {"mockserver": m, "wiremock": w, "ratio": r}
        job_rows.append(
            [
                label,
                bl.fmt_num(m, unit),
                bl.fmt_num(w, unit),
                bl.fmt_num(r) if r is not None else "",
                f"<= {limit}x" if limit else "",
                verdict,
            ]
        )
    bl.print_table(["CI job", "mockserver", "WireMock", "ratio", "target", "result"], job_rows)

    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    bl.write_json(args.out, {"meta": meta, "summary": summary, "rounds": rounds})
    print(f"\nJSON written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
