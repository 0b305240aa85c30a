"""The OpenAPI 3.1 document of both emulated APIs and of /__mock, built by apispec from the same
marshmallow schemas that validate requests, and from the app's own routes.

The emulated APIs' operations come from each API's operation table (`apis/<api>/operations.py`:
route, schemas, documented answers, the vendor's examples); the /__mock calls from the control
plane's records (`control/calls.py`: each /__mock view carries its `ControlCall`, whose schemas
the view dumps its answer with). Every route of the app must have one or the other, so nothing
can be missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from .. import __version__
from ..apis.collect import schemas as collect
from ..apis.insigner import schemas as insigner
from ..apis.insigner import zod
from ..apis.insigner.errors import PROBLEM_MIMETYPE
from ..context import get_state
from ..control.calls import call_of
from ..control.schemas import ControlErrorSchema
from ..emulated import EmulatedApi
from ..fields import StrictBoolean
from ..operations import Operation as ApiOperation

EXTENSION = "mockserver.openapi"
OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
SECURITY_SCHEMES = {
    "collectBasic": {"type": "http", "scheme": "basic", "description": "Empty username, the API key as password."},
    "insignerBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "isk_ and 44 URL-safe characters"},
    "mockToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Mock-Token",
        "description": "Only when the server was started with --control-token.",
    },
}
PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Mock only: `code=NNN` answers this request with that error, `delay=MS` delays it.",
}


# -- what each /__mock call takes and gives ------------------------------------------------------------
@dataclass(frozen=True)
class ApiStyle:
    """What every operation of one emulated API shares in the document."""

    tag: str
    security: list[dict[str, list[str]]]
    error_mimetype: str
    error_schema: type[Schema]
    headers: dict[str, Any] = field(default_factory=dict)


def header(text: str, kind: str = "string") -> dict[str, Any]:
    return {"schema": {"type": kind}, "description": text, "required": True}


INSIGNER_HEADERS = {
    "X-Request-Id": header("req_ and random characters, on every answer."),
    # On every answer to a known key: all but a 401.
    "RateLimit-Limit": header("Requests allowed in the key's window.", "integer"),
    "RateLimit-Remaining": header("Requests left in the window.", "integer"),
    "RateLimit-Reset": header("Seconds until the window ends.", "integer"),
}
CONTROL_SECURITY: list[dict[str, list[str]]] = [{}, {"mockToken": []}]
API_STYLES = {
    "collect": ApiStyle("collect", [{"collectBasic": []}], JSON, collect.ErrorSchema),
    "insigner": ApiStyle(
        "insigner", [{"insignerBearer": []}], PROBLEM_MIMETYPE, insigner.ProblemSchema, INSIGNER_HEADERS
    ),
}
# Path parameters that name something a fresh server has.
PATH_EXAMPLES = {
    "id": "bs_abc123",
    "api": "insigner",
    "collection": "templates",
    "name": "collect-reference-example",
    "fault_id": "flt_1",
    "filename": "app.js",
}
SCHEMA_PREFIXES = {collect.__name__: "Collect", insigner.__name__: "Insigner"}


def schema_name(schema: Any) -> str:
    """Name a component after its schema, prefixed by its API (`CollectContact`, `InsignerProblem`)."""
    cls = schema if isinstance(schema, type) else type(schema)
    base = re.sub(r"Schema$", "", cls.__name__) or cls.__name__
    return SCHEMA_PREFIXES.get(cls.__module__, "") + base


# -- the APIs' own field types ---------------------------------------------------------------------
def _register_fields(plugin: MarshmallowPlugin) -> None:
    """Teach apispec the custom field types of both APIs' schemas."""
    plugin.map_to_openapi_type(StrictBoolean, "boolean", None)
    plugin.map_to_openapi_type(collect.IsoDate, "string", None)
    plugin.map_to_openapi_type(insigner.Instant, "string", "date-time")
    plugin.map_to_openapi_type(zod.Text, "string", None)
    plugin.map_to_openapi_type(zod.Items, "array", None)
    plugin.map_to_openapi_type(zod.QueryInt, "integer", None)
    plugin.map_to_openapi_type(zod.Choice, "string", None)

    def custom_field_properties(self: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
        if isinstance(field, zod.Text):
            found = {
                "minLength": field.min_length,
                "maxLength": field.max_length,
                "format": "email" if field.email else None,
            }
            return {k: v for k, v in found.items() if v is not None}
        if isinstance(field, zod.Items):
            found = {
                "items": self.field2property(field.inner),
                "minItems": field.min_items or None,
                "maxItems": field.max_items,
            }
            return {k: v for k, v in found.items() if v is not None}
        if isinstance(field, zod.Obj):
            return self.resolve_nested_schema(field.schema)
        if isinstance(field, zod.QueryInt):
            return {"minimum": field.minimum, "maximum": field.maximum}
        if isinstance(field, zod.Choice):
            return {"enum": list(field.choices)}
        if isinstance(field, collect.IsoDate):
            return {"description": "An ISO 8601 date or date-time (without offset: the team's time zone)."}
        if isinstance(field, collect.ContactRef):
            return {
                "oneOf": [
                    {"type": "string", "description": "An existing contact's ID."},
                    self.resolve_nested_schema(collect.ContactSchema),
                ]
            }
        if isinstance(field, collect.Samples):
            sample = self.resolve_nested_schema(collect.SampleSchema)
            return {"oneOf": [{"type": "array", "items": sample}, sample]}
        return {}

    converter = plugin.converter
    if converter is None:
        raise RuntimeError("the marshmallow plugin is not yet attached to a spec")
    converter.add_attribute_function(custom_field_properties)


# -- the document -------------------------------------------------------------------------------------
def build_document(app: Flask) -> dict[str, Any]:
    """Build the OpenAPI document of every route of `app`."""
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="mockserver",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": "Collect's POST /v1/requests and inSigner's bulk sends, emulated, "
            "and the /__mock control plane."
        },
    )
    _register_fields(plugin)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    for tag, text in (
        ("collect", "Collect: send multiple requests"),
        ("insigner", "inSigner: bulk sends"),
        ("control", "The mock's control plane"),
    ):
        spec.tag({"name": tag, "description": text})
    apis = get_state(app).apis
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        blueprint, _, name = rule.endpoint.partition(".")
        operations = paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if blueprint in apis:
                described = _api_operation(apis[blueprint], name)
            else:
                described = _control_operation(app, rule.endpoint, rule.arguments)
            operations[method.lower()] = described
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    hooks = _webhooks(spec, apis)
    built = spec.to_dict()
    built["webhooks"] = hooks
    return built


