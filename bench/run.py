"""Benchmark of mockserver as users start it.

Usage (from the repository root)::

    python bench/run.py [--server-cmd "..."] [--out bench/results.json]
                        [--duration 5] [--quick] [--fill-budget SECONDS]

By default the server is started exactly as a user would:
``<this python> -m mockserver serve --port 0 --seed 42`` (if this interpreter
cannot import mockserver but the repository's .venv can, that one is used and a
note is printed). ``--server-cmd`` replaces that command (it is split with shlex;
it must accept ``--port 0`` style options already included and print one ready
line containing its ``http://`` URL on stdout; the file-store phase appends
``--store tinydb --db <tmp file>``). Its URL is read from the first stdout line
containing ``http://``. All traffic goes to 127.0.0.1.

Measured (one printed table: metric, value, target, pass/fail; the same data as
JSON in --out, default bench/results.json):

* startup: wall time from spawn to the first 200 from ``GET /__mock/health``
  (polled every 5 ms), median of 5 starts; idle RSS (VmRSS from
  /proc/<pid>/status, process and children) of those fresh servers, median;
* ``POST /__mock/reset``: median and p99 of 50 sequential calls over one
  keep-alive http.client connection, on a fresh server and again on the same
  server after all the wrk runs;
* the three calls -- Collect ``POST /v1/requests`` with the vendor's example body
  (``Authorization: Basic base64(":bench-collect-key")``), inSigner
  ``GET /api/v1/bulk-sends/bs_abc123`` and inSigner ``POST /api/v1/bulk-sends``
  with the vendor's example body (``Authorization: Bearer isk_<44 chars>``) --
  with wrk at ``-t1 -c1`` and ``-t2 -c16`` (``--latency``; a generated Lua script
  per call sets method/body/headers, counts non-2xx answers in ``response()`` and
  prints the count in ``done()``). Before every measured run: ``POST
  /__mock/reset``, ``PUT /__mock/rate-limits`` with both APIs off, and a 1 s
  unmeasured warm-up run. Reported: req/s, p50, p99, non-2xx count. Each is measured
  beside the floor of the design: bare Flask (bench/floor_app.py) on granian's WSGI
  interface (``--workers 1 --blocking-threads 1``), started beside the server; rounds
  alternate which goes first, and every line, ``GET /__mock/health`` included, is given as
  a share of the floor measured in the same round at the same concurrency. After the wrk
  runs, ``POST /__mock/reset`` and ``PUT /__mock/rate-limits`` are timed beside bare
  Flask's request over the same kind of connection;
* bulk send of 500 signers: p50/p99 of 30 sequential ``POST /api/v1/bulk-sends``
  (rate limits off; ``POST /__mock/clock {"advance": 301}`` between them anyway);
* cost growth, for the memory store and for the file store
  (``--store tinydb --db <tmp file>``), each on a fresh server: entities are added
  with ``POST /__mock/state/insigner/bulkSends?tenant=<bench key>`` from a pool
  of 8 threads (one keep-alive http.client connection each; the server has no
  bulk preload option; if ``serve --help`` ever
  lists ``--preload`` it is reported but not used, since where preloaded entities
  land is not specified) until the tenant holds 1k, 10k and 100k bulk sends;
  at each level ~200 sequential requests each (requests.Session, so client
  overhead of roughly 0.3 ms is included) of: get (``GET
  /api/v1/bulk-sends/<id>`` over a sample of stored ids, newest included), create
  (``POST /api/v1/bulk-sends``, vendor example body) and a list page (``GET
  /api/v1/bulk-sends?limit=25``); each of those loops stops early after 10 s
  (3 s with --quick) and reports how many requests it made. Each get and create
  of the big organization is followed by the same call of a second organization
  that holds only the seed data (``bl.REFERENCE_KEY``), so both are timed at the
  same moments of a machine whose speed drifts over minutes. Filling is bounded
  by --fill-budget seconds of filling per store (default 240 s, quick 15 s: the file store fsyncs each
  add, ~600 a second on a shared 2-core machine); a
  level not reached in time is reported as not reached;
* RSS of the memory-store server idle and at 100k entities;
* the machine's cost of one thread waking another (``benchlib.wake_up_us``), with the two
  threads held on two cores and on one: every request crosses threads several times (wrk to
  the server, granian's runtime to the Python side, back), so this cost, which a virtual
  machine whose idle cores halt makes about eight times dearer across cores, is part of every figure
  and of the floor's alike.

Targets printed beside values: startup <= 0.2 s; reset <= 1 ms (median, fresh
and after load); ``GET /__mock/health`` >= 0.8x the floor at 1 and 16 connections;
each documented call >= 0.4x the floor at 1 connection; a reset and a rate-limit
change after load <= 2.5x bare Flask's p50; 500-signer bulk send <= 30 ms p50; at
100k, get and create p50 <= 1.5x the seed-size organization's, timed in turn with
them (the ratio to the 1k level, measured minutes earlier, is printed beside it
without a target); list page <= 5 ms (p50 at 100k); RSS idle <= 100 MB; non-2xx = 0.
Growth targets are judged at the largest level measured (shown in the metric
name; with --quick that is 10k, so treat them as indicative only).

``--quick`` shrinks everything for a smoke run (wrk 2 s, 3 starts, 20 resets,
10 bulk sends, 50 requests per growth measurement, levels 1k and 10k only) and
takes about a minute; the full run takes about 7-9 minutes on 2 cores.
Needs Python 3.11 + requests and wrk (installed with ``apt-get install -y wrk``
when missing; the commands are printed).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import http.client
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl

ENTITY_BODY = {
    "name": "b",
    "templateId": "tpl_abc123",
    "status": "completed",
    "totalCount": 1,
    "sentCount": 1,
    "failedCount": 0,
}


class Report:
    """Rows of the printed table + the JSON 'metrics' list."""

    def __init__(self):
        self.rows = []

    def add(self, metric, value, unit="", target=None, ok=None, note=None):
        self.rows.append({"metric": metric, "value": value, "unit": unit, "target": target, "pass": ok, "note": note})

    def print(self):
        table = []
        for r in self.rows:
            value = bl.fmt_num(r["value"], r["unit"])
            if r["note"]:
                note = r["note"] if len(r["note"]) <= 70 else r["note"][:67] + "..."
                value += f" ({note})"
            result = "" if r["pass"] is None else ("pass" if r["pass"] else "FAIL")
            table.append([r["metric"], value, r["target"] or "", result])
        bl.print_table(["metric", "value", "target", "result"], table)

    def markdown(self, meta):
        """The same table as a page of the documentation, with when and where it was measured."""
        lines = [
            "<!-- Written by `make bench` (bench/run.py): run it again rather than edit this file. -->",
            "",
            f"Measured on {meta['finished']} by `make bench`, on {meta['machine']}: mockserver "
            f"{meta.get('server_version')}, wrk {meta['duration']:g} s per run, {meta['wall_s']:.0f} s in all.",
            "",
            "| metric | value | target | result |",
            "| --- | --- | --- | --- |",
        ]
        for r in self.rows:
            value = bl.fmt_num(r["value"], r["unit"])
            if r["note"]:
                value += f" ({r['note']})"
            result = "" if r["pass"] is None else ("pass" if r["pass"] else "**not met**")
            cells = [r["metric"], value, r["target"] or "", result]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"


# The share of the floor (bare Flask on granian, same run) each call is judged against:
# (call's key, connections) -> the least share.
SHARE_GOALS = {
    ("floor_health", 1): 0.8,
    ("floor_health", 16): 0.8,
    ("collect_send", 1): 0.4,
    ("insigner_get", 1): 0.4,
    ("insigner_create", 1): 0.4,
}


def machine():
    """One line naming this machine: its processor, cores, system and Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{model}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def le(value, limit):
    return None if value is None else value <= limit


