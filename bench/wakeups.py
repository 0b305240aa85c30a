"""Thread wake-ups per request, mockserver beside the floor (bare Flask on granian's WSGI interface).

Usage (from the repository root, as root, with Linux's ``perf`` installed)::

    python bench/wakeups.py [--duration 3]

Each call of ``make bench`` (and the floor's health) is sent by ``wrk -t1 -c1`` while ``perf stat
-a -e sched:sched_wakeup`` counts every wake-up of a thread on the machine; the count divided by
the requests answered is printed beside the machine's cost of one wake-up across cores and within
one (``benchlib.wake_up_us``). wrk's own wake-ups (the answer arriving, its timer) are counted for
both servers alike. At one connection a request waits through each of its wake-ups in turn, so
their number times their cost is a floor under its latency that no code of the server's removes.
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


def wakeups(url: str, lua: str, duration: float) -> tuple[int, float]:
    """Requests answered in one wrk run, and the machine's wake-ups per request meanwhile."""
    with tempfile.NamedTemporaryFile("r", suffix=".perf") as out:
        cmd = ["perf", "stat", "-a", "-x,", "-e", "sched:sched_wakeup", "-o", out.name, "--"]
        cmd += ["wrk", "-t1", "-c1", f"-d{max(1, round(duration))}s", "-s", lua, url]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
        if run.returncode != 0:
            raise SystemExit(f"perf stat failed ({run.returncode}): {run.stderr.strip()}")
        counted = next((line for line in out.read().splitlines() if "sched_wakeup" in line), "")
    requests = re.search(r"(\d+) requests in", run.stdout)
    if not requests or not counted.split(",")[0].isdigit():
        raise SystemExit(f"cannot read the run:\n{run.stdout}\n{counted}")
    answered = int(requests.group(1))
    return answered, int(counted.split(",")[0]) / answered


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
    rows = []
    with bl.start_mockserver(cmd) as srv, bl.start_floor(cmd) as floor, tempfile.TemporaryDirectory() as d:
        session = requests.Session()
        for call in [bl.FLOOR_CALL, *bl.CALLS]:
            lua = bl.write_lua(call, d)
            if call is bl.FLOOR_CALL:
                answered, per = wakeups(floor.url + call["path"], lua, args.duration)
                rows.append(["floor: bare Flask " + call["name"], f"{answered:,}", f"{per:.2f}"])
            bl.mock_prepare(session, srv.url)
            answered, per = wakeups(srv.url + call["path"], lua, args.duration)
            rows.append(["mockserver " + call["name"], f"{answered:,}", f"{per:.2f}"])
    cross, same = bl.fmt_num(wake["cross_core_us"], "us"), bl.fmt_num(wake["same_core_us"], "us")
    print(f"a thread's wake-up: {cross} from another core, {same} on its own")
    bl.print_table(["wrk -t1 -c1", "requests", "wake-ups per request"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
