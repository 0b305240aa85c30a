"""Shared helpers for bench/run.py and bench/peers.py (not a standalone script).

Python 3.11 stdlib + ``requests`` only; load is generated with ``wrk``.
Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import collections
import compileall
import contextlib
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from mockserver.apis.collect import examples as collect_examples
from mockserver.apis.insigner import examples as insigner_examples

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

# --------------------------------------------------------------------------
# Credentials and the vendors' example bodies
# --------------------------------------------------------------------------

COLLECT_KEY = "bench-collect-key"
# inSigner: "isk_" + 44 URL-safe characters (33 bytes -> 44 base64 chars, no padding).
INSIGNER_KEY = "isk_" + base64.urlsafe_b64encode(hashlib.sha256(b"mockserver-bench").digest() + b"\x00").decode()
if len(INSIGNER_KEY) != 48 or "=" in INSIGNER_KEY:
    raise RuntimeError("the bench's inSigner key is not isk_ and 44 URL-safe characters")

COLLECT_AUTH = "Basic " + base64.b64encode((":" + COLLECT_KEY).encode()).decode()
INSIGNER_AUTH = "Bearer " + INSIGNER_KEY
# A second organization that keeps only the seed data: the growth phase times it beside the big one.
REFERENCE_KEY = (
    "isk_" + base64.urlsafe_b64encode(hashlib.sha256(b"mockserver-bench-reference").digest() + b"\x00").decode()
)
REFERENCE_AUTH = "Bearer " + REFERENCE_KEY

# The vendors' example requests, from their one copy in the package.
COLLECT_EXAMPLE_BODY = collect_examples.SEND_MULTIPLE_REQUESTS_REQUEST
INSIGNER_EXAMPLE_BODY = insigner_examples.CREATE_REQUEST


def bulk_body(n_signers: int, name: str = "Bench bulk send") -> dict:
    return {
        "templateId": "tpl_abc123",
        "name": name,
        "emailMessage": "Please sign your vendor agreement for Q3.",
        "signers": [
            {"name": f"Signer {i}", "email": f"signer{i}@vendor-{i % 97}.example.com"} for i in range(n_signers)
        ],
    }


# The three calls measured with wrk: (name, method, path, headers, body-or-None)
CALLS = [
    {
        "name": "collect POST /v1/requests",
        "key": "collect_send",
        "method": "POST",
        "path": "/v1/requests",
        "headers": {"Authorization": COLLECT_AUTH, "Content-Type": "application/json"},
        "body": COLLECT_EXAMPLE_BODY,
    },
    {
        "name": "insigner GET /api/v1/bulk-sends/bs_abc123",
        "key": "insigner_get",
        "method": "GET",
        "path": "/api/v1/bulk-sends/bs_abc123",
        "headers": {"Authorization": INSIGNER_AUTH},
        "body": None,
    },
    {
        "name": "insigner POST /api/v1/bulk-sends",
        "key": "insigner_create",
        "method": "POST",
        "path": "/api/v1/bulk-sends",
        "headers": {"Authorization": INSIGNER_AUTH, "Content-Type": "application/json"},
        "body": INSIGNER_EXAMPLE_BODY,
    },
]

# mockserver's health: no credentials, store or journal. Measured beside the floor of the design
# (bench/floor_app.py: bare Flask on granian's WSGI interface), as is every documented call.
FLOOR_CALL = {
    "name": "GET /__mock/health",
    "key": "floor_health",
    "method": "GET",
    "path": "/__mock/health",
    "headers": {},
    "body": None,
}

# (threads, connections) pairs used with wrk.
CONCURRENCY = [(1, 1), (2, 16)]

RATE_LIMITS_OFF = {"insigner": {"enabled": False}, "collect": {"enabled": False}}


# --------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def compile_bytecode() -> None:
    """Compile the package's bytecode, as pip does when it installs it, before any start-up is timed.

    An editable checkout has none until Python writes it, and never under PYTHONDONTWRITEBYTECODE=1
    (CI images and Docker often set it): then every start compiles every module, about 70 ms of a
    0.28 s start measured on a 2-core machine, which no installed server pays.
    """
    compileall.compile_dir(str(REPO_DIR / "mockserver"), quiet=1)


def wake_up_us(cores: tuple[int, int], n: int = 4000) -> float | None:
    """Microseconds for one thread to wake another: two threads, each held on its core of `cores`,
    pass a token back and forth through two eventfds (the kind of wake-up granian's runtime and an
    event loop make to hand a request over), round trips / 2, best of 3. None where the system
    has no eventfd or thread affinity (not Linux) or cannot give the threads those cores.

    A request's way through a server is a chain of such wake-ups (client -> server thread -> ...
    -> client); on a virtual machine whose idle cores halt, one across cores can cost eight times
    one within a core, and that decides a server's latency at one connection more than its code.
    """
    if not (hasattr(os, "eventfd") and hasattr(os, "sched_setaffinity")):
        return None
    allowed = os.sched_getaffinity(0)
    if not set(cores) <= allowed:
        return None
    ping, pong = os.eventfd(0), os.eventfd(0)
    before = os.sched_getaffinity(0)

    def peer():
        os.sched_setaffinity(0, {cores[1]})
        for _ in range(3 * n):
            os.eventfd_read(ping)
            os.eventfd_write(pong, 1)

    best = None
    try:
        os.sched_setaffinity(0, {cores[0]})
        thread = threading.Thread(target=peer, daemon=True)
        thread.start()
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(n):
                os.eventfd_write(ping, 1)
                os.eventfd_read(pong)
            one = (time.perf_counter() - t0) / n / 2 * 1e6
            best = one if best is None else min(best, one)
        thread.join(10)
    finally:
        os.sched_setaffinity(0, before)
        os.close(ping)
        os.close(pong)
    return best


def wake_up_costs() -> dict[str, float | None]:
    """`wake_up_us` across the first two cores this process may use, and within the first."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return {
        "cross_core_us": wake_up_us((cpus[0], cpus[1])) if len(cpus) > 1 else None,
        "same_core_us": wake_up_us((cpus[0], cpus[0])) if cpus else None,
    }