def _webhooks(spec: APISpec, apis: Any) -> dict[str, Any]:
    """Each API's deliveries, as OpenAPI 3.1's top-level `webhooks` describes what a server sends."""
    described: dict[str, Any] = {}
    registered: set[str] = set()
    for api in apis.values():
        for event, schema in api.events.items():
            name = schema_name(schema)
            if name not in registered:
                spec.components.schema(name, schema=schema)
                registered.add(name)
            described[f"{api.name} {event}"] = {
                "post": {
                    "tags": [api.name],
                    "summary": f"{event}: delivered to every active webhook of the tenant that subscribes to it",
                    "parameters": [
                        {
                            "name": header_name,
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": text,
                        }
                        for header_name, text in api.event_headers.items()
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                    },
                    "responses": {
                        "2XX": {"description": "Delivered: the delivery ends."},
                        "default": {"description": "A failure: retried on the vendor's schedule on the mock's clock."},
                    },
                }
            }
    return described


def _path_parameters(arguments: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            **({"example": PATH_EXAMPLES[name]} if name in PATH_EXAMPLES else {}),
        }
        for name in sorted(arguments)
    ]


def _error_answer(status: int, mimetype: str, schema: Any, headers: dict[str, Any], retry: bool) -> dict[str, Any]:
    """One error answer in its envelope, with the headers it carries (none of RateLimit-* on a 401)."""
    answer: dict[str, Any] = {"description": HTTPStatus(status).phrase, "content": {mimetype: {"schema": schema}}}
    extra = {"Retry-After": header("Seconds to wait before trying again.", "integer")} if retry else {}
    shown = (
        {name: value for name, value in headers.items() if not name.startswith("RateLimit-")}
        if status == 401
        else headers
    )
    if shown or extra:
        answer["headers"] = {**shown, **extra}
    return answer


