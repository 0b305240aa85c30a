"""One lock order: brand-new keys of both APIs authenticate while resets run, with no hang and no 5xx."""

from __future__ import annotations

import base64
import logging
import threading
import time
from functools import partial

from mockserver.app import create_app

SECONDS = 3.0


class Deadline:
    """Each worker stops by itself at the deadline: the main thread need not win the GIL to stop them."""

    def __init__(self) -> None:
        self.end = time.monotonic() + SECONDS

    def is_set(self) -> bool:
        return time.monotonic() >= self.end


def quiet_access_log(caplog) -> None:
    """Thousands of access-log lines captured by pytest would slow the storm, not test it."""
    caplog.set_level(logging.WARNING, logger="mockserver.access")


class Storm:
    """One storm's workers: each loops until the deadline, noting what went wrong and counting its calls."""

    def __init__(self, app, *kinds: str) -> None:
        self.app = app
        self.stop = Deadline()
        self.problems: list[str] = []
        self.counts = dict.fromkeys(kinds, 0)

    def new_insigner_keys(self, tag: str):
        """A worker listing bulk sends with a brand-new key each time (a new tenant each call)."""

        def work() -> None:
            client = self.app.test_client()
            n = 0
            while not self.stop.is_set():
                n += 1
                key = "isk_" + f"{tag}n{n}".ljust(44, "x")
                answer = client.get("/api/v1/bulk-sends?limit=1", headers={"Authorization": f"Bearer {key}"})
                if answer.status_code >= 500:
                    self.problems.append(f"insigner {answer.status_code} {answer.get_data(as_text=True)}")
                self.counts["insigner"] += 1

        return work

    def resets(self) -> None:
        """A worker resetting the whole server again and again."""
        client = self.app.test_client()
        while not self.stop.is_set():
            answer = client.post("/__mock/reset")
            if answer.status_code != 200:
                self.problems.append(f"reset {answer.status_code} {answer.get_data(as_text=True)}")
            self.counts["reset"] += 1

    def run(self, workers) -> None:
        """Run the workers together; fail if any is still blocked 10 s past the deadline."""
        threads = [threading.Thread(target=work, daemon=True) for work in workers]
        for thread in threads:
            thread.start()
        deadline = self.stop.end + 10
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        hung = [thread.name for thread in threads if thread.is_alive()]
        assert not hung, f"threads still blocked after {SECONDS}s + 10s (a lock-order deadlock): {hung}"


def test_reset__while_new_keys_of_both_apis_authenticate__no_hang_and_no_5xx(caplog):
    quiet_access_log(caplog)
    storm = Storm(create_app({"store": "memory", "seed": 42, "seed_count": 2}), "collect", "insigner", "reset")

    def collect_worker(worker: int) -> None:
        client = storm.app.test_client()
        n = 0
        while not storm.stop.is_set():
            n += 1
            token = base64.b64encode(f":collect-{worker}-{n}".encode()).decode()
            answer = client.post(
                "/v1/requests",
                headers={"Authorization": f"Basic {token}"},
                json={"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]},
            )
            if answer.status_code >= 500:
                storm.problems.append(f"collect {answer.status_code} {answer.get_data(as_text=True)}")
            storm.counts["collect"] += 1

    storm.run(
        [partial(collect_worker, n) for n in range(2)]
        + [storm.new_insigner_keys(f"w{n}") for n in range(2)]
        + [storm.resets]
    )
    counts = storm.counts
    assert not storm.problems, storm.problems[:5]
    assert counts["collect"] and counts["insigner"] and counts["reset"] > 1, counts


def test_reset__while_key_scoped_fault_rules_match_requests__no_hang(caplog):
    """The fault engine resolves a rule's key to a tenant; a reset must never wait on it nor it on a reset."""
    quiet_access_log(caplog)
    app = create_app({"store": "memory", "seed": 42, "seed_count": 2})
    # As `serve`'s warm-up does: a first reset would build Faker's seed data while four threads
    # hold the GIL, which takes seconds and leaves too few resets to race.
    app.extensions["mockserver"].build_seed_data()
    storm = Storm(app, "requests", "reset", "rules")
    stop, problems, counts = storm.stop, storm.problems, storm.counts
    probe = "isk_" + "probe".ljust(44, "0")
    other = "isk_" + "other".ljust(44, "0")
    # Python's locks are not fair: requesters that retake the store's lock in a loop can starve a
    # reset for seconds. The workers race in rounds instead (each kind does its share of a round at
    # the same time as the others, then all meet), so every round races resets against rule
    # additions and matching requests. A hung worker breaks the barrier for the others.
    kinds = 5
    rounds = threading.Barrier(kinds)

    def in_rounds(step) -> None:
        client = app.test_client()
        try:
            while not stop.is_set():
                step(client)
                rounds.wait(timeout=SECONDS + 5)
        except threading.BrokenBarrierError:
            pass
        rounds.abort()  # the first to stop releases the others

    def requests_round(client) -> None:
        for _ in range(5):
            answer = client.get("/api/v1/bulk-sends?limit=1", headers={"Authorization": f"Bearer {probe}"})
            if answer.status_code >= 500 and answer.status_code != 503:
                problems.append(f"insigner {answer.status_code} {answer.get_data(as_text=True)}")
            counts["requests"] += 1

    def reset_round(client) -> None:
        answer = client.post("/__mock/reset")
        if answer.status_code != 200:
            problems.append(f"reset {answer.status_code} {answer.get_data(as_text=True)}")
        counts["reset"] += 1

    def rules_round(client) -> None:
        for tenant in (other, probe):
            answer = client.post("/__mock/faults", json={"api": "insigner", "status": 503, "tenant": tenant})
            if answer.status_code not in (201, 409):
                problems.append(f"faults {answer.status_code} {answer.get_data(as_text=True)}")
        counts["rules"] += 1

    steps = [requests_round] * 3 + [reset_round, rules_round]
    assert len(steps) == kinds
    storm.run([partial(in_rounds, step) for step in steps])
    assert not problems, problems[:5]
    assert counts["requests"] and counts["reset"] > 1 and counts["rules"] > 1, counts


def test_scenario_rolled_back__while_new_keys_authenticate_and_resets_run__no_hang_and_no_5xx(caplog):
    """The all-or-nothing apply holds the store's transaction, then registry and leaf locks, as a reset does."""
    quiet_access_log(caplog)
    storm = Storm(
        create_app({"store": "memory", "seed": 42, "seed_count": 2}), "applied", "refused", "insigner", "reset"
    )

    def applier() -> None:
        client = storm.app.test_client()
        while not storm.stop.is_set():
            # Applied once per reset; every later apply is refused (its keys exist) and rolled back.
            answer = client.post("/__mock/scenarios/keys-expire-in-a-minute")
            if answer.status_code not in (200, 409):
                storm.problems.append(f"apply {answer.status_code} {answer.get_data(as_text=True)}")
            storm.counts["applied" if answer.status_code == 200 else "refused"] += 1

    storm.run([applier] * 2 + [storm.new_insigner_keys(f"s{n}") for n in range(2)] + [storm.resets])
    counts = storm.counts
    assert not storm.problems, storm.problems[:5]
    assert counts["applied"] and counts["refused"] and counts["insigner"] and counts["reset"] > 1, counts