# --------------------------------------------------------------------------
# phases
# --------------------------------------------------------------------------


def phase_startup(cmd, starts):
    times, rss = [], []
    for i in range(starts):
        srv = bl.start_mockserver(cmd)
        try:
            times.append(srv.startup_s)
            time.sleep(0.3)
            rss.append(srv.rss_mb())
            health = srv.health.json()
        finally:
            srv.stop()
        bl.log(f"start {i + 1}/{starts}: {srv.startup_s:.3f} s, RSS {rss[-1]:.1f} MB")
    return {"startup_s": times, "idle_rss_mb": rss, "health": health}


def phase_reset(url, n):
    """n sequential resets over one keep-alive http.client connection, as the CI job of bench-peers
    sends them."""
    return bl.sequential_ms(url, "POST", "/__mock/reset", n)


def phase_bulk(session, url, n, signers=500):
    bl.mock_prepare(session, url)
    body = json.dumps(bl.bulk_body(signers))
    headers = {"Authorization": bl.INSIGNER_AUTH, "Content-Type": "application/json"}
    lat, statuses, first_bad = [], {}, None
    for i in range(n):
        session.post(url + "/__mock/clock", json={"advance": 301}, timeout=30)
        t0 = time.perf_counter()
        r = session.post(url + "/api/v1/bulk-sends", data=body, headers=headers, timeout=60)
        lat.append((time.perf_counter() - t0) * 1000.0)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if not 200 <= r.status_code <= 299 and first_bad is None:
            first_bad = f"{r.status_code} {r.text[:200]}"
        elif i == 0:
            try:
                total = r.json()["data"]["totalCount"]
                if total != signers:
                    first_bad = f"totalCount {total} != {signers}"
            except (ValueError, KeyError, TypeError):
                first_bad = f"unexpected body {r.text[:200]}"
    return {"signers": signers, "latencies_ms": lat, "statuses": statuses, "first_bad": first_bad}


