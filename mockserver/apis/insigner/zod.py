"""A kit of marshmallow fields that validate as Zod does: its default messages, JavaScript's lengths and numbers.

inSigner validates with Zod (its messages "Required" and "Invalid email" are Zod's defaults,
api-facts B.3), so these fields answer with Zod's default texts and count string lengths as
JavaScript does (UTF-16 code units). Missing and null values get Zod's texts through
marshmallow's own `required` and `null` error messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields

from ...loading import Reader, compile_schema, list_reader

# Zod's e-mail pattern (zod 3.22+), which the documented "Invalid email" message comes with.
ZOD_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$", re.IGNORECASE
)


# json.loads joins escaped surrogate pairs, so a surrogate left in a str is a lone one:
# no UTF-8 or UTF-16 encoding of it exists, so it can be neither measured nor answered.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = "Invalid string: contains a lone UTF-16 surrogate"


def json_type(value: Any) -> str:
    """Name the JSON type of a parsed value as Zod's messages do."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def js_length(text: str) -> int:
    """Return the length JavaScript sees: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Infinity")
JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def js_number(text: str) -> float:
    """Convert text as JavaScript's Number() does (NaN for anything it does not read)."""
    text = text.strip()
    if not text:
        return 0.0
    if JS_RADIX.fullmatch(text):
        whole = int(text, 0)
        return float(whole) if whole.bit_length() <= 1024 else math.inf
    if JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return math.nan


class ZodField(fields.Field[Any]):
    """A field whose missing and null values get Zod's messages (marshmallow's `required` and `null`)."""

    expected = "string"

    def __init__(self, **kwargs: Any) -> None:
        messages: dict[str, Any] = {"required": "Required", "null": f"Expected {self.expected}, received null"}
        messages.update(kwargs.pop("error_messages", None) or {})
        super().__init__(error_messages=messages, **kwargs)

    def _type_error(self, value: Any) -> ValidationError:
        return ValidationError(f"Expected {self.expected}, received {json_type(value)}")


class Text(ZodField):
    """A string with optional length limits (in UTF-16 units) and an optional e-mail, URL or pattern check."""

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        email: bool = False,
        url: Callable[[str], object] | None = None,
        pattern: re.Pattern[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_length, self.max_length, self.email = min_length, max_length, email
        # `url` parses the text, raising ValueError for what is not a URL (Zod's "Invalid url").
        self.url, self.pattern = url, pattern

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self._type_error(value)
        if LONE_SURROGATE.search(value):
            raise ValidationError(LONE_SURROGATE_MESSAGE)
        problems = []
        length = js_length(value)
        if self.email and not ZOD_EMAIL.fullmatch(value):  # JavaScript's $ never matches before a newline
            problems.append("Invalid email")
        if self.url is not None and not self._is_url(value):
            problems.append("Invalid url")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            problems.append("Invalid")  # Zod's default message of .regex()
        if self.min_length is not None and length < self.min_length:
            problems.append(f"String must contain at least {self.min_length} character(s)")
        if self.max_length is not None and length > self.max_length:
            problems.append(f"String must contain at most {self.max_length} character(s)")
        if problems:
            raise ValidationError(problems)
        return value

    def _is_url(self, value: str) -> bool:
        try:
            self.url(value)  # type: ignore[misc]
        except ValueError:
            return False
        return True


class Items(ZodField):
    """An array of `inner` values with a length range; element errors are keyed by index."""

    expected = "array"

    def __init__(
        self, inner: fields.Field[Any], *, min_items: int = 0, max_items: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.inner, self.min_items, self.max_items = inner, min_items, max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self._type_error(value)
        if len(value) < self.min_items:
            raise ValidationError(f"Array must contain at least {self.min_items} element(s)")
        if self.max_items is not None and len(value) > self.max_items:
            raise ValidationError(f"Array must contain at most {self.max_items} element(s)")
        out, errors = [], {}
        for index, item in enumerate(value):
            try:
                out.append(self.inner.deserialize(item))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out

    def compiled_reader(self) -> Reader | None:
        """For a compiled loader (mockserver/loading.py): the items' own readers and this length range."""
        return list_reader(self.inner, self.min_items, self.max_items)


class Obj(ZodField):
    """A JSON object loaded with `schema` (unknown keys dropped, as Zod's default strips them)."""

    expected = "object"

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self._loader: Schema | None = None

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._type_error(value)
        # One schema instance for every element: building one costs more than loading 500 signers.
        if self._loader is None:
            self._loader = self.schema()
        return self._loader.load(value)

    def compiled_reader(self) -> Reader | None:
        """For a compiled loader (mockserver/loading.py): the object's schema, compiled too."""
        return compile_schema(self.schema())


class QueryInt(ZodField):
    """An integer query parameter, coerced from text as Zod's `z.coerce.number().int()` does."""

    expected = "number"

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = js_number(str(value))
        if math.isnan(number):
            raise ValidationError("Expected number, received nan")
        problems = []
        if (math.isfinite(number) and number != int(number)) or math.isinf(number):
            problems.append("Expected integer, received float")
        if number < self.minimum:
            problems.append(f"Number must be greater than or equal to {self.minimum}")
        if number > self.maximum:
            problems.append(f"Number must be less than or equal to {self.maximum}")
        if problems:
            raise ValidationError(problems)
        return int(number)


class Choice(ZodField):
    """One of a fixed set of strings (Zod's enum message)."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if value not in self.choices:
            expected = " | ".join(f"'{c}'" for c in self.choices)
            raise ValidationError(f"Invalid enum value. Expected {expected}, received '{value}'")
        return value
