"""The pytest plugin, driven with pytester: in-process and at MOCKSERVER_URL, with and without xdist."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.client import MockServerClient
from mockserver.testing.server import ServerThread, start_server

# Test A writes through the emulated API and the control plane; test B, run after it in the
# same session (so on the same server), must see none of it.
RESET_ISOLATION = """
import requests

EMAIL = "isolation@example.com"
CAMPAIGN = "xvr69EYLKXvTkfYuk"


def emails(mockserver):
    return {contact.get("email") for contact in mockserver.state("collect", "contacts")}


def test_a_writes_data(mockserver):
    assert EMAIL not in emails(mockserver)
    answer = requests.post(mockserver.url + "/v1/requests", auth=("", "collect_test_key"), timeout=5,
                           json={"campaignId": CAMPAIGN, "contacts": [{"email": EMAIL}]})
    assert answer.status_code == 200, answer.text
    mockserver.freeze_clock("2030-01-01T00:00:00Z")
    assert EMAIL in emails(mockserver)
    assert len(mockserver.state("collect", "requests")) == 1


def test_b_sees_a_fresh_state(mockserver):
    assert EMAIL not in emails(mockserver)
    assert mockserver.state("collect", "requests") == []
    assert mockserver.clock()["frozen"] is False
"""


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the inner sessions without MOCKSERVER_URL, whatever the outer environment says."""
    monkeypatch.delenv("MOCKSERVER_URL", raising=False)
    monkeypatch.delenv("MOCKSERVER_CONTROL_TOKEN", raising=False)


@pytest.fixture(scope="module")
def external() -> Iterator[ServerThread]:
    """A server started outside the inner sessions, as a CI service container would be."""
    server = start_server({"seed": 9})
    yield server
    server.stop()


@pytest.fixture
def attached(external: ServerThread, monkeypatch: pytest.MonkeyPatch) -> MockServerClient:
    """Point the inner sessions at `external` through MOCKSERVER_URL; return a client of it."""
    monkeypatch.setenv("MOCKSERVER_URL", external.url)
    monkeypatch.delenv("MOCKSERVER_CONTROL_TOKEN", raising=False)
    client = MockServerClient(external.url)
    client.reset()
    return client


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_mockserver__in_process_serves_a_free_port_on_localhost(pytester, in_process):
    pytester.makepyfile("""
        import requests

        def test_url(mockserver):
            assert mockserver.url.startswith("http://127.0.0.1:")
            assert not mockserver.url.endswith(":8080")
            assert mockserver.health()["status"] == "ok"
            assert requests.get(mockserver.url + "/__mock/health", timeout=5).status_code == 200
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mockserver: in-process server, started when a test first uses*"])


def test_mockserver__in_process_resets_between_tests(pytester, in_process):
    pytester.makepyfile(RESET_ISOLATION)
    pytester.runpytest().assert_outcomes(passed=2)


def test_mockserver__attached_resets_between_tests(pytester, attached):
    pytester.makepyfile(RESET_ISOLATION)
    pytester.runpytest().assert_outcomes(passed=2)


def test_mockserver__in_process_starts_one_server_per_session(pytester, in_process):
    pytester.makepyfile("""
        SEEN = set()

        def test_first(mockserver):
            SEEN.add(mockserver.url)

        def test_second(mockserver):
            SEEN.add(mockserver.url)
            assert len(SEEN) == 1
    """)
    pytester.runpytest().assert_outcomes(passed=2)


def test_mockserver__attached_uses_the_server_at_mockserver_url(pytester, attached, external):
    pytester.makepyfile(f"""
        def test_attached(mockserver):
            assert mockserver.url == "{external.url}"
            assert mockserver.health()["seed"] == 9
            mockserver.add_entity("collect", "contacts", {{"email": "left-behind@example.com"}})
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"mockserver: attached to {external.url}, reset before each test"])
    assert "left-behind@example.com" in {c.get("email") for c in attached.state("collect", "contacts")}


def test_mockserver__attached_sends_mockserver_control_token(pytester, monkeypatch):
    with start_server({"control_token": "t0ken"}) as server:
        monkeypatch.setenv("MOCKSERVER_URL", server.url)
        monkeypatch.setenv("MOCKSERVER_CONTROL_TOKEN", "t0ken")
        pytester.makepyfile("""
            def test_token(mockserver):
                assert mockserver.session.headers["X-Mock-Token"] == "t0ken"
                assert "now" in mockserver.clock()
        """)
        pytester.runpytest().assert_outcomes(passed=1)