def phase_webhook(session, url, n):
    """From a bulk send's 201 to its delivery at a receiver on loopback: n sequential creates."""
    from mockserver.testing.receiver import WebhookReceiver

    latencies = []
    with WebhookReceiver() as receiver:
        session.post(f"{url}/__mock/reset", timeout=10)
        session.put(f"{url}/__mock/rate-limits", json=bl.RATE_LIMITS_OFF, timeout=10)
        hook = {"url": receiver.url, "events": ["bulk_send.completed", "bulk_send.failed"]}
        session.post(f"{url}/__mock/state/insigner/webhooks", params={"tenant": bl.INSIGNER_KEY}, json=hook, timeout=10)
        headers = {"Authorization": bl.INSIGNER_AUTH}
        for i in range(n):
            answer = session.post(
                f"{url}/api/v1/bulk-sends", json=bl.INSIGNER_EXAMPLE_BODY, headers=headers, timeout=10
            )
            answered = time.perf_counter()
            if answer.status_code != 201:
                raise RuntimeError(f"bulk send answered {answer.status_code}: {answer.text[:200]}")
            got = receiver.wait_for(i + 1, timeout=10)[i]
            latencies.append((got.arrived - answered) * 1000)
    session.post(f"{url}/__mock/reset", timeout=10)
    return {"latencies_ms": latencies}


def _entity_id(doc):
    if isinstance(doc, dict):
        for k in ("id", "_id"):
            if isinstance(doc.get(k), str):
                return doc[k]
        for k in ("data", "item"):
            if isinstance(doc.get(k), dict):
                return _entity_id(doc[k])
    return None


