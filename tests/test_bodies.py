"""The one body reader asks its stream for no more than the body can hold (io's read(n) allocates n)."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from mockserver.bodies import READ_PIECE, BodyError, read_at_most, read_json_body

MIB = 1024 * 1024


class Asked(io.BytesIO):
    """A stream that notes the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def request_of(body: bytes, length: int | None) -> SimpleNamespace:
    stream = Asked(body)
    # The environ says what a WSGI server's would: the length, or a chunked body of none.
    environ = {"CONTENT_LENGTH": str(length)} if length is not None else {"HTTP_TRANSFER_ENCODING": "chunked"}
    return SimpleNamespace(content_length=length, stream=stream, mimetype="application/json", environ=environ)


@pytest.mark.parametrize("body", [b"", b'{"seed": 7}'], ids=["empty", "small"])
def test_read_json_body__known_length_reads_only_that_many_bytes(body):
    request = request_of(body, len(body))

    read_json_body(request, MIB, required=False)

    # An optional body of length 0 is not read at all.
    assert request.stream.sizes == ([len(body)] if body else [])


def test_read_json_body__an_empty_chunked_body_is_still_read():
    request = request_of(b"", None)

    assert read_json_body(request, MIB, required=False) is None
    assert request.stream.sizes, "a body of unknown length is read to learn that it is empty"


def test_read_json_body__unknown_length_reads_in_pieces_up_to_the_bound():
    body = b'{"a": "' + b"x" * (3 * READ_PIECE) + b'"}'
    request = request_of(body, None)

    assert read_json_body(request, MIB)["a"] == "x" * (3 * READ_PIECE)
    assert max(request.stream.sizes) <= READ_PIECE


def test_read_json_body__unknown_length_over_the_bound_is_too_large():
    request = request_of(b"[" * (MIB + 10), None)
    request.environ["wsgi.input"] = io.BytesIO(b"[" * 10)  # what is left past werkzeug's cut

    with pytest.raises(BodyError) as caught:
        read_json_body(request, MIB)

    assert caught.value.too_large


@pytest.mark.parametrize("length, limit, expected", [(5, 100, 5), (500, 100, 100), (None, 10, 10), (None, 0, 0)])
def test_read_at_most__never_past_the_limit_or_the_length(length, limit, expected):
    assert len(read_at_most(io.BytesIO(b"z" * 1000), limit, length)) == expected


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


@pytest.mark.parametrize("body", [b'\xef\xbb\xbf{"a": 1}', b'{"a": NaN}', b'{"a": Infinity}', b"{", b'{"a": 1} x'])
def test_read_json_body__malformed_bodies_are_worded_as_json_loads_words_them(body):
    # The reader keeps one decoder for every body; its words are still json.loads' own.
    with pytest.raises(ValueError) as loads:
        json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    with pytest.raises(BodyError) as caught:
        read_json_body(request_of(body, len(body)), MIB)
    assert caught.value.message == f"Malformed JSON: {loads.value}."
