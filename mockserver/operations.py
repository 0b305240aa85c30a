"""An operation of an emulated API, said once: its route, its scope, its schemas, its documented answers
and the vendor's examples.

Each API lists its operations in one table (`apis/<api>/operations.py`). The routes, the OpenAPI
document, coverage, the `malformed` fault's bodies and the `Prefer` header's documentation all read
that table; nothing else lists operations. Adding an operation is one record there, its view and its
backend code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marshmallow import Schema


@dataclass(frozen=True)
class DocumentedAnswer:
    """One answer the vendor documents for an operation: its status and the page section that says so."""

    status: int
    reference: str


@dataclass(frozen=True)
class Operation:
    """One operation of an emulated API (`path` a template: `/api/v1/bulk-sends/{id}`)."""

    # The view's name in its API's views module, and the Flask endpoint `<api>.<endpoint>`.
    endpoint: str
    method: str
    path: str
    # The one line the OpenAPI document shows.
    summary: str
    # The success first, then each error status the vendor documents for it (what coverage counts).
    answers: tuple[DocumentedAnswer, ...]
    # The scope a key needs (inSigner); None: any valid key may call it.
    scope: str | None = None
    # The schemas that load the query and the body, and the one that dumps the success's body.
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    answer: type[Schema] | None = None
    # Statuses the mock answers that the vendor does not document here (413: a body over
    # --max-body-bytes). The OpenAPI document lists them as the mock's own; coverage as undocumented.
    mock_statuses: tuple[int, ...] = ()
    # The vendor's example request body and answer body, verbatim (None: the page shows none).
    example_request: Any = None
    example_answer: Any = None

    @property
    def success(self) -> int:
        return self.answers[0].status

    @property
    def documented_statuses(self) -> tuple[int, ...]:
        return tuple(answer.status for answer in self.answers)

    @property
    def rule(self) -> str:
        """The path as a Flask rule: `/api/v1/bulk-sends/<id>`."""
        return re.sub(r"\{([^/{}]+)\}", r"<\1>", self.path)

    def matches(self, path: str) -> bool:
        return _template_pattern(self.path).fullmatch(path) is not None


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    """`/api/v1/bulk-sends/{id}` -> a pattern where each `{name}` stands for one path segment."""
    return re.compile("[^/]+".join(re.escape(part) for part in re.split(r"\{[^/{}]+\}", template)))


def instance(schema: type[Schema] | None) -> Schema:
    """One instance of an operation's schema (schemas hold no per-call state: one serves every request)."""
    if schema is None:
        raise LookupError("the operation has no such schema")
    return schema()


# The path of coverage's row for requests to a path that no operation serves.
UNSERVED_PATH = "*"


def template_for(operations: tuple[Operation, ...], path: str) -> str:
    """Return the path template of the operations that `path` fits (any method), else UNSERVED_PATH."""
    for operation in operations:
        if operation.matches(path):
            return operation.path
    return UNSERVED_PATH


def example_answer(operations: tuple[Operation, ...], method: str, path: str) -> Any:
    """Return the vendor's example answer of the call, for a `malformed` fault to cut in half.

    An operation without one (a DELETE answers 204 without a body) takes the example of another
    operation on its path (the resource it is about); a path no operation serves, the first example
    of the API. Whatever it is, it is this API's own shape.
    """
    fitting = [operation for operation in operations if operation.matches(path)]
    ordered = sorted(fitting, key=lambda operation: operation.method != method.upper()) + list(operations)
    return next((operation.example_answer for operation in ordered if operation.example_answer is not None), None)