class Filler:
    """Adds bulk sends through the control plane with a pool of 8 threads.

    Each thread keeps one persistent http.client connection (much lighter than
    requests, so the 2 shared cores go to the server rather than to the client).
    """

    def __init__(self, url, workers=8):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.path = "/__mock/state/insigner/bulkSends?" + urllib.parse.urlencode({"tenant": bl.INSIGNER_KEY})
        self.workers = workers
        self.local = threading.local()
        self.added = 0
        self.failed = 0
        self.first_error = None
        self.ids = []  # a sample of ids + the newest
        self.newest = None
        self.elapsed = 0.0
        self.body = json.dumps(ENTITY_BODY).encode()
        self.headers = {"Content-Type": "application/json"}

    def _one(self, i):
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                conn.request("POST", self.path, body=self.body, headers=self.headers)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    return False, f"{type(exc).__name__}: {exc}", None
                continue
            if r.status != 201:
                return False, f"{r.status} {data[:200]!r}", None
            try:
                return True, None, _entity_id(json.loads(data))
            except ValueError:
                return True, None, None

    def fill_to(self, target, budget):
        """Add entities until `added` reaches target or `budget` seconds of
        filling (summed over calls) are used up."""
        t0 = time.perf_counter()
        chunk = 400
        with cf.ThreadPoolExecutor(self.workers) as pool:
            while self.added < target and self.elapsed + time.perf_counter() - t0 < budget:
                n = min(chunk, target - self.added)
                for ok, err, eid in pool.map(self._one, range(n)):
                    if ok:
                        self.added += 1
                        if eid and (self.added % 997 == 1 or len(self.ids) < 5):
                            self.ids.append(eid)
                        self.newest = eid or self.newest
                    else:
                        self.failed += 1
                        self.first_error = self.first_error or err
                if self.failed > 20:
                    raise RuntimeError(f"adding entities fails: {self.first_error}")
        self.elapsed += time.perf_counter() - t0
        return self.added >= target


def interleaved(session, n, big, small, max_s):
    """Call big(session, i) and small(session, i) in turn, n times each (fewer past max_s seconds).

    Both see the same moments of a shared, drifting machine, so the ratio of their medians shows
    what the stored data costs and not what the machine did meanwhile.
    """
    out = {"big": ([], collections.Counter()), "small": ([], collections.Counter())}
    start = time.perf_counter()
    for i in range(n):
        if i >= 10 and time.perf_counter() - start > max_s:
            break
        for name, fn in (("big", big), ("small", small)):
            t0 = time.perf_counter()
            r = fn(session, i)
            out[name][0].append((time.perf_counter() - t0) * 1000.0)
            out[name][1][r.status_code] += 1
    return out


def measure_level(session, url, n, get_ids, max_s):
    ah = {"Authorization": bl.INSIGNER_AUTH}
    ch = dict(ah, **{"Content-Type": "application/json"})
    rh = {"Authorization": bl.REFERENCE_AUTH}
    rch = dict(rh, **{"Content-Type": "application/json"})
    create_body = json.dumps(bl.INSIGNER_EXAMPLE_BODY)
    out = {}
    got = interleaved(
        session,
        n,
        lambda s, i: s.get(f"{url}/api/v1/bulk-sends/{get_ids[i % len(get_ids)]}", headers=ah, timeout=30),
        lambda s, i: s.get(f"{url}/api/v1/bulk-sends/bs_abc123", headers=rh, timeout=30),
        max_s,
    )
    out["get"] = {"latencies_ms": got["big"][0], "statuses": dict(got["big"][1])}
    out["ref_get"] = {"latencies_ms": got["small"][0], "statuses": dict(got["small"][1])}
    made = interleaved(
        session,
        n,
        lambda s, i: s.post(f"{url}/api/v1/bulk-sends", data=create_body, headers=ch, timeout=30),
        lambda s, i: s.post(f"{url}/api/v1/bulk-sends", data=create_body, headers=rch, timeout=30),
        max_s,
    )
    out["create"] = {"latencies_ms": made["big"][0], "statuses": dict(made["big"][1])}
    out["ref_create"] = {"latencies_ms": made["small"][0], "statuses": dict(made["small"][1])}
    lat, st = bl.timed_calls(
        session, n, lambda s, i: s.get(f"{url}/api/v1/bulk-sends", params={"limit": 25}, headers=ah, timeout=30), max_s
    )
    out["list"] = {"latencies_ms": lat, "statuses": dict(st)}
    for v in out.values():
        v["p50_ms"] = bl.percentile(v["latencies_ms"], 50)
        v["p99_ms"] = bl.percentile(v["latencies_ms"], 99)
        v["non2xx"] = sum(c for s, c in v["statuses"].items() if not 200 <= s <= 299)
        v["n"] = len(v["latencies_ms"])
    return out


