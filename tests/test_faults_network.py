"""Fault kinds where the network matters, on a real socket: delay, drop, malformed, Prefer: delay.

The delays here are the feature under test, so these are the only tests that wait on wall time.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from helpers import COLLECT_KEY, basic, start_serve

SEND = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}


@pytest.fixture
def settings() -> dict:
    return {"store": "memory", "seed": 42}


@pytest.fixture
def url(live_server) -> str:
    return live_server.url


def add(url: str, **rule) -> dict:
    response = requests.post(f"{url}/__mock/faults", json=rule, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def send(url: str, session: requests.Session | None = None, **headers) -> requests.Response:
    return (session or requests).post(
        f"{url}/v1/requests", json=SEND, headers={**basic(COLLECT_KEY), **headers}, timeout=10
    )


def journal(url: str) -> list[dict]:
    return requests.get(f"{url}/__mock/requests", timeout=5).json()["requests"]


def test_fault_delay__does_not_stall_other_clients(url):
    add(url, api="collect", kind="delay", delayMs=1500, times=1)
    # Two clients send at once: whichever arrives first is delayed, and the other arrives during
    # that delay. A server that held it up would make both slow.
    start = threading.Barrier(2)
    answers: list[tuple[float, int]] = []

    def client() -> None:
        start.wait(timeout=5)
        started = time.monotonic()
        status = send(url).status_code
        answers.append((time.monotonic() - started, status))

    workers = [threading.Thread(target=client) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    (fast, fast_status), (slow, slow_status) = sorted(answers)
    assert slow_status == 200 and slow >= 1.5
    assert fast_status == 200 and fast < 1.0, f"a delayed request stalled another client for {fast:.2f}s"
    delayed_entry = next(entry for entry in journal(url) if entry["faultId"] == "flt_1")
    assert delayed_entry["durationMs"] >= 1500 and delayed_entry["status"] == 200


def test_prefer_delay__waits_then_answers_normally(url):
    started = time.monotonic()
    response = send(url, Prefer="delay=200")
    assert response.status_code == 200 and time.monotonic() - started >= 0.2
    assert journal(url)[-1]["faultId"] == "prefer"


def test_fault_drop__closes_the_connection_without_an_answer(url):
    add(url, api="collect", kind="drop", times=1)
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ConnectionError):
            send(url, session)
        assert send(url, session).status_code == 200
    # The dropped request's entry is written once its view returns, which under load can be after
    # the next request's: find it by its fault, not by its place.
    entry = next(e for e in journal(url) if e["faultId"] == "flt_1")
    assert entry["status"] is None
    assert requests.get(f"{url}/__mock/health", timeout=5).status_code == 200


def test_fault_malformed__unparseable_json_over_the_socket(url):
    add(url, api="collect", kind="malformed", times=1)
    response = send(url)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


@pytest.mark.slow
def test_fault_drop__under_serve(tmp_path):
    served = start_serve(cwd=tmp_path)
    try:
        url = served.url
        add(url, api="collect", kind="drop", times=1)
        with requests.Session() as idle, requests.Session() as session:
            # An idle keep-alive connection from the same address must survive the drop.
            assert idle.get(f"{url}/__mock/health", timeout=5).status_code == 200
            with pytest.raises(requests.exceptions.ConnectionError):
                send(url, session)
            assert idle.get(f"{url}/__mock/health", timeout=5).status_code == 200
            assert send(url, session).status_code == 200
        assert [entry["status"] for entry in journal(url)] == [None, 200]
    finally:
        served.stop()
