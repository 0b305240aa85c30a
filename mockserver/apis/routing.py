"""An emulated API's routes, made from its operation table: one route per record, its scope checked first."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response

from ..context import current_caller
from ..emulated import Caller
from ..operations import Operation

View = Callable[..., Response]
ScopeCheck = Callable[[Caller, str], None]


def blueprint_for(
    name: str, operations: tuple[Operation, ...], views: Mapping[str, Any], require_scope: ScopeCheck | None = None
) -> Blueprint:
    """Return the blueprint that serves each operation with the view named by its `endpoint`.

    `views` is the views module's namespace (its `globals()`); every operation must have its view.
    """
    blueprint = Blueprint(name, __name__)
    for operation in operations:
        view = views.get(operation.endpoint)
        if not callable(view):
            raise LookupError(f"{name}: operation {operation.method} {operation.path} has no view {operation.endpoint}")
        blueprint.add_url_rule(
            operation.rule, operation.endpoint, _checked(operation, view, require_scope), methods=[operation.method]
        )
    return blueprint


def _checked(operation: Operation, view: View, require_scope: ScopeCheck | None) -> View:
    """The view, behind the check of the scope its operation needs (if any)."""
    scope = operation.scope
    if scope is None or require_scope is None:
        return view

    @functools.wraps(view)
    def checked(**arguments: Any) -> Response:
        require_scope(current_caller(), scope)
        return view(**arguments)

    return checked