def phase_growth(cmd, store, levels, n, budget, tmpdir, max_s):
    extra = []
    if store == "tinydb":
        extra = ["--store", "tinydb", "--db", os.path.join(tmpdir, "bench-tinydb.json")]
    srv = bl.start_mockserver(cmd, extra)
    res = {"store": store, "levels": {}, "fill_budget_s": budget}
    try:
        s = requests.Session()
        health = s.get(srv.url + "/__mock/health", timeout=10).json()
        res["health_store"] = health.get("store")
        if health.get("store") not in (None, store):
            bl.log(f"WARNING: asked for store {store}, health says {health.get('store')}")
        bl.mock_prepare(s, srv.url, reset=False)
        # first API call creates the bench tenant (a seeded copy)
        r = s.get(srv.url + "/api/v1/bulk-sends/bs_abc123", headers={"Authorization": bl.INSIGNER_AUTH}, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"GET bs_abc123 answered {r.status_code}: {r.text[:300]}")
        res["rss_idle_mb"] = srv.rss_mb()
        filler = Filler(srv.url)
        prev = 0
        for level in levels:
            reached = filler.fill_to(level, budget)
            label = f"{level // 1000}k"
            if not reached:
                bl.log(
                    f"{store}: {label} not reached within the {budget:.0f} s fill budget "
                    f"({filler.added} added in {filler.elapsed:.1f} s)"
                )
                res["not_reached"] = {"level": level, "added": filler.added, "fill_s": filler.elapsed}
                if filler.added < 2 * prev:
                    break
                # measure where the fill stopped anyway, labelled with the count reached
                label = f"{filler.added // 1000}k (of {label})"
            ids = [i for i in ["bs_abc123", *filler.ids[-20:], filler.newest] if i]
            m = measure_level(s, srv.url, n, ids, max_s)
            m.update(
                {
                    "entities_added": filler.added,
                    "fill_s_cumulative": filler.elapsed,
                    "rss_mb": srv.rss_mb(),
                    "target_level": level,
                    "reached": reached,
                }
            )
            res["levels"][label] = m
            bl.log(
                f"{store} {label}: fill {filler.elapsed:.1f} s; get p50 "
                f"{m['get']['p50_ms']:.2f} ms, create p50 {m['create']['p50_ms']:.2f} ms, "
                f"list p50 {m['list']['p50_ms']:.2f} ms, RSS {m['rss_mb']:.0f} MB"
            )
            prev = level
            if not reached:
                break
        res["entities_added"] = filler.added
    finally:
        res["exit_status"] = srv.stop()
        if store == "tinydb":
            db = extra[-1]
            res["db_file_mb"] = os.path.getsize(db) / 2**20 if os.path.exists(db) else None
    return res


def server_help_mentions_preload(cmd):
    try:
        p = subprocess.run([*list(cmd), "--help"], capture_output=True, text=True, timeout=60, cwd=str(bl.REPO_DIR))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--preload" in p.stdout or "MOCKSERVER_PRELOAD" in p.stdout


