"""The examples Collect's "Send multiple requests" page shows, verbatim, as data.

The one copy: the operation table, the OpenAPI document, the bench and the tests read them here.
"""

from __future__ import annotations

from typing import Any

# "Request example" of POST /v1/requests; it succeeds on a fresh server.
SEND_MULTIPLE_REQUESTS_REQUEST: dict[str, Any] = {
    "contacts": ["WmTjsFknzHdmfs3Ra", {"email": "elon@example.com", "lastName": "Musk", "firstName": "Elon"}],
    "campaignId": "xvr69EYLKXvTkfYuk",
}
# "Response examples (200)" of POST /v1/requests.
SEND_MULTIPLE_REQUESTS: dict[str, Any] = {
    "errors": [],
    "contacts": [
        "WmTjsFknzHdmfs3Ra",
        {
            "_id": "ngxhLDiDGEBS2jjKh",
            "email": "elon@example.com",
            "lastName": "Musk",
            "createdAt": "2022-07-04T07:20:06Z",
            "firstName": "Elon",
        },
    ],
    "requests": [
        {
            "_id": "nw42MmBsJoccgutST",
            "status": "pending",
            "contact": {
                "_id": "WmTjsFknzHdmfs3Ra",
                "email": "johndoe@example.com",
                "lastName": "Doe",
                "createdAt": "2022-07-03T13:51:27Z",
                "firstName": "John",
                "nbRequest": 5,
                "lastActivity": "2022-07-04T07:20:06Z",
            },
            "dueDate": "2022-07-11T21:59:00Z",
            "privacy": "private",
            "branding": {"useBranding": False},
            "createdAt": "2022-07-04T07:20:06Z",
            "portalUrl": "https://app.usecollect.com/portal/uGFRDeEL3Ct2uYo2c/nw42MmBsJoccgutST",
            "campaignId": "xvr69EYLKXvTkfYuk",
            "sendCompletionMessage": True,
        },
        {
            "_id": "jdDzbxP8MnfBdrRuM",
            "status": "pending",
            "contact": {
                "_id": "ngxhLDiDGEBS2jjKh",
                "email": "elon@example.com",
                "company": "Tesla",
                "lastName": "Musk",
                "createdAt": "2022-07-04T07:20:06Z",
                "firstName": "Elon",
                "nbRequest": 1,
                "lastActivity": "2022-07-04T07:20:06Z",
            },
            "dueDate": "2022-07-11T21:59:00Z",
            "privacy": "private",
            "branding": {"useBranding": False},
            "createdAt": "2022-07-04T07:20:06Z",
            "portalUrl": "https://app.usecollect.com/portal/uGFRDeEL3Ct2uYo2c/jdDzbxP8MnfBdrRuM",
            "campaignId": "xvr69EYLKXvTkfYuk",
        },
    ],
}

# "Add a webhook" (the fact sheet, A.9): its request and answer examples, verbatim.
ADD_WEBHOOK_REQUEST: dict[str, Any] = {
    "types": ["created", "statusChanged", "dueDateChanged"],
    "targetUrl": "https://yourserver.com/collect-hook",
    "campaignId": "sGyGrNPDxQDy6ZRAm",
}
ADD_WEBHOOK: dict[str, Any] = {
    "_id": "eqQkPdnqwN7J38QEx",
    "types": ["created", "statusChanged", "dueDateChanged"],
    "status": "active",
    "createdAt": "2024-07-13T15:01:38Z",
    "targetUrl": "https://yourserver.com/collect-hook",
}
# "Modify a webhook": the page's example body.
MODIFY_WEBHOOK_REQUEST: dict[str, Any] = {"status": "paused"}