def test_mockserver__unreachable_mockserver_url_is_one_error_without_traceback(pytester, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MOCKSERVER_URL", url)
    pytester.makepyfile("""
        def test_one(mockserver):
            pass

        def test_two(mockserver):
            pass
    """)
    result = pytester.runpytest("-o", "mockserver_wait=0.1")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([f"*MOCKSERVER_URL={url}: mock server at {url} not ready after 0.1s*"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()


def test_mockserver_settings__overridden_in_a_conftest(pytester, in_process):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def mockserver_settings():
            return {"seed": 7, "store": "tinydb"}
    """)
    pytester.makepyfile("""
        def test_settings(mockserver):
            health = mockserver.health()
            assert health["seed"] == 7 and health["store"] == "tinydb"
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    # A TinyDB store without a `db` goes to a temporary folder, not the working directory.
    assert not (pytester.path / "mockserver.json").exists()


def test_mockserver_settings__bad_option_is_a_one_line_error(pytester, in_process):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def mockserver_settings():
            return {"store": "redis"}
    """)
    pytester.makepyfile("""
        def test_never_runs(mockserver):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockserver_settings: store: 'redis' is not one of memory, tinydb*"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()


def test_mockserver_scenario__closest_marker_applied_after_the_reset(pytester, in_process):
    # A spy client records the calls; in a subprocess, so the patch cannot leak into this run.
    pytester.makeconftest("""
        import pytest
        from mockserver.client import MockServerClient

        CALLS = []
        patch = pytest.MonkeyPatch()


        def pytest_configure(config):
            original = MockServerClient.reset
            patch.setattr(MockServerClient, "reset", lambda self, seed=None: CALLS.append("reset") or original(self))
            patch.setattr(MockServerClient, "apply_scenario", lambda self, name: CALLS.append(name) or {})


        def pytest_unconfigure(config):
            patch.undo()


        @pytest.fixture
        def calls():
            return CALLS
    """)
    pytester.makepyfile("""
        import pytest

        pytestmark = pytest.mark.mockserver_scenario("module-wide")


        def test_module_marker(mockserver, calls):
            assert calls == ["reset", "module-wide"]
            calls.clear()


        @pytest.mark.mockserver_scenario("own")
        def test_own_marker_wins(mockserver, calls):
            assert calls == ["reset", "own"]
    """)
    pytester.runpytest_subprocess("--strict-markers").assert_outcomes(passed=2)


def test_mockserver_scenario__applies_for_one_test_only(pytester, in_process):
    import json
    import shutil

    from mockserver.config import shipped_fixtures

    fixtures = pytester.path / "fixtures"
    shutil.copytree(shipped_fixtures(), fixtures)
    (fixtures / "scenarios").mkdir(exist_ok=True)
    (fixtures / "scenarios" / "collect-down.json").write_text(
        json.dumps(
            {
                "name": "collect-down",
                "description": "Collect answers 503; the clock stands still.",
                "clock": {"freeze": "2030-01-01T00:00:00Z"},
                "faults": [{"api": "collect", "status": 503}],
            }
        )
    )
    pytester.makeconftest(f"""
        import pytest

        @pytest.fixture(scope="session")
        def mockserver_settings():
            return {{"fixtures": r"{fixtures}"}}
    """)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mockserver_scenario("collect-down")
        def test_with_the_scenario(mockserver):
            clock = mockserver.clock()
            assert clock["frozen"] is True and clock["now"].startswith("2030-01-01T00:00:00")
            assert [rule["status"] for rule in mockserver.faults()] == [503]

        def test_after_it(mockserver):
            assert mockserver.clock()["frozen"] is False
            assert mockserver.faults() == []

        @pytest.mark.mockserver_scenario("no-such-scenario")
        def test_unknown_scenario(mockserver):
            pass
    """)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(['*mockserver_scenario("no-such-scenario"): 404 not-found: no scenario*'])
    assert "Traceback" not in result.stdout.str()


def test_mockserver_scenario__without_a_name_is_a_usage_error(pytester, in_process):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mockserver_scenario()
        def test_unnamed(mockserver):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(['*use @pytest.mark.mockserver_scenario("name") with one scenario name*'])


def test_mockserver_scenario__marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.mockserver_scenario(name):*"])


def test_plugin__registered_by_the_pytest11_entry_point(pytester, in_process):
    pytester.makepyfile("""
        def test_uses_it(mockserver):
            pass
    """)
    result = pytester.runpytest("-p", "no:mockserver")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'mockserver' not found*"])


def test_mockserver_api_keys__unique_per_test_and_well_formed(pytester, in_process):
    pytester.makepyfile("""
        import re

        KEYS = []

        def test_one(mockserver_api_keys):
            KEYS.append(mockserver_api_keys)

        def test_two(mockserver_api_keys):
            KEYS.append(mockserver_api_keys)
            first, second = KEYS
            assert first.collect != second.collect and first.insigner != second.insigner
            assert all(re.fullmatch(r"isk_[A-Za-z0-9_-]{44}", k.insigner) for k in KEYS)
            assert all(k.collect.startswith("collect-main-") for k in KEYS)
    """)
    pytester.runpytest().assert_outcomes(passed=2)


XDIST_RECORD = """
import os
from pathlib import Path

import pytest

OUT = Path(r"{out}")


@pytest.mark.parametrize("n", range(4))
def test_record(mockserver, mockserver_api_keys, n):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    email = f"xdist-{{n}}@example.org"
    mockserver.add_entity("collect", "contacts", {{"email": email}}, tenant=mockserver_api_keys.collect)
    mine = {{c["email"] for c in mockserver.state("collect", "contacts", tenant=mockserver_api_keys.collect)
             if c.get("email", "").startswith("xdist-")}}
    assert mine == {{email}}
    assert mockserver_api_keys.collect.startswith(f"collect-{{worker}}-")
    (OUT / str(n)).write_text(worker + " " + mockserver.url)
"""


def recorded(out: Path) -> dict[str, set[str]]:
    """Return {worker: {server URL, ...}} from what the inner tests wrote."""
    seen: dict[str, set[str]] = {}
    for path in out.iterdir():
        worker, url = path.read_text().split()
        seen.setdefault(worker, set()).add(url)
    return seen


def test_mockserver__xdist_in_process_gives_each_worker_its_own_server(pytester, in_process, tmp_path):
    pytest.importorskip("xdist")
    pytester.makepyfile(XDIST_RECORD.format(out=tmp_path))
    # xdist's load scheduling hands four tests to two workers two by two.
    pytester.runpytest("-n", "2", "-p", "xdist", "--dist", "load").assert_outcomes(passed=4)
    seen = recorded(tmp_path)
    assert set(seen) == {"gw0", "gw1"}, seen
    assert all(len(urls) == 1 for urls in seen.values()), seen
    assert seen["gw0"] != seen["gw1"], seen


def test_mockserver__xdist_attached_shares_one_server_without_resets(pytester, attached, external, tmp_path):
    pytest.importorskip("xdist")
    attached.add_entity("collect", "contacts", {"email": "sentinel@example.org"})
    pytester.makepyfile(XDIST_RECORD.format(out=tmp_path))
    result = pytester.runpytest("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["mockserver: attached to *, shared by 2 xdist workers: no reset between tests*"])
    assert set().union(*recorded(tmp_path).values()) == {external.url}
    # Nobody reset the shared server: what was there before the run is still there.
    emails = [c.get("email") for c in attached.state("collect", "contacts")]
    assert "sentinel@example.org" in emails
    assert sorted(e for e in emails if re.fullmatch(r"xdist-\d@example\.org", e or "")) == [
        f"xdist-{n}@example.org" for n in range(4)
    ]


FRESH_TENANT = """
from pathlib import Path

OUT = Path(r"{out}")


def test_fresh_tenant(mockserver, mockserver_api_keys):
    key = mockserver_api_keys.collect
    assert not [c for c in mockserver.state("collect", "contacts", tenant=key) if c.get("email") == "mine@example.org"]
    mockserver.add_entity("collect", "contacts", {{"email": "mine@example.org"}}, tenant=key)
    with OUT.open("a") as out:
        out.write(key + " " + mockserver_api_keys.insigner + "\\n")
"""


def test_mockserver_api_keys__new_in_every_session(pytester, attached, tmp_path):
    # On a server shared without resets (the mode the keys exist for), a second run of the same test on
    # the same worker must get keys of its own, so a fresh tenant: run it twice and compare.
    out = tmp_path / "keys"
    pytester.makepyfile(FRESH_TENANT.format(out=out))
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest().assert_outcomes(passed=1)
    keys = out.read_text().split()
    assert len(keys) == 4 and len(set(keys)) == 4, keys
    assert all(re.fullmatch(r"isk_[A-Za-z0-9_-]{44}", key) for key in keys[1::2])
