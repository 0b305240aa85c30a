"""Scenarios: the shipped files, applying them, --scenario at start-up, and broken files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer, insigner_key, run_serve

from mockserver.app import create_app
from mockserver.config import shipped_fixtures
from mockserver.scenarios.model import ScenarioError

SHIPPED = sorted(path.stem for path in (shipped_fixtures() / "scenarios").glob("*.json"))
SEND = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
STARTUP_RATE_LIMITS = {
    "insigner": {"enabled": True, "requestsPerMinute": 120, "bulkSendsPerWindow": 1, "bulkSendWindowSeconds": 300},
    "collect": {"enabled": False, "requestsPerMinute": 60},
}


@pytest.fixture
def settings() -> dict:
    return {"store": "memory", "seed": 42}


def apply(client, name: str) -> dict:
    response = client.post(f"/__mock/scenarios/{name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def send(client, key: str = COLLECT_KEY) -> int:
    return client.post("/v1/requests", json=SEND, headers=basic(key)).status_code


def list_bulk_sends(client, key: str = INSIGNER_KEY) -> int:
    return client.get("/api/v1/bulk-sends", headers=bearer(key)).status_code


def test_list_scenarios__every_shipped_file_with_its_description(client):
    listed = client.get("/__mock/scenarios").get_json()["scenarios"]
    assert [scenario["name"] for scenario in listed] == SHIPPED
    assert all(scenario["description"] for scenario in listed)
    assert {
        "insigner-outage-recovers",
        "collect-maintenance",
        "collect-rate-limited",
        "insigner-rate-limited",
        "slow-network",
        "flaky-upstream",
        "collect-key-revoked",
        "insigner-key-revoked",
    } <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_apply_scenario__applies_and_reset_undoes_it(client, name):
    applied = apply(client, name)
    assert applied["name"] == name
    assert client.get("/__mock/faults").get_json()["faults"] == applied["faults"]
    client.post("/__mock/reset")
    assert client.get("/__mock/faults").get_json() == {"faults": []}
    assert client.get("/__mock/clock").get_json()["frozen"] is False
    assert client.get("/__mock/rate-limits").get_json() == STARTUP_RATE_LIMITS


@pytest.mark.parametrize(
    "name", ["nope", "..%2Fcollect%2FapiKeys", "..%2F..%2Fsetup.cfg", "%2e%2e", "slow-network.json", "SLOW-NETWORK"]
)
def test_apply_scenario__unknown_name_is_404(client, name):
    response = client.post(f"/__mock/scenarios/{name}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not-found"


def test_apply_scenario__insigner_outage_recovers_after_three_failures(client):
    apply(client, "insigner-outage-recovers")
    assert [list_bulk_sends(client) for _ in range(5)] == [503, 503, 503, 200, 200]


def test_apply_scenario__collect_maintenance(client):
    apply(client, "collect-maintenance")
    response = client.post("/v1/requests", json=SEND, headers=basic(COLLECT_KEY))
    assert response.status_code == 503 and response.headers["Retry-After"] == "600"
    assert list_bulk_sends(client) == 200


@pytest.mark.parametrize(
    "name, call",
    [
        pytest.param("collect-rate-limited", send, id="collect"),
        pytest.param("insigner-rate-limited", list_bulk_sends, id="insigner"),
    ],
)
def test_apply_scenario__rate_limited_after_five_requests(client, name, call):
    apply(client, name)
    assert [call(client) for _ in range(6)] == [200] * 5 + [429]


def test_apply_scenario__flaky_upstream_fails_on_the_same_requests(client):
    def run() -> list[int]:
        client.post("/__mock/reset")
        apply(client, "flaky-upstream")
        return [send(client) for _ in range(30)]

    first = run()
    assert first == run() and {200, 500, 502} == set(first)


def test_apply_scenario__keys_expire_when_the_clock_moves_on(client):
    applied = apply(client, "keys-expire-in-a-minute")
    insigner_key = applied["entities"][1]["key"]
    assert (send(client, "collect_expiring_key"), list_bulk_sends(client, insigner_key)) == (200, 200)
    client.post("/__mock/clock", json={"advance": 60})
    assert (send(client, "collect_expiring_key"), list_bulk_sends(client, insigner_key)) == (401, 401)


def test_apply_scenario__twice_refuses_its_entities_again(client):
    apply(client, "keys-expire-in-a-minute")
    response = client.post("/__mock/scenarios/keys-expire-in-a-minute")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"


def test_apply_scenario__slow_network_is_a_delay_rule(client):
    applied = apply(client, "slow-network")
    assert [(rule["kind"], rule["delayMs"]) for rule in applied["faults"]] == [("delay", 1500)]


# -- at start-up ----------------------------------------------------------------------------------
def test_startup_scenario__applied_and_kept_by_reset():
    app = create_app({"store": "memory", "scenario": "collect-maintenance"})
    client = app.test_client()
    assert send(client) == 503
    client.post("/__mock/reset")
    assert send(client) == 503
    assert [rule["id"] for rule in client.get("/__mock/faults").get_json()["faults"]] == ["flt_1"]


def test_startup_scenario__unknown_name_is_one_clear_line():
    with pytest.raises(ScenarioError) as caught:
        create_app({"store": "memory", "scenario": "nope"})
    message = str(caught.value)
    assert "unknown scenario 'nope'" in message and "slow-network" in message and "\n" not in message


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A copy of the shipped fixtures to break."""
    folder = tmp_path / "fixtures"
    shutil.copytree(shipped_fixtures(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


@pytest.mark.parametrize(
    "content, words",
    [
        pytest.param("{", "is not valid JSON", id="not-json"),
        pytest.param("[]", "must hold a JSON object", id="not-object"),
        pytest.param({"name": "broken"}, "description:", id="no-description"),
        pytest.param({"name": "other", "description": "x"}, "must be the file's name", id="name-not-file"),
        pytest.param(
            {"name": "broken", "description": "x", "faults": [{"status": 700}]}, "faults.0.status:", id="bad-rule"
        ),
        pytest.param(
            {"name": "broken", "description": "x", "clock": {"freeze": "soon"}}, "clock: freeze", id="bad-clock"
        ),
        pytest.param(
            {"name": "broken", "description": "x", "rateLimits": {"collect": {"rpm": 1}}},
            "rateLimits:",
            id="bad-rate-limits",
        ),
        pytest.param(
            {
                "name": "broken",
                "description": "x",
                "entities": [{"api": "collect", "collection": "nope", "entity": {}}],
            },
            "entities.0.collection:",
            id="bad-collection",
        ),
        pytest.param(
            {
                "name": "broken",
                "description": "x",
                "entities": [{"api": "stripe", "collection": "apiKeys", "entity": {}}],
            },
            "entities.0.api:",
            id="bad-api",
        ),
        pytest.param({"name": "broken", "description": "x", "extra": 1}, "extra:", id="unknown-field"),
    ],
)
def test_startup__broken_scenario_file_names_the_file(fixtures_copy, content, words):
    path = fixtures_copy / "scenarios" / "broken.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ScenarioError) as caught:
        create_app({"store": "memory", "fixtures": str(fixtures_copy)})
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_startup__fixtures_without_scenarios_folder_has_none(fixtures_copy):
    shutil.rmtree(fixtures_copy / "scenarios")
    client = create_app({"store": "memory", "fixtures": str(fixtures_copy)}).test_client()
    assert client.get("/__mock/scenarios").get_json() == {"scenarios": []}


@pytest.mark.slow
def test_serve__unknown_scenario_exits_with_one_line():
    result = run_serve("--port", "0", "--scenario", "nope")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "unknown scenario 'nope'" in result.stderr


# -- all or nothing -----------------------------------------------------------------------------------
def whole_state(client) -> dict:
    """What a scenario may change, as the control plane shows it (the clock's running value left out)."""
    snapshot = client.get("/__mock/snapshot").get_json()
    return {
        "tenants": snapshot["tenants"],
        "rateLimits": snapshot["rateLimits"]["settings"],
        "faults": snapshot["faults"],
        "clock": client.get("/__mock/clock").get_json(),
    }


def write_scenario(folder: Path, body: dict) -> None:
    (folder / "scenarios" / f"{body['name']}.json").write_text(json.dumps(body))


SECOND_REFUSED = {
    "name": "second-refused",
    "description": "A new key's tenant and two templates, the second one refused as a duplicate.",
    "clock": {"freeze": "2026-06-01T00:00:00Z"},
    "rateLimits": {"collect": {"enabled": True, "requestsPerMinute": 3}},
    "faults": [{"api": "collect", "status": 503}],
    "entities": [
        {"api": "insigner", "tenant": insigner_key("all-or-none"), "collection": "templates",
         "entity": {"id": "tpl_all_or_none", "name": "First"}},
        {"api": "insigner", "collection": "templates", "entity": {"id": "tpl_twice", "name": "Kept?"}},
        {"api": "insigner", "collection": "templates", "entity": {"id": "tpl_twice", "name": "Refused"}},
    ],
}  # fmt: skip


def test_apply_scenario__a_refused_entity_leaves_no_part_of_it(fixtures_copy):
    write_scenario(fixtures_copy, SECOND_REFUSED)
    client = create_app({"store": "memory", "fixtures": str(fixtures_copy), "seed": 42}).test_client()
    client.post("/__mock/clock", json={"freeze": True})
    before = whole_state(client)
    response = client.post("/__mock/scenarios/second-refused")
    assert response.status_code == 409 and "tpl_twice" in response.get_json()["error"]["message"]
    assert whole_state(client) == before  # no template, no new tenant, no rule, rate limits and clock as they were
    # The ID sequences were put back too: the same calls then give what they gave before.
    created = client.post("/api/v1/bulk-sends", json={"templateId": "tpl_abc123", "name": "x", "signers": [
        {"email": "a@example.com", "name": "A"}]}, headers=bearer(INSIGNER_KEY))  # fmt: skip
    fresh = create_app({"store": "memory", "fixtures": str(fixtures_copy), "seed": 42}).test_client()
    fresh.post("/__mock/clock", json={"freeze": before["clock"]["now"]})
    again = fresh.post("/api/v1/bulk-sends", json={"templateId": "tpl_abc123", "name": "x", "signers": [
        {"email": "a@example.com", "name": "A"}]}, headers=bearer(INSIGNER_KEY))  # fmt: skip
    assert (created.status_code, created.get_json()) == (again.status_code, again.get_json())


def test_apply_scenario__rules_that_do_not_fit_leave_clock_and_rate_limits_as_they_were(fixtures_copy):
    from mockserver.faults.rules import MAX_RULES

    write_scenario(
        fixtures_copy,
        {
            "name": "too-many",
            "description": "More rules than fit next to the ones there.",
            "clock": {"advance": 3600},
            "rateLimits": {"collect": {"enabled": True}},
            "entities": [{"api": "insigner", "collection": "templates", "entity": {"id": "tpl_too_many", "name": "T"}}],
            "faults": [{"api": "collect", "status": 500}, {"api": "collect", "status": 502}],
        },
    )
    client = create_app({"store": "memory", "fixtures": str(fixtures_copy)}).test_client()
    client.post("/__mock/clock", json={"freeze": True})
    for _ in range(MAX_RULES - 1):
        rule = {"api": "insigner", "status": 500, "path": "/nowhere"}
        assert client.post("/__mock/faults", json=rule).status_code == 201
    before = whole_state(client)
    response = client.post("/__mock/scenarios/too-many")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "too-many-faults"
    assert whole_state(client) == before
    # With room for both, it applies whole.
    client.delete(f"/__mock/faults/{before['faults'][0]['id']}")
    assert client.post("/__mock/scenarios/too-many").status_code == 200
    assert len(client.get("/__mock/faults").get_json()["faults"]) == MAX_RULES


def test_apply_scenario__refused_on_a_file_store_keeps_the_file_whole(fixtures_copy, tmp_path):
    write_scenario(fixtures_copy, SECOND_REFUSED)
    db = tmp_path / "state.json"
    settings = {"store": "tinydb", "db": str(db), "fixtures": str(fixtures_copy)}
    app = create_app(settings)
    client = app.test_client()
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "kept@example.com"}]}
    created = client.post("/v1/requests", json=body, headers=basic(COLLECT_KEY)).get_json()["requests"][0]["_id"]
    assert client.post("/__mock/scenarios/second-refused").status_code == 409
    app.extensions["mockserver"].close()
    reopened = create_app(settings)
    try:
        state = reopened.test_client().get("/__mock/snapshot").get_json()["tenants"]
        requests = reopened.test_client().get("/__mock/state/collect/requests").get_json()["items"]
        assert created in [request["_id"] for request in requests]
        templates = reopened.test_client().get("/__mock/state/insigner/templates").get_json()["items"]
        assert "tpl_twice" not in [template["id"] for template in templates]
        assert len(state["insigner"]["tenants"]) == 1  # the scenario's new key made no tenant that stayed
    finally:
        reopened.extensions["mockserver"].close()
