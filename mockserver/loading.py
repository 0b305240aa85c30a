"""Compiled loaders: what a marshmallow schema loads, for data it accepts, without its machinery per field.

A schema's load walks every field through `Field.deserialize` (missing, null, pre-load,
validators, post-load) and an error store, whether or not anything is wrong. For a body that
is accepted, most of that is bookkeeping. A compiled loader does the same checks in one pass
and gives up (None) on anything the schema may refuse, a missing required field, a null, a
wrong type, a value one of its validators refuses: the caller then loads with the schema,
which words every problem. So the schema stays the one statement of what a body may hold.

Each field is checked by its own `_deserialize` (the method marshmallow's fields implement)
and its own validators, so a field's rules are never written twice; a field of ours that holds
other fields (inSigner's `Obj` and `Items`) gives its own reader, built from theirs. A schema
or a field whose options a compiled loader does not know (a `data_key`, a default,
`allow_none`, processors, marshmallow's nested fields) gets no compiled loader at all:
`compile_loader` says None, always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, missing


class Refused(Exception):
    """Raised inside a compiled loader: the schema may refuse this data, so its own load decides."""


Loader = Callable[[Any], Any]
Reader = Callable[[Any], Any]

# Fields whose `_deserialize` needs the schema they are bound to, or the whole input: never compiled.
_UNCOMPILED = (fields.Nested, fields.Pluck, fields.Method, fields.Function, fields.Constant)


def compile_loader(schema: Schema, checks: Iterable[Callable[[Any], Any]] = ()) -> Loader:
    """Return a loader giving `schema.load(data)` for data the schema accepts, and None otherwise.

    `checks` are the schema's own `validates_schema` methods, run on the loaded data as its load
    runs them (a check raising ValidationError gives None). A schema with other hooks must not be
    compiled: its tests compare the two loads over bodies near the schema's edges.
    """
    load = compile_schema(schema, tuple(checks))

    def loader(data: Any) -> Any:
        if load is None:
            return None
        try:
            return load(data)
        except (Refused, ValidationError):
            return None

    return loader


def compile_schema(schema: Schema, checks: tuple[Callable[[Any], Any], ...] = ()) -> Loader | None:
    """A load of `schema` that raises (Refused or ValidationError) to refuse, or None if it cannot be compiled."""
    if schema.partial:
        return None
    steps = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name) or "." in name:
            return None
        if field.allow_none or field.load_default is not missing:
            return None
        read = field_reader(field)
        if read is None:
            return None
        steps.append((name, field.required, read))
    declared = set(schema.load_fields)
    unknown = schema.unknown

    def load_one(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise Refused
        out: dict[str, Any] = {}
        for name, required, read in steps:
            value = data.get(name, missing)
            if value is missing:
                if required:
                    raise Refused
            elif value is None:
                raise Refused  # "Field may not be null.": the schema says it
            else:
                out[name] = read(value)
        if unknown in (INCLUDE, RAISE):
            # The schema's own walk over the unknown keys, in the same (set) order.
            for key in set(data) - declared:
                if unknown == RAISE:
                    raise Refused
                out[key] = data[key]
        for check in checks:
            check(out)
        return out

    if not schema.many:
        return load_one

    def load_many(data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise Refused
        return [load_one(item) for item in data]

    return load_many


def field_reader(field: fields.Field[Any]) -> Reader | None:
    """The check and value of one present, non-null value of `field` (raising to refuse), or None.

    A field may give its own reader (a method `compiled_reader()`, None for none): one that loads
    a nested schema or checks a list's items compiles them too. A plain List reads its items with
    its inner field's reader; any other field is its own `_deserialize`. The field's validators
    run after, as its `deserialize` runs them.
    """
    if isinstance(field, _UNCOMPILED) or field.pre_load or field.post_load:
        return None
    own = getattr(field, "compiled_reader", None)
    if own is not None:
        read = own()
    elif isinstance(field, fields.List) and type(field)._deserialize is fields.List._deserialize:
        read = list_reader(field.inner)
    else:
        deserialize = field._deserialize

        def read(value: Any) -> Any:
            return deserialize(value, None, None)

    validators = tuple(field.validators)
    if read is None or not validators:
        return read

    def checked(value: Any) -> Any:
        out = read(value)
        for validator in validators:
            validator(out)
        return out

    return checked


def list_reader(inner: fields.Field[Any], min_items: int = 0, max_items: int | None = None) -> Reader | None:
    """A reader of a JSON array of `min_items` to `max_items` values of `inner` (none null), or None."""
    each = field_reader(inner) if not inner.allow_none else None
    if each is None:
        return None

    def items(value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) < min_items or (max_items is not None and len(value) > max_items):
            raise Refused
        out = []
        for item in value:
            if item is None:
                raise Refused
            out.append(each(item))
        return out

    return items
