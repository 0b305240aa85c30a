"""The answers inSigner's Bulk Send page shows, as data: what a `malformed` fault cuts in half."""

from __future__ import annotations

from typing import Any

BULK_SEND: dict[str, Any] = {
    "id": "bs_abc123",
    "name": "Q3 Vendor Agreements",
    "status": "completed",
    "totalCount": 150,
    "sentCount": 148,
    "failedCount": 2,
    "emailMessage": "Please sign your vendor agreement for Q3.",
    "templateId": "tpl_abc123",
    "createdAt": "2026-05-28T10:00:00.000Z",
    "updatedAt": "2026-05-28T10:05:00.000Z",
}
# The page's examples of list, create and get, verbatim.
LIST = {
    "data": [{name: value for name, value in BULK_SEND.items() if name != "emailMessage"}],
    "meta": {"count": 1, "hasMore": False, "nextCursor": None},
}
CREATED = {
    "data": {
        "id": "bs_def456",
        "name": "Q3 Vendor Agreements",
        "status": "completed",
        "totalCount": 3,
        "sentCount": 3,
        "failedCount": 0,
        "templateId": "tpl_abc123",
        "createdAt": "2026-05-28T12:00:00.000Z",
    }
}
GOT = {"data": BULK_SEND}


def example_answer(method: str, path: str) -> Any:
    """Return the page's example answer of the call: the list's, the create's, else one bulk send's.

    A DELETE answers 204 without a body, so its example is the bulk send it is about.
    """
    if path.rstrip("/").endswith("/bulk-sends"):
        return CREATED if method.upper() == "POST" else LIST
    return GOT