def percentile(values, p: float):
    """Nearest-rank percentile (p in 0..100); None for an empty list."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def median(values):
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_calls(session: requests.Session, n: int, fn, max_s: float | None = None):
    """Call fn(session, i) n times sequentially (stopping early, after at least
    10 calls, once max_s seconds have passed); returns (latencies_ms, statuses)."""
    lat, statuses = [], collections.Counter()
    start = time.perf_counter()
    for i in range(n):
        if max_s is not None and i >= 10 and time.perf_counter() - start > max_s:
            break
        t0 = time.perf_counter()
        r = fn(session, i)
        lat.append((time.perf_counter() - t0) * 1000.0)
        statuses[r.status_code] += 1
    return lat, statuses


def non_2xx(statuses: collections.Counter) -> int:
    return sum(c for s, c in statuses.items() if not 200 <= s <= 299)


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

URL_RE = re.compile(r"http://[^\s\"'<>]+")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (a server's workers)."""
    children = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pid: int) -> float | None:
    """VmRSS of pid plus its descendants, in MiB (from /proc/<pid>/status)."""
    total_kb, found = 0, False
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        found = True
                        break
        except OSError:
            continue
    return total_kb / 1024.0 if found else None


class ServerProcess:
    """A server child process whose stdout/stderr are drained by threads.

    If ``url`` is None the URL is taken from the first stdout line containing
    ``http://``. ``startup_s`` is the wall time from spawn to the first 200 from
    ``health_path`` (polled every 5 ms).
    """

    def __init__(self, cmd, health_path, url=None, env=None, cwd=None, timeout=60.0, name="server"):
        self.cmd = list(cmd)
        self.name = name
        self.health_path = health_path
        self.tail = collections.deque(maxlen=60)
        self._url_event = threading.Event()
        self.url = url
        self.startup_s = None
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, False), daemon=True),
        ]
        for t in self._threads:
            t.start()
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _drain(self, stream, is_stdout):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.tail.append(("out| " if is_stdout else "err| ") + line)
            if is_stdout and self.url is None and not self._url_event.is_set():
                m = URL_RE.search(line)
                if m:
                    u = m.group(0).rstrip(".,;:)]}/")
                    # only ever send traffic to 127.0.0.1
                    u = re.sub(r"^http://(localhost|0\.0\.0\.0|\[::\]|\[::1\])(?=[:/]|$)", "http://127.0.0.1", u)
                    self.url = u
                    self._url_event.set()
        stream.close()

    def _fail(self, why):
        tail = "\n".join(self.tail)
        raise RuntimeError(f"{self.name}: {why}\ncommand: {shlex.join(self.cmd)}\nlast output:\n{tail}")

    def _wait_healthy(self, timeout):
        deadline = self.t0 + timeout
        if self.url is None:
            while not self._url_event.wait(0.005):
                if self.proc.poll() is not None:
                    time.sleep(0.1)
                    self._fail(f"exited with status {self.proc.returncode} before printing its URL")
                if time.perf_counter() > deadline:
                    self._fail("no line with http:// on stdout")
        health = self.url + self.health_path
        # a fresh connection per probe: the server may not accept yet
        while True:
            try:
                r = requests.get(health, timeout=2)
                if r.status_code == 200:
                    self.startup_s = time.perf_counter() - self.t0
                    self.health = r
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                time.sleep(0.1)
                self._fail(f"exited with status {self.proc.returncode} before becoming healthy")
            if time.perf_counter() > deadline:
                self._fail(f"{health} not 200 after {timeout:.0f} s")
            time.sleep(0.005)

    @property
    def pid(self):
        return self.proc.pid

    def rss_mb(self):
        return rss_mb(self.proc.pid)

    def stop(self, timeout=15.0):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        for t in self._threads:
            t.join(2)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def default_server_cmd() -> list[str]:
    """`mockserver serve --port 0 --seed 42` from this Python environment.

    Falls back to the repository's .venv if this interpreter cannot import
    mockserver (a note is printed).
    """
    import importlib.util

    py = sys.executable
    if importlib.util.find_spec("mockserver") is None:
        venv_py = REPO_DIR / ".venv" / "bin" / "python"
        if venv_py.exists():
            log(f"mockserver is not importable from {sys.executable}; using {venv_py}")
            py = str(venv_py)
    return [py, "-m", "mockserver", "serve", "--port", "0", "--seed", "42"]


