"""The answer Collect's page shows for its operation, as data: what a `malformed` fault cuts in half."""

from __future__ import annotations

from typing import Any

# "Response examples (200)" of POST /v1/requests, verbatim.
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


def example_answer(method: str, path: str) -> Any:
    """Return the page's example answer of the call (Collect has one operation: every call gets it)."""
    return SEND_MULTIPLE_REQUESTS
