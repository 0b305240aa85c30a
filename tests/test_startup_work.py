"""What start-up leaves for later: Faker's seed data is built once, when first needed or by the warm-up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest
import requests
from helpers import INSIGNER_KEY, bearer, start_serve

from mockserver.app import create_app
from mockserver.seeding import SEED_PROVIDERS, FixtureError
from mockserver.serving.bridge import WsgiBridge
from mockserver.state import mock_state


def test_create_app__imports_no_faker_and_builds_no_seed_data():
    code = (
        "import sys\n"
        "from mockserver.app import create_app\n"
        "from mockserver.state import mock_state\n"
        "state = mock_state(create_app({'store': 'memory', 'seed': 42}))\n"
        "assert 'faker' not in sys.modules, 'faker imported'\n"
        "assert all(t.snapshot._collections is None for t in state.tenants.values()), 'seed data built'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_seed_data__built_by_many_threads_at_once_is_that_of_one_build():
    expected = {name: t.snapshot.collections for name, t in mock_state(create_app(seed=7)).tenants.items()}
    state = mock_state(create_app(seed=7))
    barrier = threading.Barrier(6)

    def build(name: str) -> None:
        barrier.wait()
        state.tenants[name].snapshot.collections  # noqa: B018 - builds it

    threads = [threading.Thread(target=build, args=(name,)) for name in ("collect", "insigner") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {name: t.snapshot.collections for name, t in state.tenants.items()} == expected


@pytest.mark.parametrize(("seed", "count"), [(42, 20), (7, 300)])
def test_seed_data__made_by_the_seed_providers_alone_is_that_of_a_faker_with_every_provider(monkeypatch, seed, count):
    from faker import Faker

    settings = {"seed": seed, "seed_count": count}
    lean = mock_state(create_app(settings))
    made = {name: t.snapshot.collections for name, t in lean.tenants.items()}
    monkeypatch.setattr("mockserver.state.new_faker", lambda: Faker("en_US"))
    full = mock_state(create_app(settings))

    assert {name: t.snapshot.collections for name, t in full.tenants.items()} == made
    # Only the seed providers were loaded (each with its en_US version); the other Faker had all 26.
    assert sorted(type(p).__module__ for p in lean.faker.providers) == sorted(f"{n}.en_US" for n in SEED_PROVIDERS)
    assert len(full.faker.providers) > 2 * len(SEED_PROVIDERS)


def test_fixture_errors__still_stop_the_start_up(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(mock_state(create_app()).settings.fixtures_path, fixtures)
    (fixtures / "insigner" / "bulkSends.json").write_text('[{"id": "bs_x", "templateId": "tpl_unknown"}]')

    with pytest.raises(FixtureError, match="unknown template"):
        create_app({"fixtures": str(fixtures)})


def test_bridge__after_next_answer_runs_once_after_the_next_answer_only():
    calls: list[str] = []
    bridge = WsgiBridge(create_app({"store": "memory"}), threads=1, max_body=1024)
    try:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/__mock/health", "SERVER_NAME": "127.0.0.1"}
        bridge.after_next_answer(lambda: calls.append("hook"))
        assert calls == []
        for _ in range(3):
            answered = threading.Event()
            bridge._jobs.put((_environ(environ), _Loop(), _Done(answered)))
            assert answered.wait(10)
        assert calls == ["hook"]
    finally:
        bridge.close()


def test_serve__health_first_then_the_calls_that_need_seed_data_then_a_clean_stop():
    served = start_serve()
    try:
        assert requests.get(served.url + "/__mock/health", timeout=10).status_code == 200
        got = requests.get(served.url + "/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY), timeout=10)
        assert got.status_code == 200 and got.json()["data"]["id"] == "bs_abc123"
        summary = requests.post(served.url + "/__mock/reset", timeout=10).json()
        assert summary["state"]["insigner"]["org_abc123"]["bulkSends"] == 21
    finally:
        _, err = served.stop()
    assert "warming up failed" not in err


class _Loop:
    """Just enough of an event loop for the bridge's hand-over: it runs what it is given at once."""

    def call_soon_threadsafe(self, callback, *args) -> None:
        callback(*args)


class _Done:
    """Just enough of a future: notes that the answer was handed over."""

    def __init__(self, answered: threading.Event) -> None:
        self.answered = answered

    def cancelled(self) -> bool:
        return False

    def set_result(self, result) -> None:
        self.answered.set()

    def set_exception(self, error) -> None:
        raise AssertionError(f"the app raised {error!r}")


def _environ(base: dict) -> dict:
    import io

    return {
        **base,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