def server_cmd_from_arg(arg: str | None) -> list[str]:
    return shlex.split(arg) if arg else default_server_cmd()


def start_floor(cmd, timeout=60.0):
    """Start bench/floor_app.py (bare Flask) on granian's WSGI interface, from the server's environment.

    `cmd` is the mockserver command; granian is taken from beside its Python.
    """
    granian = Path(cmd[0]).with_name("granian")
    if not granian.exists():
        granian = Path(shutil.which("granian") or "granian")
    port = free_port()
    args = [str(granian), "--interface", "wsgi", "--workers", "1", "--blocking-threads", "1"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "floor_app:app"]
    return ServerProcess(
        args, "/__mock/health", url=f"http://127.0.0.1:{port}", cwd=str(BENCH_DIR), timeout=timeout, name="floor"
    )


def sequential_ms(url: str, method: str, path: str, n: int, body: bytes | None = None, headers=None) -> dict:
    """n sequential calls over one keep-alive http.client connection (as a CI job's client sends
    them; requests would add its own ~0.5 ms a call): their latencies in ms and statuses."""
    import http.client
    import urllib.parse

    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    lat, statuses = [], {}
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            answer.read()
            lat.append((time.perf_counter() - t0) * 1000.0)
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
    finally:
        conn.close()
    return {"latencies_ms": lat, "statuses": statuses}


def start_mockserver(cmd, extra_args=(), env=None, timeout=60.0):
    return ServerProcess(
        list(cmd) + list(extra_args), "/__mock/health", env=env, cwd=str(REPO_DIR), timeout=timeout, name="mockserver"
    )


_warned = set()


def _warn_once(key, msg):
    if key not in _warned:
        _warned.add(key)
        log("WARNING: " + msg)


