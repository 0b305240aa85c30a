"""Property-based tests of every operation, generated from our own OpenAPI document by schemathesis.

For each operation, schemathesis's examples, coverage and fuzzing phases generate valid and
invalid calls. Each one is sent with a valid key, again with its references pointed at seeded
entities (so the generated rest of the body reaches the backend instead of stopping at a 404),
and again with whatever credentials were generated. Every answer must match the document
(status, content type, headers, body schema, so every error is in its API's envelope), and
none is a 5xx unless a `Prefer: code=5xx` header asked for it. Generation is seeded and
derandomised, so a failure reproduces; MOCKSERVER_FUZZ_EXAMPLES raises the budget (`make fuzz`).
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer, fuzz_examples
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver.app import create_app
from mockserver.errors import ApiError
from mockserver.faults.stage import prefer_rule
from mockserver.lifecycle import model as lifecycle
from mockserver.openapi.document import document

SEED = 20240705
EXAMPLES = fuzz_examples(25)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
AUTH = {"/v1/": basic(COLLECT_KEY), "/api/v1/": bearer(INSIGNER_KEY)}
# What a seeded tenant has: the reference examples' campaign, template and bulk send.
SEEDED_BODY_FIELDS = {"campaignId": "xvr69EYLKXvTkfYuk", "templateId": "tpl_abc123"}
SEEDED_PATH_PARAMETERS = {"id": "bs_abc123"}
NO_LIMITS = {"insigner": {"enabled": False}, "collect": {"enabled": False}}


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )


# schemathesis parametrizes at collection, so it reads the document then, from an app built for that
# alone; the calls go to the `fuzz_app` fixture (its lazy from_fixture() does not run on pytest 9).
schema = schemathesis.openapi.from_dict(
    document(create_app({"store": "memory", "seed_count": 0})), config=fuzz_config()
)


@pytest.fixture(scope="module")
def fuzz_app():
    """One small in-memory app for the module; every call starts from its reset state."""
    app = create_app({"store": "memory", "seed": 42, "seed_count": 3})
    yield app
    app.extensions["mockserver"].close()


def fresh(app) -> None:
    """Back to the start-up state, rate limits off (429s would swamp the run)."""
    state = app.extensions["mockserver"]
    lifecycle.reset(state)
    state.rate_limits.update(NO_LIMITS)


def asked_status(case) -> int | None:
    """The error status a `Prefer: code=NNN` header of the case asks for (None: none, or unreadable)."""
    values = [str(v) for k, v in (case.headers or {}).items() if k.lower() == "prefer"]
    try:
        rule = prefer_rule(values)
    except ApiError:
        return None
    return rule.status if rule is not None and rule.kind == "error" else None


def without_delays(case) -> None:
    """Drop a generated `Prefer: delay=...` or verification wait: either would make the run sleep.

    (Their effects have their own tests.)
    """
    if isinstance(case.body, dict) and isinstance(case.body.get("withinMs"), int):
        case.body = {**case.body, "withinMs": 0}
    if case.headers and any(k.lower() == "prefer" and "delay" in str(v).lower() for k, v in case.headers.items()):
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "prefer"}


def seeded_variant(case) -> bool:
    """Point the case's references at seeded entities; False if it has none to point."""
    changed = False
    if isinstance(case.body, dict):
        body = copy.deepcopy(case.body)
        for name, value in SEEDED_BODY_FIELDS.items():
            if name in body:
                body[name], changed = value, True
        case.body = body
    if case.path_parameters:
        for name, value in SEEDED_PATH_PARAMETERS.items():
            if name in case.path_parameters:
                case.path_parameters = {**case.path_parameters, name: value}
                changed = True
    return changed


@schema.parametrize()
def test_openapi__every_answer_matches_the_document(case, fuzz_app):
    without_delays(case)
    asked = asked_status(case)
    excluded = [not_a_server_error] if asked is not None and asked >= 500 else []
    auth = next((headers for prefix, headers in AUTH.items() if case.path.startswith(prefix)), None)

    def call(headers):
        fresh(fuzz_app)
        response = case.call_and_validate(headers=headers, checks=CHECKS, excluded_checks=excluded, app=fuzz_app)
        assert response.status_code < 500 or response.status_code == asked, response.text[:500]

    call(None)  # the generated credentials, if any
    if auth is not None:
        call(auth)
        if seeded_variant(case):
            call(auth)
