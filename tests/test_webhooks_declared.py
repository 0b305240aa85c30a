"""Webhooks declared ahead (webhooks.md, section 2): `fixtures/<api>/webhooks.json` and a scenario's `webhooks`."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, SEND_EXAMPLE, basic, bearer, insigner_key

from mockserver.apis.insigner import examples
from mockserver.app import create_app
from mockserver.config import shipped_fixtures
from mockserver.scenarios.model import ScenarioError
from mockserver.seeding import FixtureError
from mockserver.testing.receiver import WebhookReceiver

SECRET = "5f2b8c1e9a7d4f3b6e0c2a8d1f9e7b3c4a6d8e0f2b4c6a8e1d3f5b7c9e0a2c4d"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as found:
        yield found


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "fixtures"
    shutil.copytree(shipped_fixtures(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


def app_with(folder: Path, **settings):
    app = create_app({"store": "memory", "seed": 42, "fixtures": str(folder), **settings})
    app.config["TESTING"] = True
    return app


def write(folder: Path, name: str, content) -> None:
    (folder / name).write_text(json.dumps(content), encoding="utf-8")


def registered(client, api: str, **query) -> list[dict]:
    response = client.get("/__mock/webhooks", query_string={"api": api, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["webhooks"]


def settle(client) -> None:
    response = client.post("/__mock/deliveries/settle", json={"withinMs": 10_000})
    assert response.status_code == 200, response.get_data(as_text=True)


# -- fixtures/<api>/webhooks.json ---------------------------------------------------------------------------
def test_fixture_webhooks__the_fixture_organization_has_them_and_delivers_to_them(fixtures_copy, receiver):
    write(
        fixtures_copy / "insigner",
        "webhooks.json",
        [
            {"url": receiver.url, "events": ["bulk_send.completed"], "secret": SECRET, "description": "dashboard"},
            {"id": "wh_declared", "url": receiver.url, "events": ["document.completed"]},
        ],
    )
    app = app_with(fixtures_copy)
    try:
        client = app.test_client()
        hooks = registered(client, "insigner")
        assert [hook["events"] for hook in hooks] == [["bulk_send.completed"], ["document.completed"]]
        first, second = hooks
        assert first["secret"] == SECRET and re.fullmatch(r"wh_[0-9a-z]{24}", first["id"])
        assert second["id"] == "wh_declared" and re.fullmatch(r"[0-9a-f]{64}", second["secret"])
        # The vendor's dashboard made them: the API's first registered webhook is still the examples' id.
        made = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["bulk_send.failed"]}, headers=bearer(INSIGNER_KEY)
        )
        assert made.status_code == 201 and made.get_json()["data"]["id"] == "wh_abc123"
        assert (
            client.post("/api/v1/bulk-sends", json=examples.CREATE_REQUEST, headers=bearer(INSIGNER_KEY)).status_code
            == 201
        )
        got = receiver.wait_for(1)[0]
        assert got.json()["event"] == "bulk_send.completed" and got.signature_valid(SECRET)
    finally:
        app.extensions["mockserver"].close()


def test_fixture_webhooks__other_tenants_have_none_and_a_reset_brings_them_back(fixtures_copy, receiver):
    write(fixtures_copy / "insigner", "webhooks.json", [{"url": receiver.url, "events": ["bulk_send.completed"]}])
    app = app_with(fixtures_copy)
    try:
        client = app.test_client()
        before = registered(client, "insigner")
        other = insigner_key("declared-other-org")
        assert client.get("/api/v1/webhooks", headers=bearer(other)).get_json()["data"] == []
        mine = client.get("/api/v1/webhooks", headers=bearer(INSIGNER_KEY)).get_json()["data"]
        assert [hook["id"] for hook in mine] == [before[0]["id"]]
        assert client.delete(f"/api/v1/webhooks/{before[0]['id']}", headers=bearer(INSIGNER_KEY)).status_code == 204
        assert registered(client, "insigner") == []
        assert client.post("/__mock/reset").status_code == 200
        assert registered(client, "insigner") == before  # same seed, same id and secret
    finally:
        app.extensions["mockserver"].close()


def test_fixture_webhooks__the_seed_draws_their_ids_and_secrets(fixtures_copy):
    write(
        fixtures_copy / "insigner", "webhooks.json", [{"url": "http://127.0.0.1:9/h", "events": ["bulk_send.failed"]}]
    )
    drawn = []
    for seed in (42, 42, 7):
        app = app_with(fixtures_copy, seed=seed)
        try:
            hook = registered(app.test_client(), "insigner")[0]
            drawn.append((hook["id"], hook["secret"]))
        finally:
            app.extensions["mockserver"].close()
    assert drawn[0] == drawn[1] != drawn[2]


def test_fixture_webhooks__collect_team_campaign_scoped_and_delivered(fixtures_copy, receiver):
    write(
        fixtures_copy / "collect",
        "webhooks.json",
        [{"targetUrl": receiver.url, "types": ["created"], "campaignId": "xvr69EYLKXvTkfYuk", "secretToken": "tok"}],
    )
    app = app_with(fixtures_copy)
    try:
        client = app.test_client()
        [hook] = registered(client, "collect")
        assert hook["events"] == ["created"] and hook["campaignId"] == "xvr69EYLKXvTkfYuk"
        assert hook["secretToken"] == "tok" and hook["status"] == "active"
        answer = client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        settle(client)
        assert [got.json()["type"] for got in receiver.received] == ["created"] * len(answer.get_json()["requests"])
    finally:
        app.extensions["mockserver"].close()


@pytest.mark.parametrize(
    "api, content, words",
    [
        pytest.param("insigner", {"url": "x"}, "must hold a JSON array of objects", id="not-a-list"),
        pytest.param("insigner", [{"url": "http://127.0.0.1:9/h"}], "[0] events:", id="no-events"),
        pytest.param(
            "insigner", [{"url": "http://127.0.0.1:9/h", "events": ["not an event!"]}], "[0] events", id="bad-event"
        ),
        pytest.param(
            "insigner",
            [{"url": "http://169.254.169.254/latest", "events": ["bulk_send.failed"]}],
            "[0] url:",
            id="metadata-address",
        ),
        pytest.param(
            "insigner",
            [{"id": "wh_a", "url": "http://127.0.0.1:9/h", "events": ["bulk_send.failed"]}] * 2,
            "[1] id: 'wh_a' is declared twice",
            id="same-id-twice",
        ),
        pytest.param("collect", [{"targetUrl": "http://10.1.2.3/h"}], "[0] targetUrl:", id="not-allowed"),
        pytest.param("collect", [{"targetUrl": "http://127.0.0.1:9/h", "types": []}], "[0] types:", id="no-types"),
        pytest.param(
            "collect",
            [{"targetUrl": "http://127.0.0.1:9/h", "campaignId": "nope"}],
            "[0] campaignId: no campaign 'nope'",
            id="unknown-campaign",
        ),
    ],
)
def test_fixture_webhooks__a_bad_file_stops_the_start_naming_it(fixtures_copy, api, content, words):
    write(fixtures_copy / api, "webhooks.json", content)
    with pytest.raises(FixtureError) as caught:
        create_app({"store": "memory", "seed": 42, "fixtures": str(fixtures_copy)})
    assert "webhooks.json" in str(caught.value) and words in str(caught.value)


def test_fixture_webhooks__a_file_store_keeps_them_across_a_restart(fixtures_copy, tmp_path):
    write(
        fixtures_copy / "insigner", "webhooks.json", [{"url": "http://127.0.0.1:9/h", "events": ["bulk_send.failed"]}]
    )
    db = str(tmp_path / "mock.json")
    first = app_with(fixtures_copy, store="tinydb", db=db)
    try:
        client = first.test_client()
        [hook] = registered(client, "insigner")
        changed = client.patch(
            f"/api/v1/webhooks/{hook['id']}", json={"description": "edited"}, headers=bearer(INSIGNER_KEY)
        )
        assert changed.status_code == 200, changed.get_data(as_text=True)
    finally:
        first.extensions["mockserver"].close()
    second = app_with(fixtures_copy, store="tinydb", db=db)
    try:
        client = second.test_client()
        again = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
        assert again["description"] == "edited" and registered(client, "insigner")[0]["secret"] == hook["secret"]
    finally:
        second.extensions["mockserver"].close()


# -- a scenario's webhooks ----------------------------------------------------------------------------------
def test_scenario_webhooks__applied_after_its_entities_and_undone_by_a_reset(fixtures_copy, receiver):
    tenant = insigner_key("scenario-org")
    write(
        fixtures_copy / "scenarios",
        "with-webhooks.json",
        {
            "name": "with-webhooks",
            "description": "An app whose webhooks were registered in the vendors' dashboards.",
            "entities": [
                {"api": "collect", "collection": "campaigns", "entity": {"_id": "campScenario00001", "name": "S"}}
            ],
            "webhooks": [
                {
                    "api": "insigner",
                    "webhook": {"url": receiver.url, "events": ["bulk_send.completed"], "secret": SECRET},
                },
                {"api": "insigner", "tenant": tenant, "webhook": {"url": receiver.url, "events": ["bulk_send.failed"]}},
                {"api": "collect", "webhook": {"targetUrl": receiver.url, "campaignId": "campScenario00001"}},
            ],
        },
    )
    app = app_with(fixtures_copy)
    try:
        client = app.test_client()
        applied = client.post("/__mock/scenarios/with-webhooks")
        assert applied.status_code == 200, applied.get_data(as_text=True)
        answer = applied.get_json()
        assert list(answer) == ["name", "description", "entities", "webhooks", "faults"]
        assert [hook.get("events") or hook.get("types") for hook in answer["webhooks"]][:2] == [
            ["bulk_send.completed"],
            ["bulk_send.failed"],
        ]
        assert answer["webhooks"][2]["campaignId"] == "campScenario00001"
        assert len(registered(client, "insigner")) == 2 and len(registered(client, "collect")) == 1
        listed = client.get("/api/v1/webhooks", headers=bearer(tenant)).get_json()["data"]
        assert [json.loads(hook["events"]) for hook in listed] == [["bulk_send.failed"]]  # a JSON string, as sent
        assert (
            client.post("/api/v1/bulk-sends", json=examples.CREATE_REQUEST, headers=bearer(INSIGNER_KEY)).status_code
            == 201
        )
        assert receiver.wait_for(1)[0].signature_valid(SECRET)
        assert client.post("/__mock/reset").status_code == 200
        assert registered(client, "insigner") == [] and registered(client, "collect") == []
    finally:
        app.extensions["mockserver"].close()


@pytest.mark.parametrize(
    "webhooks, words",
    [
        pytest.param([{"api": "nope", "webhook": {}}], "webhooks.0.api: unknown api 'nope'", id="unknown-api"),
        pytest.param([{"api": "insigner"}], "webhooks.0.webhook:", id="no-body"),
        pytest.param([{"api": "insigner", "webhook": {}, "extra": 1}], "webhooks.0.extra:", id="unknown-member"),
    ],
)
def test_scenario_webhooks__a_bad_declaration_stops_the_start(fixtures_copy, webhooks, words):
    write(fixtures_copy / "scenarios", "broken.json", {"name": "broken", "description": "x", "webhooks": webhooks})
    with pytest.raises(ScenarioError) as caught:
        create_app({"store": "memory", "seed": 42, "fixtures": str(fixtures_copy)})
    assert "broken.json" in str(caught.value) and words in str(caught.value)


def test_scenario_webhooks__a_refused_one_is_400_naming_its_field(fixtures_copy):
    write(
        fixtures_copy / "scenarios",
        "refused.json",
        {
            "name": "refused",
            "description": "x",
            "webhooks": [
                {"api": "insigner", "webhook": {"url": "http://169.254.169.254/", "events": ["bulk_send.failed"]}}
            ],
        },
    )
    app = app_with(fixtures_copy)
    try:
        response = app.test_client().post("/__mock/scenarios/refused")
        assert response.status_code == 400
        assert response.get_json()["error"]["message"].startswith("url:")
    finally:
        app.extensions["mockserver"].close()
