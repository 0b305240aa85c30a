"""The vendors' example bodies have one copy (apis/<api>/examples.py); it is the vendors' pages, verbatim.

The code (the operation tables, the OpenAPI document, the `malformed` fault), the bench and the
tests read that copy. Here it is compared, key order included, with the pages in
../shared/reference, when they are beside the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.apis.collect import examples as collect
from mockserver.apis.insigner import examples as insigner

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
INSIGNER_PAGE = REFERENCE / "insigner-bulk-send.txt"
COLLECT_PAGE = REFERENCE / "collect-send-multiple-requests.txt"


def page(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"the vendor's page {path} is not beside the project")
    return path.read_text(encoding="utf-8")


def json_after(text: str, section: str, marker: str) -> object:
    start = text.index(marker, text.index(section)) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(text[text.index("{", start) :])
    return value


def same(copy: object, original: object) -> bool:
    return json.dumps(copy) == json.dumps(original)


@pytest.mark.parametrize(
    "copy, section, marker",
    [
        pytest.param(insigner.CREATE_REQUEST, "Create a bulk send", "-d '", id="create-request"),
        pytest.param(insigner.CREATED, "Create a bulk send", "Response 201 Created", id="create-answer"),
        pytest.param(insigner.GOT, "Get bulk send status", "Response", id="get-answer"),
        pytest.param(insigner.LIST, "List bulk sends", "Response", id="list-answer"),
    ],
)
def test_insigner_examples__the_page_verbatim(copy, section, marker):
    assert same(copy, json_after(page(INSIGNER_PAGE), section, marker))


@pytest.mark.parametrize(
    "copy, marker",
    [
        pytest.param(collect.SEND_MULTIPLE_REQUESTS_REQUEST, "Request example", id="request"),
        pytest.param(collect.SEND_MULTIPLE_REQUESTS, "Response examples (200)", id="answer"),
    ],
)
def test_collect_examples__the_page_verbatim(copy, marker):
    assert same(copy, json_after(page(COLLECT_PAGE), "POST /requests", marker))


def test_operation_tables__carry_the_examples():
    from mockserver.apis.collect.operations import OPERATIONS as COLLECT
    from mockserver.apis.insigner.operations import OPERATIONS as INSIGNER

    assert COLLECT[0].example_request is collect.SEND_MULTIPLE_REQUESTS_REQUEST
    assert COLLECT[0].example_answer is collect.SEND_MULTIPLE_REQUESTS
    by_endpoint = {operation.endpoint: operation for operation in INSIGNER}
    assert by_endpoint["create_bulk_send"].example_request is insigner.CREATE_REQUEST
    assert [by_endpoint[name].example_answer for name in ("list_bulk_sends", "create_bulk_send", "get_bulk_send")] == [
        insigner.LIST,
        insigner.CREATED,
        insigner.GOT,
    ]
