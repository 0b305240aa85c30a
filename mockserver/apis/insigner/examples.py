"""The examples inSigner's Bulk Send page shows, verbatim, as data.

The one copy: the operation table, the OpenAPI document, the bench and the tests read them here.
"""

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
# "Create a bulk send": the request example; it succeeds on a fresh server.
CREATE_REQUEST: dict[str, Any] = {
    "templateId": "tpl_abc123",
    "name": "Q3 Vendor Agreements",
    "emailMessage": "Please sign your vendor agreement for Q3.",
    "signers": [
        {"name": "Alice Johnson", "email": "alice@vendor-a.com"},
        {"name": "Bob Williams", "email": "bob@vendor-b.com"},
        {"name": "Carol Davis", "email": "carol@vendor-c.com"},
    ],
}
# The page's answer examples of list, create and get.
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

# Webhooks (the fact sheet, B.8): the 201 example of POST /api/v1/webhooks, verbatim (its secret is the
# page's placeholder; the mock's are 64 lowercase hex characters).
WEBHOOK_CREATED: dict[str, Any] = {
    "data": {
        "id": "wh_abc123",
        "url": "https://api.yourapp.com/webhooks/insigner",
        "events": '["document.completed","document.declined","signer.completed"]',
        "status": "active",
        "description": "Production webhook for document events",
        "secret": "a1b2c3d4e5f6...64_char_hex_string",
        "createdAt": "2026-05-28T12:00:00.000Z",
    }
}
# The request that answer stands for: its url, events (a list, as the request sends them) and description.
WEBHOOK_CREATE_REQUEST: dict[str, Any] = {
    "url": "https://api.yourapp.com/webhooks/insigner",
    "events": ["document.completed", "document.declined", "signer.completed"],
    "description": "Production webhook for document events",
}
