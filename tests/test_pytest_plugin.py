"""The pytest plugin, driven with pytester: in-process and at MOCKSERVER_URL, with and without xdist."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

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
import requests

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


# -- verify and coverage --------------------------------------------------------------------------
COVERAGE_TESTS = """
import pytest
import requests
import requests

BODY = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}


@pytest.mark.parametrize("n", range(4))
def test_send(mockserver, n):
    headers = {"Prefer": "code=503"} if n == 3 else {}
    requests.post(mockserver.url + "/v1/requests", json=BODY, auth=("", "collect_test_key"), headers=headers)
    mockserver.verify(api="collect", method="POST", times=1)
"""


def test_verify__a_failing_verification_fails_the_test_with_its_near_misses(pytester, in_process):
    pytester.makepyfile("""
        import requests

        def test_sends_the_wrong_campaign(mockserver):
            body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
            requests.post(mockserver.url + "/v1/requests", json=body, auth=("", "collect_test_key"))
            mockserver.verify(api="collect", method="POST", body={"campaignId": "another"})
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*VerificationError: Expected at least 1 request matching collect POST on any path*, but 0 matched.",
            "*Closest requests:",
            "*#1 collect POST /v1/requests -> 200 *",
            '*body.campaignId: expected "another", got "xvr69EYLKXvTkfYuk"',
        ]
    )
    assert "mockserver/client.py" not in result.stdout.str()  # the client's frames are hidden


def test_coverage__table_in_the_terminal_summary(pytester, in_process):
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest("--mockserver-coverage")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*= mockserver coverage =*",
            "| API | Operation | Status | Count | Injected | Covered |",
            "| collect | POST /v1/requests | 200 | 3 | 0 | yes |",
            "| collect | POST /v1/requests | 503 | 1 | 1 | yes |",
            "Covered 2 of 99 documented answers (2.0%).",
        ]
    )


def test_coverage__nothing_without_the_options(pytester, in_process):
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)
    assert "mockserver coverage" not in result.stdout.str()


@pytest.mark.parametrize(("name", "starts"), [("cov.json", "{"), ("cov.md", "| API |"), ("out/cov.xml", "<?xml")])
def test_coverage__report_written_by_suffix(pytester, in_process, name, starts):
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest(f"--mockserver-coverage-report={name}")
    result.assert_outcomes(passed=4)
    text = (pytester.path / name).read_text()
    assert text.startswith(starts)
    if name.endswith(".json"):
        assert json.loads(text)["summary"] == {"documented": 99, "covered": 2, "percent": 2.0}
    result.stdout.fnmatch_lines(["Covered 2 of 99 documented answers (2.0%).", f"coverage report written to {name}"])


def test_coverage__a_report_of_another_suffix_is_a_usage_error(pytester, in_process):
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest("--mockserver-coverage-report=cov.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cov.html: the name must end in .json, .md or .xml*"])


def test_coverage__fail_under_fails_the_session_not_the_tests(pytester, in_process):
    pytester.makepyfile(COVERAGE_TESTS)
    failed = pytester.runpytest("--mockserver-coverage-fail-under=50")
    failed.assert_outcomes(passed=4)
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["FAIL: 2.0% of the documented answers were met, under *fail-under 50%"])
    passed = pytester.runpytest("--mockserver-coverage-fail-under=2.0")
    assert passed.ret == pytest.ExitCode.OK


def test_coverage__fail_under_with_no_server_used_fails(pytester, in_process):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--mockserver-coverage-fail-under=1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["no test used the mockserver fixture: no coverage to report"])


def test_coverage__attached_is_cleared_once_at_the_start(pytester, attached, external):
    # a 400 from before
    requests.post(f"{external.url}/v1/requests", json={}, auth=("", "collect_test_key"), timeout=30)
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest("--mockserver-coverage-report=cov.json")
    result.assert_outcomes(passed=4)
    doc = json.loads((pytester.path / "cov.json").read_text())
    assert doc["summary"]["covered"] == 2  # 200 and the injected 503; the earlier 400 was cleared


def test_coverage__xdist_in_process_workers_gathered_into_one_report(pytester, in_process):
    pytest.importorskip("xdist")
    pytester.makepyfile(COVERAGE_TESTS)
    result = pytester.runpytest("-n", "2", "-p", "xdist", "--dist", "load", "--mockserver-coverage-report=cov.json")
    result.assert_outcomes(passed=4)
    doc = json.loads((pytester.path / "cov.json").read_text())
    counts = {a["status"]: a["count"] for a in doc["apis"]["collect"]["operations"][0]["answers"]}
    assert (counts[200], counts[503]) == (3, 1)  # both workers' servers, added up once
    assert result.stdout.str().count("coverage report written to cov.json") == 1


def test_coverage__xdist_attached_one_report_of_the_shared_server(pytester, attached, external):
    pytest.importorskip("xdist")
    pytester.makepyfile(COVERAGE_TESTS.replace("times=1", "tenant='collect_test_key'"))
    result = pytester.runpytest("-n", "2", "-p", "xdist", "--mockserver-coverage-report=cov.md")
    result.assert_outcomes(passed=4)
    text = (pytester.path / "cov.md").read_text()
    assert "| collect | POST /v1/requests | 200 | 3 | 0 | yes |" in text
    assert "| collect | POST /v1/requests | 503 | 1 | 1 | yes |" in text


RECEIVER_TESTS = """
import requests

KEY = "isk_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2"
BODY = {"templateId": "tpl_abc123", "name": "Q3", "signers": [{"name": "A", "email": "a@example.com"}]}


def test_the_receiver_gets_a_signed_delivery_and_its_retries(mockserver, mockserver_webhook_receiver):
    receiver = mockserver_webhook_receiver
    mockserver.freeze_clock("2026-05-28T10:00:00Z")
    headers = {"Authorization": "Bearer " + KEY}
    hook = requests.post(
        mockserver.url + "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["bulk_send.completed"]},
        headers=headers,
    ).json()["data"]
    receiver.answer(500, 500)
    requests.post(mockserver.url + "/api/v1/bulk-sends", json=BODY, headers=headers)
    mockserver.settle()
    mockserver.advance_clock(360)
    got = receiver.wait_for(3)
    assert [r.json()["event"] for r in got] == ["bulk_send.completed"] * 3
    assert all(receiver.signature_valid(r) and r.signature_valid(hook["secret"]) for r in got)
    assert [a["state"] for a in mockserver.deliveries()] == ["failed", "failed", "delivered"]
    delivery = mockserver.delivery(mockserver.deliveries()[0]["deliveryId"])
    assert delivery["state"] == "delivered"
    mockserver.clear_deliveries()
    assert mockserver.deliveries() == []
"""


def test_webhook_receiver__records_checks_signatures_and_answers_as_told(pytester, in_process):
    pytester.makepyfile(RECEIVER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
