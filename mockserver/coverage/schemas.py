"""The query and the JSON answer of GET /__mock/coverage."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from .report import FORMATS


class CoverageQuerySchema(Schema):
    """The query parameters of GET /__mock/coverage."""

    class Meta:
        unknown = RAISE

    format = fields.String(
        load_default="json", validate=validate.OneOf(FORMATS), metadata={"description": "json, markdown or junit."}
    )
    tenant = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The API key the client uses (or a tenant id): that tenant's answers only."},
    )


class CoverageAnswerSchema(Schema):
    status = fields.Integer()
    documented = fields.Boolean()
    count = fields.Integer()
    injected = fields.Integer(metadata={"description": "The part a fault rule or a Prefer header produced."})


class CoverageOperationSchema(Schema):
    method = fields.String()
    path = fields.String(metadata={"description": "The path template the mock serves."})
    answers = fields.List(fields.Nested(CoverageAnswerSchema))


class CoverageApiSchema(Schema):
    operations = fields.List(fields.Nested(CoverageOperationSchema))


class UndocumentedAnswerSchema(Schema):
    api = fields.String()
    method = fields.String()
    path = fields.String(metadata={"description": "A template, or * for a path no operation serves."})
    status = fields.Integer()
    count = fields.Integer()


class CoverageSummarySchema(Schema):
    documented = fields.Integer()
    covered = fields.Integer()
    percent = fields.Float()


class CoverageSchema(Schema):
    since = fields.String(metadata={"format": "date-time"})
    apis = fields.Dict(keys=fields.String(), values=fields.Nested(CoverageApiSchema))
    undocumented = fields.List(fields.Nested(UndocumentedAnswerSchema))
    summary = fields.Nested(CoverageSummarySchema)
