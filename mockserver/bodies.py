"""The one JSON body reader of every endpoint, and the JSON checks that protect the server.

Both emulated APIs and the control plane read their bodies here; each turns a `BodyError`
into its own envelope. Nothing here knows Flask: a request is anything with `content_length`,
`mimetype`, `stream` and `environ`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

# JSON nested deeper than this is refused (400, mock-defined): no field of either API nests more than
# a few levels, and code that walks a value recursively (copies, dumps, schemas) must never reach
# Python's recursion limit, which json.loads alone lets a body come within a few frames of.
MAX_JSON_DEPTH = 100


class BodyError(ValueError):
    """A body that cannot be used: `problem` says which rule it broke, `message` says it in a sentence."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message

    @property
    def too_large(self) -> bool:
        return self.problem == "too-large"


def read_json_body(
    request: Any,
    max_bytes: int,
    *,
    required: bool = True,
    json_content_type: bool = False,
    reject_lone_surrogates: bool = True,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Return the parsed JSON object of `request`'s body; raise BodyError naming the rule it breaks.

    Without `required`, an empty body is None. `json_content_type` refuses a Content-Type that is
    not JSON (the emulated APIs; the control plane takes what curl -d sends). A lone surrogate
    escape (`"\\ud800"`) is valid JSON but text with no UTF-8 form, so it can be neither stored nor
    answered: refused here, unless the caller's schemas name the field instead.
    """
    if not required and not json_content_type and has_no_body(request.environ):
        return None  # a reset's or a clock read's empty body: no stream, no decoding (cProfile: 11 us)
    length = request.content_length
    if length is not None and length > max_bytes:
        raise BodyError("too-large", f"The request body exceeds {max_bytes} bytes.")
    raw = read_at_most(request.stream, max_bytes + 1, length)
    if over_limit(request, raw, max_bytes):
        raise BodyError("too-large", f"The request body exceeds {max_bytes} bytes.")
    mimetype = request.mimetype or ""
    if json_content_type and mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise BodyError("content-type", f"Content-Type must be application/json, not {mimetype}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("utf-8", "The request body is not valid UTF-8.") from None
    if not text.strip():
        if not required:
            return None
        raise BodyError("empty", "The request body is empty; a JSON object is expected.")
    try:
        if text.startswith("\ufeff"):  # json.loads' own check, which a decoder's decode leaves out
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        payload = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BodyError("malformed", f"Malformed JSON: {reason}.") from None
    if nests_deeper(text, payload, max_depth):
        raise BodyError("too-deep", f"The request body nests deeper than {max_depth} levels.")
    if reject_lone_surrogates and "\\u" in text and has_lone_surrogate(payload):
        raise BodyError("surrogate", "The request body has an unpaired UTF-16 surrogate escape.")
    if not isinstance(payload, dict):
        raise BodyError("not-object", "The request body must be a JSON object.")
    return payload


def has_no_body(environ: dict[str, Any]) -> bool:
    """Whether a WSGI request says it has no body: no chunked encoding, and no length or a zero one."""
    return environ.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in environ


# Bodies of unknown length (chunked) are read in pieces of this size.
READ_PIECE = 64 * 1024


def read_at_most(stream: Any, limit: int, length: int | None) -> bytes:
    """Read up to `limit` bytes of a body of `length` bytes (None: unknown).

    Never `stream.read(limit)` for a short body: io's read(n) allocates and zero-fills n bytes
    before it reads one (cProfile: ~0.1 ms a call for the 1 MiB bound, most of a reset's cost).
    """
    if length is not None:
        return stream.read(min(length, limit))
    pieces, size = [], 0
    while size < limit:
        piece = stream.read(min(READ_PIECE, limit - size))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def over_limit(request: Any, raw: bytes, max_bytes: int) -> bool:
    """Whether the body whose first bytes are `raw` (read up to `max_bytes` + 1) is over `max_bytes`.

    werkzeug cuts a body of unknown length (chunked) at MAX_CONTENT_LENGTH, this same size, without
    a word: then one more byte from the server's own stream tells whether there was more.
    """
    if len(raw) != max_bytes or request.content_length is not None:
        return len(raw) > max_bytes
    return bool(request.environ["wsgi.input"].read(1))


def nests_deeper(text: str | bytes, value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value`, parsed from `text`, nests more than `limit` arrays and objects."""
    brackets = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if brackets <= limit:
        return False  # too few brackets to nest that deep: the common case costs two C scans
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (valid JSON escapes, not encodable text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every body: json.loads with options builds a new one per call (timeit: 3.8 -> 1.1
# us for Collect's example). A decoder keeps only its options, so threads may share it.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class BodyRecorder:
    """A WSGI input stream that passes everything through and keeps the first `cap` + 1 bytes."""

    def __init__(self, stream: Any, cap: int) -> None:
        self._stream = stream
        self.cap = cap
        self.kept = bytearray()
        self.size = 0

    def _keep(self, data: bytes) -> bytes:
        self.size += len(data)
        room = self.cap + 1 - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.read() if size is None or size < 0 else self._stream.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.readline() if size is None or size < 0 else self._stream.readline(size))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
