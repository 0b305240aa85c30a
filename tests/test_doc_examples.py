"""The worked examples of the documentation run as shown (a client that retries, the coverage gate, the snapshot job).

An example is the code block after `<!-- example: NAME -->` in a page under docs/ (or the README).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import requests
from helpers import BULK_SEND_EXAMPLE, INSIGNER_KEY, bearer, start_serve, web

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def page_of(name: str) -> str:
    """Return the text of the one page that holds example `name`."""
    marker = f"<!-- example: {name} -->"
    [found] = [page.read_text() for page in PAGES if marker in page.read_text()]
    return found


def example(name: str) -> str:
    """Return the code block that follows `<!-- example: NAME -->`."""
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", page_of(name), re.S)
    assert found, f"no example {name!r}"
    return found.group(1)


@pytest.fixture
def inner(pytester, monkeypatch):
    """An inner pytest session with an in-process server, whatever the outer environment says."""
    monkeypatch.delenv("MOCKSERVER_URL", raising=False)
    monkeypatch.delenv("MOCKSERVER_CONTROL_TOKEN", raising=False)
    pytester.makepyfile(test_example=example("verify") + "\n\n" + example("verify-failing"))
    return pytester


def test_docs_example__the_retry_example_passes_and_the_broken_client_fails_with_the_message_shown(inner):
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    shown = example("verify-output").splitlines()
    lines = result.stdout.lines
    start = lines.index(shown[0])
    assert lines[start : start + len(shown)] == shown


def test_docs_example__the_ci_job_writes_the_junit_coverage_and_fails_under_its_threshold(inner):
    [command] = [line.split("- run: ", 1)[1] for line in example("coverage-ci").splitlines() if "run: pytest" in line]
    arguments = shlex.split(command)[1:]
    result = inner.runpytest("-p", "no:cacheprovider", *arguments)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    report = inner.path / "reports" / "mockserver-coverage.xml"
    assert report.read_text().startswith("<?xml")
    said = re.search(r"`(FAIL: [^`]+)`", page_of("coverage-ci").split("<!-- example: coverage-ci -->")[1])
    assert said and said.group(1) in result.stdout.lines


def test_docs_example__the_snapshot_job_keeps_a_snapshot_of_the_failed_test(inner):
    [command] = [line.split("- run: ", 1)[1] for line in example("snapshot-ci").splitlines() if "run: pytest" in line]
    result = inner.runpytest("-p", "no:cacheprovider", *shlex.split(command)[1:])
    result.assert_outcomes(passed=1, failed=1)
    uploaded = re.search(r"path: (\S+)", example("snapshot-ci")).group(1)
    [kept] = list((inner.path / uploaded).iterdir())  # the folder the job uploads
    assert kept.name == "test_example.py_test_the_retry_keeps_the_key.json"
    assert json.loads(kept.read_text())["format"] == "mockserver-snapshot/1"


def curl_commands(block: str) -> list[list[str]]:
    """The curl commands of a shell example, each split as the shell would (comments and `make run &` left out)."""
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith("curl ")]


def run_curl(words: list[str], base: str) -> requests.Response:
    """Send what `curl WORDS` would send, to `base` in place of the example's address."""
    method, url, data, auth, headers = None, None, None, None, {}
    rest = iter(words[1:])
    for word in rest:
        if word == "-s":
            continue
        if word == "-X":
            method = next(rest)
        elif word == "-d":
            data = next(rest)
        elif word == "-u":
            auth = tuple(next(rest).split(":", 1))
        elif word == "-H":
            name, value = next(rest).split(":", 1)
            headers[name.strip()] = value.strip()
        elif word.startswith("http://"):
            url = word.replace("http://127.0.0.1:8080", base)
        else:
            raise AssertionError(f"an option the test does not know: {word}")
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as curl -d sends
    assert url, words
    return web.request(method or ("POST" if data is not None else "GET"), url, data=data, auth=auth, headers=headers)


@pytest.fixture
def served():
    server = start_serve()
    yield server.url
    server.stop()


def test_docs_example__the_readme_quick_start_runs_as_shown(served):
    answers = [run_curl(words, served) for words in curl_commands(example("quick-start"))]
    got = [(answer.request.method, answer.request.path_url, answer.status_code) for answer in answers]
    assert got == [
        ("POST", "/v1/requests", 200),
        ("POST", "/__mock/faults", 201),
        ("POST", "/api/v1/bulk-sends", 503),  # the fault rule's answer, once
        ("GET", "/api/v1/bulk-sends?status=completed&limit=5", 200),
        ("POST", "/__mock/verify", 200),  # it got the 503
        ("POST", "/__mock/clock", 200),
        ("POST", "/__mock/reset", 200),
    ], [answer.text for answer in answers]


def test_docs_example__getting_started_first_calls_fault_and_verification_run_as_shown(served):
    for words in curl_commands(example("first-calls")):
        answer = run_curl(words, served)
        assert answer.status_code < 300, (words, answer.text)
    [fault] = curl_commands(example("first-fault"))
    assert run_curl(fault, served).status_code == 201
    # A client that retries once: the fault answers the first bulk send, the retry succeeds.
    sent = [web.post(served + "/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(INSIGNER_KEY)) for _ in "12"]
    assert [answer.status_code for answer in sent] == [503, 201]
    [verification] = curl_commands(example("first-verification"))
    answer = run_curl(verification, served)
    assert answer.status_code == 200, answer.text


def test_docs_example__the_flask_receiver_accepts_the_mocks_deliveries_and_refuses_forgeries(monkeypatch):
    from werkzeug.serving import make_server

    from mockserver.app import create_app

    secret = "5f2b8c1e9a7d4f3b6e0c2a8d1f9e7b3c4a6d8e0f2b4c6a8e1d3f5b7c9e0a2c4d"
    monkeypatch.setenv("INSIGNER_WEBHOOK_SECRET", secret)
    namespace: dict = {"__name__": "receiver_example"}
    exec(compile(example("webhook-receiver"), "webhook-receiver", "exec"), namespace)  # noqa: S102 - the page's own code
    receiver = make_server("127.0.0.1", 0, namespace["app"], threaded=True)
    import threading

    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/webhooks/insigner"
    mock = create_app({"store": "memory", "seed": 42})
    client = mock.test_client()
    try:
        declared = client.post(
            "/__mock/state/insigner/webhooks", json={"url": url, "events": ["bulk_send.completed"], "secret": secret}
        )
        assert declared.status_code == 201
        created = client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(INSIGNER_KEY)).get_json()
        assert client.post("/__mock/deliveries/settle", json={}).status_code == 200
        [attempt] = client.get("/__mock/deliveries").get_json()["attempts"]
        assert (attempt["state"], attempt["response"]["status"]) == ("delivered", 204)
        assert namespace["handled"] == [created["data"]["id"]]
        forged = requests.post(
            url,
            data=b'{"event":"bulk_send.completed","data":{}}',
            headers={"X-InSigner-Signature": "sha256=00"},
            timeout=5,
        )
        assert forged.status_code == 401
    finally:
        receiver.shutdown()
        mock.extensions["mockserver"].close()


def test_docs_example__the_pytest_receiver_example_passes(inner):
    inner.makepyfile(test_webhooks=example("webhook-pytest"))
    result = inner.runpytest("-p", "no:cacheprovider", "test_webhooks.py")
    result.assert_outcomes(passed=1)
