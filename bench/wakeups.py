"""Thread wake-ups and CPU time per request, mockserver beside the floor (bare Flask on granian's WSGI interface).

Usage (from the repository root, as root, with Linux's ``perf`` installed)::

    python bench/wakeups.py [--duration 3]

Each call of ``make bench`` (and the floor's health) is sent by ``wrk -t1 -c1`` while ``perf stat
-a -e sched:sched_wakeup`` counts every wake-up of a thread on the machine; the count divided by
the requests answered is printed beside the machine's cost of one wake-up across cores and within
one (``benchlib.wake_up_us``). wrk's own wake-ups (the answer arriving, its timer) are counted for
both servers alike. At one connection a request waits through each of its wake-ups in turn, so
their number times their cost is a floor under its latency that no code of the server's removes.

A second wrk run of each call is made under ``perf record -e task-clock`` attached to the
server's process (and its workers): the server's CPU time per request, split by where it ran --
Python's interpreter and the C extensions it calls, granian's Rust, the kernel (sockets, futexes,
the scheduler's switches) and the rest (libc) -- beside the wall time of a request. At one
connection the server is idle for the rest of a request's time: the answer travelling to wrk,
wrk's own work, and the request travelling back. perf's sampling (1 kHz) makes each request slower
by a few per cent, alike for both servers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile

import benchlib as bl
import requests


def wrk_c1(url: str, lua: str, duration: float) -> list[str]:
    """The command of every measured run: wrk with one thread and one connection."""
    return ["wrk", "-t1", "-c1", f"-d{max(1, round(duration))}s", "-s", lua, url]


def answered_in(wrk_output: str) -> tuple[int, float]:
    """The requests a wrk run answered, and the seconds it took."""
    found = re.search(r"(\d+) requests in ([\d.]+)s", wrk_output)
    if not found:
        raise SystemExit(f"cannot read the run:\n{wrk_output}")
    return int(found.group(1)), float(found.group(2))


def wakeups(url: str, lua: str, duration: float) -> tuple[int, float]:
    """Requests answered in one wrk run, and the machine's wake-ups per request meanwhile."""
    with tempfile.NamedTemporaryFile("r", suffix=".perf") as out:
        cmd = ["perf", "stat", "-a", "-x,", "-e", "sched:sched_wakeup", "-o", out.name, "--"]
        run = subprocess.run(cmd + wrk_c1(url, lua, duration), capture_output=True, text=True, timeout=duration + 60)
        if run.returncode != 0:
            raise SystemExit(f"perf stat failed ({run.returncode}): {run.stderr.strip()}")
        counted = next((line for line in out.read().splitlines() if "sched_wakeup" in line), "")
    answered, _ = answered_in(run.stdout)
    if not counted.split(",")[0].isdigit():
        raise SystemExit(f"cannot read perf's count: {counted!r}")
    return answered, int(counted.split(",")[0]) / answered


# One sample per this much of a thread's CPU time (task-clock counts nanoseconds).
SAMPLE_NS = 1_000_000
# Where a sample ran, by the shared object perf names (the first that matches).
PLACES = (("granian", "_granian"), ("kernel", "[kernel"), ("Python", "python"), ("Python", ".cpython-"))


def cpu_split(url: str, lua: str, duration: float, pid: int) -> tuple[int, float, dict[str, float]]:
    """One wrk run under perf: requests answered, a request's wall time, the server's CPU per request by place (us)."""
    with tempfile.TemporaryDirectory() as d:
        data = f"{d}/perf.data"
        pids = ",".join(str(p) for p in bl.descendants(pid))
        cmd = ["perf", "record", "-q", "-e", "task-clock", "-c", str(SAMPLE_NS), "-p", pids, "-o", data, "--"]
        run = subprocess.run(cmd + wrk_c1(url, lua, duration), capture_output=True, text=True, timeout=duration + 60)
        report_cmd = ["perf", "report", "-i", data, "--sort", "dso", "-n", "--stdio"]
        report = subprocess.run(report_cmd, capture_output=True, text=True, timeout=120)
    if run.returncode != 0 or report.returncode != 0:
        raise SystemExit(f"perf record failed ({run.returncode}): {run.stderr.strip()} {report.stderr.strip()}")
    answered, seconds = answered_in(run.stdout)
    split: dict[str, float] = {}
    for line in report.stdout.splitlines():
        fields = line.split()
        if line.startswith("#") or len(fields) < 3 or not fields[1].isdigit():
            continue
        place = next((name for name, mark in PLACES if mark in fields[2]), "other")
        split[place] = split.get(place, 0.0) + int(fields[1]) * SAMPLE_NS / 1000 / answered
    return answered, seconds * 1e6 / answered, split


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    args = ap.parse_args(argv)
    if shutil.which("perf") is None:
        raise SystemExit("perf not found (Debian: apt-get install -y linux-perf)")
    bl.ensure_wrk()
    bl.compile_bytecode()
    wake = bl.wake_up_costs()
    cmd = bl.default_server_cmd()
    rows, cpu_rows = [], []
    with bl.start_mockserver(cmd) as srv, bl.start_floor(cmd) as floor, tempfile.TemporaryDirectory() as d:
        session = requests.Session()
        for call in [bl.FLOOR_CALL, *bl.CALLS]:
            lua = bl.write_lua(call, d)
            servers = [("floor: bare Flask ", floor)] if call is bl.FLOOR_CALL else []
            for who, server in [*servers, ("mockserver ", srv)]:
                url, name = server.url + call["path"], who + call["name"]
                fresh = server is srv  # every run of mockserver's starts from a reset, rate limits off
                if fresh:
                    bl.mock_prepare(session, srv.url)
                answered, per = wakeups(url, lua, args.duration)
                rows.append([name, f"{answered:,}", f"{per:.2f}"])
                if fresh:
                    bl.mock_prepare(session, srv.url)
                answered, wall, split = cpu_split(url, lua, args.duration, server.pid)
                places = [f"{split.get(place, 0.0):.0f}" for place in ("Python", "granian", "kernel", "other")]
                cpu_rows.append([name, f"{wall:.0f}", f"{sum(split.values()):.0f}", *places])
    cross, same = bl.fmt_num(wake["cross_core_us"], "us"), bl.fmt_num(wake["same_core_us"], "us")
    print(f"a thread's wake-up: {cross} from another core, {same} on its own")
    bl.print_table(["wrk -t1 -c1", "requests", "wake-ups per request"], rows)
    print()
    print("the server's CPU time per request (perf record -e task-clock), us")
    headers = ["wrk -t1 -c1", "wall", "CPU", "Python", "granian", "kernel", "other"]
    bl.print_table(headers, cpu_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
