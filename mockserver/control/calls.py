"""The records of the /__mock calls: what each takes and gives, said once, beside its route.

Each view of the control plane is decorated with its `ControlCall`; the view dumps its answer
with the record's schema, and the OpenAPI document reads the same record from the view (through
`call_of`). A schema here is one that the call uses: nothing exists for the document alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from marshmallow import Schema

from ..dumping import Dumper, compile_dumper

View = TypeVar("View", bound=Callable[..., Any])
# Each view's record, by the view function (what Flask's `view_functions` holds).
_CALLS: dict[Callable[..., Any], ControlCall] = {}


@dataclass(frozen=True, eq=False)
class ControlCall:
    """One /__mock call beyond what its route says: its answer, body and query, and its errors."""

    ok: int = 200
    # The success's JSON: a schema class (dumped with it), or a JSON Schema dict for a free-form object.
    answer: type[Schema] | dict[str, Any] | None = None
    body: type[Schema] | dict[str, Any] | None = None
    query: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    # A request body that succeeds on a fresh server.
    example: Any = None
    # Answers whose body is not the envelope's error: status -> schema class (JSON).
    special: dict[int, type[Schema]] = field(default_factory=dict)
    # The success's other formats: content type -> JSON Schema.
    formats: dict[str, Any] = field(default_factory=dict)
    # False: a call anyone may make (the health check, the dashboard); else the control token's.
    secured: bool = True
    # False: the body may be left out (POST /__mock/reset, POST /__mock/verify).
    body_required: bool = True

    def __call__(self, view: View) -> View:
        """Attach this record to `view` (a decorator under the route's)."""
        _CALLS[view] = self
        return view

    @cached_property
    def _dumpers(self) -> dict[int, Dumper]:
        # The views build their answers in JSON's shape: each value is read under its data key.
        found = {status: compile_dumper(schema(), json_keys=True) for status, schema in self.special.items()}
        if isinstance(self.answer, type):
            found[self.ok] = compile_dumper(self.answer(), json_keys=True)
        return found

    def dump(self, payload: Any, status: int | None = None) -> Any:
        """Return `payload` as the schema of its status dumps it (the success's by default)."""
        return self._dumpers[self.ok if status is None else status](payload)


def call_of(view: Callable[..., Any]) -> ControlCall | None:
    """Return the record of a /__mock view, or None if it has none."""
    return _CALLS.get(view)
