"""One lock order: brand-new keys of both APIs authenticate while resets run, with no hang and no 5xx."""

from __future__ import annotations

import base64
import threading

from mockserver.app import create_app

SECONDS = 3.0


def test_reset__while_new_keys_of_both_apis_authenticate__no_hang_and_no_5xx():
    app = create_app({"store": "memory", "seed": 42, "seed_count": 2})
    stop = threading.Event()
    problems: list[str] = []
    counts = {"collect": 0, "insigner": 0, "reset": 0}

    def collect_worker(worker: int) -> None:
        client = app.test_client()
        n = 0
        while not stop.is_set():
            n += 1
            token = base64.b64encode(f":collect-{worker}-{n}".encode()).decode()
            answer = client.post(
                "/v1/requests",
                headers={"Authorization": f"Basic {token}"},
                json={"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]},
            )
            if answer.status_code >= 500:
                problems.append(f"collect {answer.status_code} {answer.get_data(as_text=True)}")
            counts["collect"] += 1

    def insigner_worker(worker: int) -> None:
        client = app.test_client()
        n = 0
        while not stop.is_set():
            n += 1
            key = "isk_" + f"w{worker}n{n}".ljust(44, "x")
            answer = client.get("/api/v1/bulk-sends?limit=1", headers={"Authorization": f"Bearer {key}"})
            if answer.status_code >= 500:
                problems.append(f"insigner {answer.status_code} {answer.get_data(as_text=True)}")
            counts["insigner"] += 1

    def resetter() -> None:
        client = app.test_client()
        while not stop.is_set():
            answer = client.post("/__mock/reset")
            if answer.status_code != 200:
                problems.append(f"reset {answer.status_code} {answer.get_data(as_text=True)}")
            counts["reset"] += 1

    threads = [threading.Thread(target=collect_worker, args=(n,), daemon=True) for n in range(2)]
    threads += [threading.Thread(target=insigner_worker, args=(n,), daemon=True) for n in range(2)]
    threads.append(threading.Thread(target=resetter, daemon=True))
    for thread in threads:
        thread.start()
    stop.wait(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"threads still blocked after {SECONDS}s + 10s (a lock-order deadlock): {hung}"
    assert not problems, problems[:5]
    assert counts["collect"] and counts["insigner"] and counts["reset"] > 1, counts