def mock_prepare(session: requests.Session, url: str, reset=True) -> bool:
    """Reset (optional), then switch every rate limit off (reset restores them).

    A failing control call is reported once and does not stop the benchmark
    (its effect shows up as non-2xx answers); returns True when both worked.
    """
    ok = True
    if reset:
        r = session.post(url + "/__mock/reset", timeout=30)
        if r.status_code != 200:
            ok = False
            _warn_once("reset", f"POST /__mock/reset answered {r.status_code}: {r.text[:200]}")
    r = session.put(url + "/__mock/rate-limits", json=RATE_LIMITS_OFF, timeout=30)
    if r.status_code != 200:
        ok = False
        _warn_once(
            "rate-limits",
            f"PUT /__mock/rate-limits answered {r.status_code}: {r.text[:200]} (rate limits may still be on)",
        )
    return ok


def check_call(session: requests.Session, url: str, call: dict):
    """One request of a benchmark call; returns (status, first 300 chars of body)."""
    r = session.request(
        call["method"],
        url + call["path"],
        headers=call["headers"],
        data=None if call["body"] is None else json.dumps(call["body"]),
        timeout=30,
    )
    return r.status_code, r.text[:300]


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    cmds = [["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]]
    print("wrk not found; installing it from Debian:", flush=True)
    for c in cmds:
        print("  $ " + shlex.join(c), flush=True)
        subprocess.run(c, check=True)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk still not found after apt-get install -y wrk")
    return path


def _lua_string(s: str) -> str:
    level = 1
    while ("]" + "=" * level + "]") in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[{s}]{eq}]"


LUA_TEMPLATE = """-- generated by bench/benchlib.py: %(name)s
wrk.method = %(method)s
%(body)s
%(headers)s

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  responses = 0
  non2xx = 0
  first_bad = ""
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(string.gsub(body or "", "%%s+", " "), 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local n, total, bad = 0, 0, ""
  for _, t in ipairs(threads) do
    n = n + (t:get("non2xx") or 0)
    total = total + (t:get("responses") or 0)
    local fb = t:get("first_bad")
    if bad == "" and fb ~= nil and fb ~= "" then bad = fb end
  end
  io.write(string.format("BENCH non2xx=%%d responses=%%d\\n", n, total))
  io.write(string.format("BENCH p50_us=%%d p99_us=%%d\\n",
    latency:percentile(50.0), latency:percentile(99.0)))
  if bad ~= "" then io.write("BENCH first_bad=" .. bad .. "\\n") end
end
"""


def write_lua(call: dict, directory: str) -> str:
    body = ""
    if call["body"] is not None:
        body = "wrk.body = " + _lua_string(json.dumps(call["body"], separators=(",", ":")))
    headers = "\n".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in call["headers"].items())
    text = LUA_TEMPLATE % {
        "name": call["name"],
        "method": _lua_string(call["method"]),
        "body": body,
        "headers": headers,
    }
    path = os.path.join(directory, call["key"] + ".lua")
    with open(path, "w") as f:
        f.write(text)
    return path


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk duration {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> dict:
    res = {}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    res["requests"] = int(m.group(1)) if m else None
    dist = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", out, re.M))
    res["p50_ms"] = _to_ms(dist["50"]) if "50" in dist else None
    res["p99_ms"] = _to_ms(dist["99"]) if "99" in dist else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["wrk_non2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"BENCH non2xx=(\d+) responses=(\d+)", out)
    if m:
        res["non2xx"], res["responses"] = int(m.group(1)), int(m.group(2))
    else:
        res["non2xx"], res["responses"] = None, None
    m = re.search(r"BENCH p50_us=(\d+) p99_us=(\d+)", out)
    if m:  # exact values from wrk's histogram (the text table rounds to 2 decimals)
        res["p50_ms"], res["p99_ms"] = int(m.group(1)) / 1000.0, int(m.group(2)) / 1000.0
    m = re.search(r"BENCH first_bad=(.*)", out)
    res["first_bad"] = m.group(1).strip() if m else None
    return res


def run_wrk(url: str, lua: str, threads: int, conns: int, duration: float, timeout_s: int = 5) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        f"--timeout={timeout_s}s",
        "-s",
        lua,
        url,
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {shlex.join(cmd)}\n{p.stdout}\n{p.stderr}")
    res = parse_wrk(p.stdout)
    res["command"] = shlex.join(cmd)
    if res["rps"] is None or res["non2xx"] is None or p.stderr.strip():
        # wrk exits 0 even when the Lua script fails to load (it then sends
        # plain GETs), so a missing BENCH line or anything on stderr is fatal.
        raise RuntimeError(f"wrk run invalid: {shlex.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return res


def bench_against_floor(url: str, floor_url: str, duration: float, warmup: float, rounds: int, before_each=None):
    """wrk the floor (bare Flask), then each call of mockserver, at each concurrency, `rounds` times.

    Rounds alternate which server goes first at each concurrency, so a machine's drift over
    minutes falls on both. Returns {"floor": {key: [run per round]}, "calls": {key: [run per round]}}.
    """
    floor_runs, call_runs = collections.defaultdict(list), collections.defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-lua-") as d:
        by_key = {call["key"]: call for call in [FLOOR_CALL, *CALLS]}
        luas = {key: write_lua(call, d) for key, call in by_key.items()}
        for n in range(rounds):
            for threads, conns in CONCURRENCY:
                floor_first = n % 2 == 0
                order = ["floor", *by_key]
                if not floor_first:
                    order = [*order[1:], "floor"]
                for key in order:
                    call = by_key.get(key, FLOOR_CALL)
                    target = floor_url if key == "floor" else url
                    if key != "floor" and before_each:
                        before_each(call)
                    lua = luas[call["key"]]
                    if warmup > 0:
                        run_wrk(target + call["path"], lua, threads, conns, warmup)
                    r = run_wrk(target + call["path"], lua, threads, conns, duration)
                    r = dict(r, call=call["name"], conns=conns, threads=threads)
                    (floor_runs if key == "floor" else call_runs)[f"{call['key']}@c{conns}"].append(r)
                    who = "bare Flask on granian" if key == "floor" else "mockserver"
                    log(
                        f"round {n + 1}: {who} {call['name']} c={conns}: {r['rps']:.0f} req/s "
                        f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms non-2xx {r['non2xx']}"
                    )
    return {"floor": dict(floor_runs), "calls": dict(call_runs)}


def bench_calls(url: str, duration: float, warmup: float, before_each=None, label: str = "", calls=None) -> dict:
    """wrk each call (default: CALLS) at each concurrency. before_each() runs before every
    measurement (e.g. reset + rate limits off); a warm-up run precedes it."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-lua-") as d:
        for call in calls or CALLS:
            lua = write_lua(call, d)
            for threads, conns in CONCURRENCY:
                if before_each:
                    before_each(call)
                if warmup > 0:
                    run_wrk(url + call["path"], lua, threads, conns, warmup)
                r = run_wrk(url + call["path"], lua, threads, conns, duration)
                results[f"{call['key']}@c{conns}"] = dict(r, call=call["name"], conns=conns, threads=threads)
                log(
                    f"{label}{call['name']} c={conns}: {r['rps']:.0f} req/s "
                    f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms non-2xx {r['non2xx']}"
                    + (f" (first: {r['first_bad']})" if r.get("first_bad") else "")
                )
    return results


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def fmt_num(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 1000:
            s = f"{v:,.0f}"
        elif abs(v) >= 100:
            s = f"{v:.1f}"
        elif abs(v) >= 1:
            s = f"{v:.2f}"
        else:
            s = f"{v:.3f}"
    else:
        s = f"{v:,}" if isinstance(v, int) else str(v)
    return f"{s} {unit}".rstrip()


def print_table(headers, rows, file=None):
    file = file or sys.stdout
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(str(c)))
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    print(line, file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for r in rows:
        print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip(), file=file)
    file.flush()


def write_json(path: str, data) -> None:
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")


def machine_info() -> dict:
    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    with contextlib.suppress(OSError):
        info["loadavg_start"] = Path("/proc/loadavg").read_text().split()[:3]
    with contextlib.suppress(OSError, IndexError):
        info["wrk"] = (
            subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0].strip()
        )
    return info