def _api_operation(api: EmulatedApi, endpoint: str) -> dict[str, Any]:
    """Describe an emulated API's operation from its record in the API's operation table."""
    found: ApiOperation = next(operation for operation in api.operations if operation.endpoint == endpoint)
    style = API_STYLES[api.name]
    operation: dict[str, Any] = {
        "operationId": f"{api.name}_{endpoint}",
        "summary": found.summary,
        "tags": [style.tag],
    }
    parameters = _path_parameters(re.findall(r"\{([^/{}]+)\}", found.path))
    if found.query is not None:
        parameters.append({"in": "query", "schema": found.query})
    operation["parameters"] = [*parameters, PREFER]
    operation["security"] = style.security
    if found.body is not None:
        content: dict[str, Any] = {"schema": found.body}
        if found.example_request is not None:
            content["example"] = found.example_request
        operation["requestBody"] = {"required": True, "content": {JSON: content}}
    headers = style.headers
    ok: dict[str, Any] = {"description": "No content" if found.success == 204 else "Success"}
    if found.answer is not None:
        success: dict[str, Any] = {"schema": found.answer}
        if found.example_answer is not None:
            success["example"] = found.example_answer
        ok["content"] = {JSON: success}
    ok["x-documented-by"] = found.answers[0].reference
    responses: dict[str, Any] = {str(found.success): {**ok, "headers": headers} if headers else ok}
    # The vendor's documented errors (what coverage counts), then the mock's own answers.
    for documented in found.answers[1:]:
        answer = _error_answer(
            documented.status, style.error_mimetype, style.error_schema, headers, documented.status in (429, 503)
        )
        responses[str(documented.status)] = {**answer, "x-documented-by": documented.reference}
    for status in found.mock_statuses:
        answer = _error_answer(status, style.error_mimetype, style.error_schema, headers, False)
        responses[str(status)] = {**answer, "x-mock-defined": True}
    # A fault rule or `Prefer: code=NNN` can ask for any error status, in the API's envelope.
    for family in ("4XX", "5XX"):
        responses[family] = {
            "description": "Any other status a fault asks for",
            "content": {style.error_mimetype: {"schema": style.error_schema}},
            **({"headers": headers} if headers else {}),
        }
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _control_operation(app: Flask, endpoint: str, arguments: set[str]) -> dict[str, Any]:
    """Describe a /__mock call from its route and the record its view carries."""
    view = app.view_functions[endpoint]
    known = call_of(view)
    if known is None:
        raise LookupError(f"the /__mock view {endpoint} has no ControlCall record")
    doc = (view.__doc__ or endpoint).strip().splitlines()[0]
    # Every /__mock call is an operation of the control plane, whichever concern serves it.
    operation: dict[str, Any] = {
        "operationId": f"control_{endpoint.partition('.')[2]}",
        "summary": doc,
        "tags": ["control"],
    }
    parameters = _path_parameters(arguments)
    if known.query is not None:
        parameters.append({"in": "query", "schema": known.query})
    if parameters:
        operation["parameters"] = parameters
    operation["security"] = CONTROL_SECURITY if known.secured else []
    if known.body is not None:
        content: dict[str, Any] = {"schema": known.body}
        if known.example is not None:
            content["example"] = known.example
        operation["requestBody"] = {"required": known.body_required, "content": {JSON: content}}
    ok: dict[str, Any] = {"description": "No content" if known.ok == 204 else "Success"}
    if known.answer is not None or known.formats:
        ok["content"] = {
            **({JSON: {"schema": known.answer}} if known.answer is not None else {}),
            **{kind: {"schema": schema} for kind, schema in known.formats.items()},
        }
    responses: dict[str, Any] = {str(known.ok): ok}
    errors = known.errors + ((401,) if known.secured else ())
    for status in sorted(set(errors)):
        if status in known.special:
            responses[str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": {JSON: {"schema": known.special[status]}},
            }
        else:
            responses[str(status)] = _error_answer(status, JSON, ControlErrorSchema, {}, False)
    operation["responses"] = responses
    return operation


def document(app: Flask) -> dict[str, Any]:
    """Return the app's OpenAPI document, built on first use and kept in app.extensions."""
    built = app.extensions.get(EXTENSION)
    if built is None:
        built = app.extensions.setdefault(EXTENSION, build_document(app))
    return built
