"""Crashes: a server killed with SIGKILL mid-burst restarts with every write it acknowledged."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import Served, run_serve, start_serve

pytestmark = pytest.mark.slow

AUTH = "Basic " + base64.b64encode(b":collect_test_key").decode()
INSIGNER_KEY = "isk_TestFullAccessKey___________________00000000"


def start(db: Path) -> Served:
    return start_serve("--store", "tinydb", "--db", str(db), "--log-level", "warning")


def post(url: str, email: str) -> str | None:
    body = json.dumps({"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": email}]}).encode()
    request = urllib.request.Request(
        url + "/v1/requests",
        data=body,
        method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())["requests"][0]["_id"]
    except (OSError, urllib.error.URLError, ValueError):
        return None


def burst_then_kill(served: Served, write, count: int, at_least: int) -> list[str]:
    """Run 4 writers (`write(n, i)` returns an acknowledged id or None); SIGKILL the server mid-burst.

    The kill comes once `at_least` writes are acknowledged, not at a fixed time. Return the ids.
    """
    acknowledged: list[str] = []
    progress = threading.Condition()
    killed = threading.Event()
    running = [4]

    def writer(n: int) -> None:
        i = 0
        while not killed.is_set() and i < count:
            written = write(n, i)
            if written is not None:
                with progress:
                    acknowledged.append(written)
                    progress.notify_all()
            i += 1
        with progress:
            running[0] -= 1
            progress.notify_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    with progress:
        progress.wait_for(lambda: len(acknowledged) >= at_least or not running[0], timeout=120)
    served.kill()
    killed.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= at_least
    return acknowledged


def test_sigkill_mid_burst__restart_keeps_every_acknowledged_write(tmp_path):
    db = tmp_path / "state.json"
    served = start(db)
    acknowledged = burst_then_kill(served, lambda n, i: post(served.url, f"w{n}-{i}@example.com"), 400, 60)

    served = start(db)
    try:
        with urllib.request.urlopen(served.url + "/__mock/state/collect/requests?tenant=collect_test_key") as answer:
            stored = {item["_id"] for item in json.loads(answer.read())["items"]}
    finally:
        served.stop()
    assert set(acknowledged) <= stored
    assert json.loads(db.read_text())  # a whole TinyDB file after the clean stop
    assert not (tmp_path / "state.json.wal").exists()


def test_damaged_file__clear_startup_error_not_an_empty_store(tmp_path):
    db = tmp_path / "state.json"
    db.write_text('{"collect/x/contacts": {"1": {"_id": ')
    result = run_serve("--port", "0", "--store", "tinydb", "--db", str(db))
    assert result.returncode != 0
    assert "state.json" in result.stderr and "Traceback" not in result.stderr
    assert db.read_text() == '{"collect/x/contacts": {"1": {"_id": '


def create_bulk_send(url: str, name: str, signers: int) -> str | None:
    body = json.dumps(
        {
            "templateId": "tpl_abc123",
            "name": name,
            "signers": [{"name": f"S{k}", "email": f"{name}-{k}@example.com"} for k in range(signers)],
        }
    )
    headers = {"Authorization": f"Bearer {INSIGNER_KEY}", "Content-Type": "application/json"}
    request = urllib.request.Request(url + "/api/v1/bulk-sends", data=body.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())["data"]["id"]
    except (OSError, urllib.error.URLError, ValueError):
        return None


def read_state(url: str, collection: str) -> list[dict]:
    with urllib.request.urlopen(
        f"{url}/__mock/state/insigner/{collection}?tenant={INSIGNER_KEY}", timeout=10
    ) as response:
        return json.loads(response.read())["items"]


def test_sigkill_mid_burst__insigner_creates_are_whole_after_restart(tmp_path):
    db = tmp_path / "state.json"
    served = start(db)
    no_limits = b'{"insigner": {"enabled": false}}'
    request = urllib.request.Request(
        served.url + "/__mock/rate-limits", method="PUT", data=no_limits, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=5).close()
    url = served.url
    acknowledged = burst_then_kill(served, lambda n, i: create_bulk_send(url, f"burst{n}x{i}", 1 + i % 3), 300, 40)

    served = start(db)
    try:
        bulk_sends = {b["id"]: b for b in read_state(served.url, "bulkSends") if b["name"].startswith("burst")}
        documents = read_state(served.url, "documents")
        template = next(t for t in read_state(served.url, "templates") if t["id"] == "tpl_abc123")
    finally:
        served.stop()
    assert set(acknowledged) <= set(bulk_sends)
    # Each create is one transaction: a bulk send on disk has all its documents and its template count.
    per_bulk_send = {bulk_send_id: 0 for bulk_send_id in bulk_sends}
    for document in documents:
        if document.get("bulkSendId") in per_bulk_send:
            per_bulk_send[document["bulkSendId"]] += 1
    assert all(per_bulk_send[i] == b["totalCount"] for i, b in bulk_sends.items())
    assert all(d["bulkSendId"] in bulk_sends for d in documents if d["name"].startswith("burst"))  # no orphans
    assert template["usageCount"] == 47 + sum(b["totalCount"] for b in bulk_sends.values())
