"""What the tests share besides fixtures: keys, headers, envelope checks, and the one way to run `serve`."""

from __future__ import annotations

import base64
import copy
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import requests

from mockserver.apis.collect import examples as collect_examples
from mockserver.apis.insigner import examples as insigner_examples

COLLECT_KEY = "collect_test_key"
GOLDEN_COLLECT_TIME = "2022-07-04T07:20:06Z"
# inSigner fixture keys (fixtures/insigner/apiKeys.json): "isk_" + 44 URL-safe characters.
INSIGNER_KEY = "isk_TestFullAccessKey___________________00000000"
INSIGNER_KEYS = {
    "full": INSIGNER_KEY,
    "bulk_sends.*": "isk_TestBulkSendsWildcardKey____________00000000",
    "read": "isk_TestBulkSendsReadOnlyKey____________00000000",
    "create": "isk_TestBulkSendsCreateOnlyKey__________00000000",
    "delete": "isk_TestBulkSendsDeleteOnlyKey__________00000000",
    "documents": "isk_TestDocumentsOnlyKey________________00000000",
    "revoked": "isk_TestRevokedKey______________________00000000",
    "expired": "isk_TestExpiredKey______________________00000000",
}
GOLDEN_INSIGNER_TIME = "2026-05-28T12:00:00.000Z"

# The reference pages' example calls (their one copy, apis/<api>/examples.py), trimmed to one
# signer / one contact and no email message: they succeed on a fresh server.
# Deep copies: a test that changes one cannot change the vendor's example the mock serves.
BULK_SEND_EXAMPLE = copy.deepcopy(
    {
        "templateId": insigner_examples.CREATE_REQUEST["templateId"],
        "name": insigner_examples.CREATE_REQUEST["name"],
        "signers": insigner_examples.CREATE_REQUEST["signers"][:1],
    }
)
SEND_EXAMPLE = copy.deepcopy(
    {
        "campaignId": collect_examples.SEND_MULTIPLE_REQUESTS_REQUEST["campaignId"],
        "contacts": collect_examples.SEND_MULTIPLE_REQUESTS_REQUEST["contacts"][:1],
    }
)


def basic(key: str) -> dict[str, str]:
    """Return Collect's Authorization header for `key`."""
    return {"Authorization": "Basic " + base64.b64encode(f":{key}".encode()).decode()}


def bearer(key: str) -> dict[str, str]:
    """Return inSigner's Authorization header for `key`."""
    return {"Authorization": f"Bearer {key}"}


def insigner_key(name: str) -> str:
    """Return a well-formed inSigner key that no fixture lists (its own organization), made from `name`."""
    return "isk_" + name.ljust(44, "0")[:44]


def fuzz_examples(default: int) -> int:
    """Examples per property test: `default` in `make test`, MOCKSERVER_FUZZ_EXAMPLES in `make fuzz`."""
    return int(os.environ.get("MOCKSERVER_FUZZ_EXAMPLES") or default)


# -- each API's error envelope, checked on any answer ----------------------------------------------
def assert_collect_error(response) -> None:
    """Collect's error body: `{"error": reason, "message": text, "details"?: [{field, message}]}`."""
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) <= {"error", "message", "details"} and {"error", "message"} <= set(body), body
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"], body
    for detail in body.get("details", []):
        assert set(detail) == {"field", "message"}, detail


def assert_insigner_problem(response) -> None:
    """inSigner's RFC 9457 problem: type, title, status (the answer's), detail; `errors` on 422 only."""
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) <= {"type", "title", "status", "detail", "errors"}
    assert body["status"] == response.status_code, body
    assert body["type"].startswith("https://docs.insigner.com/errors/"), body
    assert ("errors" in body) == (response.status_code == 422), body
    for error in body.get("errors", []):
        assert set(error) == {"field", "message"}, error
    assert response.headers["X-Request-Id"].startswith("req_")


def assert_control_error(response) -> None:
    """The control plane's error body: `{"error": {"code", "message"}}`."""
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}, body


# -- `mockserver serve` as users start it ------------------------------------------------------------
def serve_command(*options: str) -> list[str]:
    """Return the command line of `python -m mockserver serve OPTIONS`."""
    return [sys.executable, "-m", "mockserver", "serve", *options]


@dataclass
class Served:
    """A `mockserver serve` process that printed its ready line."""

    process: subprocess.Popen
    url: str
    # The line it printed when it was ready.
    ready_line: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15) -> tuple[str, str]:
        """Stop it with SIGTERM (or `signum`) as users do; assert it exits 0; return (stdout, stderr)."""
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err[-2000:]
        return out, err

    def kill(self) -> None:
        """Kill it with SIGKILL (a crash) and close its pipes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=15)


def start_serve(*options: str, cwd=None, env=None, port: str = "0") -> Served:
    """Start `python -m mockserver serve --port 0 OPTIONS` as users do; return it once it is ready."""
    process = subprocess.Popen(
        serve_command("--port", port, *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        _, err = process.communicate(timeout=15)
        pytest.fail(f"no ready line: {line!r} {err[-2000:]!r}")
    return Served(process, line.split("serving ", 1)[1].split()[0], line)


def run_serve(*options: str, cwd=None, env=None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run `python -m mockserver serve OPTIONS` to its end (a start that must fail); return what it did."""
    return subprocess.run(serve_command(*options), capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


# Seconds a test waits for an answer over HTTP: a server that hangs fails the test, never the run.
HTTP_TIMEOUT = 30


def _timed(call):
    def send(*args, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return call(*args, **kwargs)

    return send


# requests' calls with HTTP_TIMEOUT unless a test gives its own.
web = SimpleNamespace(
    **{name: _timed(getattr(requests, name)) for name in ("get", "post", "put", "patch", "delete", "request")}
)
