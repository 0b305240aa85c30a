"""GET /__mock/openapi.json: a valid OpenAPI 3.1 document of both APIs and /__mock, from the real schemas."""

from __future__ import annotations

import re

import pytest
from helpers import INSIGNER_KEY, bearer
from marshmallow import Schema
from openapi_spec_validator import validate

from mockserver.apis.collect.schemas import SendMultipleRequestsSchema
from mockserver.apis.insigner.schemas import BulkSendCreateSchema, BulkSendListArgsSchema
from mockserver.control.calls import call_of
from mockserver.faults.rules import FaultRuleSchema
from mockserver.openapi import document as document_module
from mockserver.openapi.document import document

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def settings() -> dict:
    return {"store": "memory", "seed": 42}


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/__mock/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def schema_of(spec: dict, ref: dict) -> dict:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def required(schema_class) -> list[str]:
    return sorted(name for name, field in schema_class().fields.items() if field.required)


def test_openapi__valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_openapi__every_route_of_the_app_is_documented(app, spec):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], path
        assert {m.lower() for m in rule.methods & METHODS} <= set(spec["paths"][path]), path


def test_openapi__every_endpoint_has_its_record(app):
    """An emulated API's endpoint is a record of its operation table; a /__mock call, of the control plane's."""
    state = app.extensions["mockserver"]
    tables = {f"{name}.{operation.endpoint}" for name, api in state.apis.items() for operation in api.operations}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    control = {endpoint for endpoint in endpoints if call_of(app.view_functions[endpoint]) is not None}
    assert endpoints == tables | control
    assert not tables & control


def test_openapi__the_document_has_no_schema_of_its_own():
    """Every schema it shows is one a call loads or dumps with: none is defined for the document alone."""
    own = [
        name
        for name, value in vars(document_module).items()
        if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == document_module.__name__
    ]
    assert own == []


@pytest.mark.parametrize(
    "path",
    [
        "/__mock/health",
        "/__mock/clock",
        "/__mock/faults",
        "/__mock/requests",
        "/__mock/rate-limits",
        "/__mock/state",
        "/__mock/scenarios",
        "/__mock/coverage",
    ],
)
def test_openapi__a_control_answer_has_the_members_its_schema_documents_in_that_order(client, spec, path):
    client.post("/__mock/faults", json={"api": "insigner", "status": 503, "delayMs": 5})
    client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY))
    answer = client.get(path).get_json()
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    properties = resolve(spec, schema)["properties"]
    assert list(answer) == [name for name in properties if name in answer]
    assert set(answer) <= set(properties)
    # One level down, where the answer lists objects (a rule, a journal entry, a scenario).
    for name, value in answer.items():
        inner = resolve(spec, properties[name])
        if isinstance(value, list) and value and isinstance(value[0], dict) and "items" in inner:
            members = resolve(spec, inner["items"])["properties"]
            assert list(value[0]) == [key for key in members if key in value[0]], (path, name)


def resolve(spec, schema):
    """Follow a $ref into components/schemas."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_openapi__documented_statuses_are_coverages(client, spec):
    """Per operation, the statuses the document says the vendor documents are the ones coverage counts."""
    coverage = client.get("/__mock/coverage").get_json()
    compared = 0
    for api, found in coverage["apis"].items():
        for operation in found["operations"]:
            responses = spec["paths"][operation["path"]][operation["method"].lower()]["responses"]
            documented = sorted(int(status) for status, answer in responses.items() if "x-documented-by" in answer)
            assert documented == [answer["status"] for answer in operation["answers"]], (api, operation["path"])
            mock_own = [status for status, answer in responses.items() if answer.get("x-mock-defined")]
            assert set(responses) == {*map(str, documented), *mock_own, "4XX", "5XX"}
            compared += 1
    assert compared == 12


@pytest.mark.parametrize(
    "path, method, schema_class, security",
    [
        pytest.param("/v1/requests", "post", SendMultipleRequestsSchema, "collectBasic", id="collect"),
        pytest.param("/api/v1/bulk-sends", "post", BulkSendCreateSchema, "insignerBearer", id="insigner"),
        pytest.param("/__mock/faults", "post", FaultRuleSchema, "mockToken", id="control"),
    ],
)
def test_openapi__request_bodies_come_from_the_validating_schemas(spec, path, method, schema_class, security):
    operation = spec["paths"][path][method]
    body = schema_of(spec, operation["requestBody"]["content"]["application/json"]["schema"])
    assert sorted(body["properties"]) == sorted(f.data_key or name for name, f in schema_class().fields.items())
    assert sorted(body.get("required", [])) == required(schema_class)
    assert any(security in requirement for requirement in operation["security"])


def test_openapi__query_parameters_from_the_schema(spec):
    parameters = spec["paths"]["/api/v1/bulk-sends"]["get"]["parameters"]
    query = {p["name"]: p["schema"] for p in parameters if p["in"] == "query"}
    assert set(query) == set(BulkSendListArgsSchema().fields)
    assert (query["limit"]["minimum"], query["limit"]["maximum"]) == (1, 100)


@pytest.mark.parametrize(
    "path, method, status, mimetype, envelope",
    [
        pytest.param("/v1/requests", "post", "503", "application/json", "CollectError", id="collect"),
        pytest.param("/api/v1/bulk-sends", "post", "422", "application/problem+json", "InsignerProblem", id="insigner"),
        pytest.param("/__mock/faults", "post", "400", "application/json", "ControlError", id="control"),
    ],
)
def test_openapi__errors_in_each_envelope(spec, path, method, status, mimetype, envelope):
    answer = spec["paths"][path][method]["responses"][status]
    assert answer["content"][mimetype]["schema"]["$ref"].endswith(f"/{envelope}")


def test_openapi__retry_after_on_429_and_503(spec):
    responses = spec["paths"]["/v1/requests"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["headers"] and "Retry-After" in responses["503"]["headers"]
    insigner = spec["paths"]["/api/v1/bulk-sends"]["get"]["responses"]["200"]["headers"]
    assert {"X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(insigner)


def test_openapi__built_once_per_app(app, client):
    client.get("/__mock/openapi.json")
    assert document(app) is document(app)