# --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--server-cmd",
        default=None,
        help='server command (default: "<this python> -m mockserver serve --port 0 --seed 42")',
    )
    ap.add_argument("--out", default=str(bl.BENCH_DIR / "results.json"))
    ap.add_argument(
        "--page",
        default=str(bl.BENCH_DIR.parent / "docs" / "measured" / "bench.md"),
        help="the documentation's page of figures, written after a full run (not with --quick)",
    )
    ap.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 5; 2 with --quick)")
    ap.add_argument("--quick", action="store_true", help="a short smoke run")
    ap.add_argument(
        "--fill-budget",
        type=float,
        default=None,
        help="seconds allowed to add entities, per store (default 240; 15 quick)",
    )
    args = ap.parse_args(argv)
    bl.compile_bytecode()

    q = args.quick
    duration = args.duration if args.duration is not None else (2.0 if q else 5.0)
    cfg = {
        "duration_s": duration,
        "warmup_s": 1.0,
        "starts": 3 if q else 5,
        "resets": 20 if q else 50,
        "bulk_posts": 10 if q else 30,
        "webhook_deliveries": 30 if q else 200,
        "growth_requests": 50 if q else 200,
        "growth_op_max_s": 3.0 if q else 10.0,
        "levels": [1000, 10000] if q else [1000, 10000, 100000],
        "fill_budget_s": args.fill_budget if args.fill_budget is not None else (15.0 if q else 240.0),
        "rounds": 2,
        "quick": q,
    }
    t_start = time.perf_counter()
    bl.ensure_wrk()
    cmd = bl.server_cmd_from_arg(args.server_cmd)
    meta = bl.machine_info()
    meta.update({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "server_cmd": shlex.join(cmd), "config": cfg})
    bl.log("server: " + meta["server_cmd"])
    meta["server_offers_preload"] = server_help_mentions_preload(cmd)
    if meta["server_offers_preload"]:
        bl.log("note: the server lists a preload option; entities are still added over HTTP")

    details = {}
    rep = Report()

    # 1. startup + idle RSS
    st = phase_startup(cmd, cfg["starts"])
    details["startup"] = st
    meta["server_version"] = st["health"].get("version")
    startup = bl.median(st["startup_s"])
    rep.add(f"startup to healthy (median of {cfg['starts']})", startup, "s", "<= 0.2 s", le(startup, 0.2))
    rss_idle = bl.median(st["idle_rss_mb"])
    rep.add("RSS idle (fresh server)", rss_idle, "MB", "<= 100 MB", le(rss_idle, 100))

    # What the machine charges for each hand-over between threads, which every request below makes
    # several of (docs/explanation/speed.md counts them per request, for the server and the floor).
    wake = bl.wake_up_costs()
    details["wake_up"] = wake
    rep.add("machine: a thread's wake-up from another core", wake["cross_core_us"], "us")
    rep.add("machine: a thread's wake-up from its own core", wake["same_core_us"], "us")

    # 2-4. one server for reset, wrk, bulk
    srv = bl.start_mockserver(cmd)
    floor = bl.start_floor(cmd)
    try:
        s = requests.Session()
        rs = phase_reset(srv.url, cfg["resets"])
        details["reset"] = rs
        p50 = bl.percentile(rs["latencies_ms"], 50)
        rep.add(f"POST /__mock/reset p50 ({cfg['resets']} calls)", p50, "ms", "<= 1 ms", le(p50, 1))
        rep.add("POST /__mock/reset p99", bl.percentile(rs["latencies_ms"], 99), "ms")
        bad = sum(c for code, c in rs["statuses"].items() if code != 200)
        if bad:
            rep.add("POST /__mock/reset non-200", bad, "", "0", False)

        bl.mock_prepare(s, srv.url)
        for call in bl.CALLS:
            status, body = bl.check_call(s, srv.url, call)
            if not 200 <= status <= 299:
                bl.log(f"WARNING: {call['name']} answered {status}: {body}")

        measured = bl.bench_against_floor(
            srv.url,
            floor.url,
            duration,
            cfg["warmup_s"],
            cfg["rounds"],
            before_each=lambda call: bl.mock_prepare(s, srv.url),
        )
        details["wrk"] = measured
        for key, runs in measured["calls"].items():
            conns = runs[0]["conns"]
            name = f"{runs[0]['call']} c{conns}"
            bare = measured["floor"][f"{bl.FLOOR_CALL['key']}@c{conns}"]
            if key.startswith(bl.FLOOR_CALL["key"]):
                rep.add(f"floor: bare Flask on granian c{conns} req/s", bl.median([r["rps"] for r in bare]), "req/s")
                rep.add(f"floor: bare Flask on granian c{conns} p50", bl.median([r["p50_ms"] for r in bare]), "ms")
            # Each round's share of the floor measured beside it, then their median.
            share = bl.median([r["rps"] / b["rps"] for r, b in zip(runs, bare, strict=True)])
            goal = SHARE_GOALS.get((key.split("@")[0], conns))
            rep.add(f"{name} req/s", bl.median([r["rps"] for r in runs]), "req/s")
            rep.add(
                f"{name} share of the floor",
                share,
                "x",
                f">= {goal}x" if goal else None,
                share >= goal if goal else None,
            )
            rep.add(f"{name} p50", bl.median([r["p50_ms"] for r in runs]), "ms")
            rep.add(f"{name} p99", bl.median([r["p99_ms"] for r in runs]), "ms")
            bad = sum(r["non2xx"] + r["socket_errors"] for r in runs)
            first = next((r["first_bad"] for r in runs if r.get("first_bad")), None)
            rep.add(
                f"{name} non-2xx",
                bad,
                f"of {sum(r['responses'] for r in runs):,}",
                "0",
                bad == 0,
                note=f"first: {first}" if first else None,
            )

        # The same server after the wrk runs (tens of thousands of requests): a reset costs no more.
        # The same server after the wrk runs (tens of thousands of requests, more than a CI job's),
        # each control call beside bare Flask's request over the same kind of connection.
        bare = bl.sequential_ms(floor.url, "GET", "/__mock/health", cfg["resets"])
        bare_p50 = bl.percentile(bare["latencies_ms"], 50)
        details["floor_sequential"] = bare
        rep.add(f"floor: bare Flask request p50 ({cfg['resets']} sequential)", bare_p50, "ms")
        rs = phase_reset(srv.url, cfg["resets"])
        details["reset_after_load"] = rs
        after = bl.percentile(rs["latencies_ms"], 50)
        rep.add("POST /__mock/reset p50 after the wrk runs", after, "ms", "<= 1 ms", le(after, 1))
        rep.add("POST /__mock/reset p50 / bare Flask p50", after / bare_p50, "x", "<= 2.5x", after / bare_p50 <= 2.5)
        limits = bl.sequential_ms(
            srv.url,
            "PUT",
            "/__mock/rate-limits",
            cfg["resets"],
            body=json.dumps(bl.RATE_LIMITS_OFF).encode(),
            headers={"Content-Type": "application/json"},
        )
        details["rate_limits_after_load"] = limits
        put = bl.percentile(limits["latencies_ms"], 50)
        rep.add("PUT /__mock/rate-limits p50 after the wrk runs", put, "ms")
        rep.add("PUT /__mock/rate-limits p50 / bare Flask p50", put / bare_p50, "x", "<= 2.5x", put / bare_p50 <= 2.5)

        bk = phase_bulk(s, srv.url, cfg["bulk_posts"])
        details["bulk_500"] = bk
        p50 = bl.percentile(bk["latencies_ms"], 50)
        ok2xx = all(200 <= code <= 299 for code in bk["statuses"]) and not bk["first_bad"]
        rep.add(
            f"bulk send 500 signers p50 ({cfg['bulk_posts']} POSTs)",
            p50,
            "ms",
            "<= 30 ms",
            le(p50, 30) and ok2xx,
            note=None if ok2xx else f"bad answers: {bk['statuses']} {bk['first_bad']}",
        )
        rep.add("bulk send 500 signers p99", bl.percentile(bk["latencies_ms"], 99), "ms")

        wh = phase_webhook(s, srv.url, cfg["webhook_deliveries"])
        details["webhook"] = wh
        rep.add(
            f"webhook: a bulk send's 201 to its delivery p50 ({cfg['webhook_deliveries']} sends)",
            bl.percentile(wh["latencies_ms"], 50),
            "ms",
        )
        rep.add("webhook: a bulk send's 201 to its delivery p99", bl.percentile(wh["latencies_ms"], 99), "ms")
    finally:
        srv.stop()
        floor.stop()

    # 5. growth, per store
    details["growth"] = {}
    with tempfile.TemporaryDirectory(prefix="mockserver-bench-") as tmp:
        for store in ("memory", "tinydb"):
            try:
                g = phase_growth(
                    cmd, store, cfg["levels"], cfg["growth_requests"], cfg["fill_budget_s"], tmp, cfg["growth_op_max_s"]
                )
            except RuntimeError as exc:
                bl.log(f"growth phase for {store} failed: {exc}")
                details["growth"][store] = {"error": str(exc)}
                rep.add(f"[{store}] growth phase", None, note=str(exc).splitlines()[0][:80], target="runs", ok=False)
                continue
            details["growth"][store] = g
            levels = g["levels"]
            for label, m in levels.items():
                for op in ("get", "create", "list"):
                    v = m[op]
                    note = None if v["non2xx"] == 0 else f"{v['non2xx']} non-2xx"
                    if v["n"] < cfg["growth_requests"]:
                        note = (note + ", " if note else "") + f"{v['n']} requests, time cap"
                    rep.add(f"[{store}] {label}: {op} p50", v["p50_ms"], "ms", note=note)
                    rep.add(f"[{store}] {label}: {op} p99", v["p99_ms"], "ms")
            if "not_reached" in g:
                nr = g["not_reached"]
                rep.add(
                    f"[{store}] {nr['level'] // 1000}k entities reached",
                    f"no: {nr['added']:,} added in {nr['fill_s']:.0f} s",
                    "",
                    f"within {cfg['fill_budget_s']:.0f} s fill budget",
                    False,
                )
            # growth targets at the largest level measured: against the seed-size organization timed
            # in turn with it (drift-free); the ratio to the 1k level, minutes earlier, is shown too.
            labels = list(levels)
            if labels:
                top = labels[-1]
                for op in ("get", "create"):
                    base, big = levels[top][f"ref_{op}"]["p50_ms"], levels[top][op]["p50_ms"]
                    ratio = big / base if base else None
                    rep.add(
                        f"[{store}] {op} p50 at {top} / seed-size org, same moments",
                        ratio,
                        "x",
                        "<= 1.5x",
                        le(ratio, 1.5),
                    )
            if "1k" in levels and len(labels) > 1:
                top = labels[-1]
                for op in ("get", "create"):
                    base, big = levels["1k"][op]["p50_ms"], levels[top][op]["p50_ms"]
                    rep.add(f"[{store}] {op} p50 at {top} / at 1k (minutes apart)", big / base if base else None, "x")
            if labels:
                top = labels[-1]
                v = levels[top]["list"]["p50_ms"]
                rep.add(f"[{store}] list page p50 at {top}", v, "ms", "<= 5 ms", le(v, 5))
                ops = ("get", "create", "list", "ref_get", "ref_create")
                bad = sum(levels[lb][op]["non2xx"] for lb in labels for op in ops)
                rep.add(f"[{store}] growth requests non-2xx", bad, "", "0", bad == 0)
            if store == "memory":
                rep.add(
                    "[memory] RSS idle (bench tenant created)",
                    g.get("rss_idle_mb"),
                    "MB",
                    "<= 100 MB",
                    le(g.get("rss_idle_mb"), 100),
                )
                if labels:
                    top = labels[-1]
                    rep.add(f"[memory] RSS at {top} entities", levels[top]["rss_mb"], "MB")
            if store == "tinydb":
                rep.add("[tinydb] file size after shutdown", g.get("db_file_mb"), "MB")
            rep.add(
                f"[{store}] fill rate (control plane, 8 threads)",
                g["entities_added"] / g["levels"][labels[-1]]["fill_s_cumulative"]
                if labels and g["levels"][labels[-1]]["fill_s_cumulative"]
                else None,
                "entities/s",
            )

    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    meta["wall_s"] = time.perf_counter() - t_start
    print()
    print(f"mockserver benchmark{' (--quick)' if q else ''}: {meta['server_cmd']}")
    print(
        f"version {meta.get('server_version')}, {meta['cpus']} CPUs, wrk {duration:g} s per run, "
        f"took {meta['wall_s']:.0f} s"
    )
    print()
    rep.print()
    bl.write_json(args.out, {"meta": meta, "metrics": rep.rows, "details": details})
    print(f"\nJSON written to {args.out}")
    if not q:
        meta["machine"], meta["duration"] = machine(), duration
        Path(args.page).parent.mkdir(parents=True, exist_ok=True)
        Path(args.page).write_text(rep.markdown(meta))
        print(f"the documentation's page written to {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
