"""POST /api/v1/bulk-sends: the vendor's example, every field rule, references, bookkeeping, the org window."""

from __future__ import annotations

import copy
import json

import pytest
from helpers import GOLDEN_INSIGNER_TIME, INSIGNER_KEYS, bearer, insigner_key

from mockserver.apis.insigner import examples

PROBLEM = "application/problem+json"
TYPES = "https://docs.insigner.com/errors/"


def vendor_example(name: str) -> dict:
    """Return one example of the vendor's page (test_vendor_examples checks the copy against the page)."""
    return copy.deepcopy(
        {
            "create_request": examples.CREATE_REQUEST,
            "create_response": examples.CREATED,
            "get_response": examples.GOT,
            "list_response": examples.LIST,
        }[name]
    )


def compact(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def valid(**changes):
    body = {
        "templateId": "tpl_abc123",
        "name": "Q3 Vendor Agreements",
        "signers": [
            {"name": "Alice Johnson", "email": "alice@vendor-a.com"},
            {"name": "Bob Williams", "email": "bob@vendor-b.com", "phone": "+1555123456"},
        ],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def signer(**changes):
    out = {"name": "Carol Davis", "email": "carol@vendor-c.com"}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not ...}


def create(client, body, auth):
    return client.post("/api/v1/bulk-sends", json=body, headers=auth)


def items(client, collection, tenant=None):
    params = {"tenant": tenant} if tenant else None
    return client.get(f"/__mock/state/insigner/{collection}", query_string=params).get_json()["items"]


def test_create_bulk_send__vendor_example(client, insigner_auth, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    response = create(client, vendor_example("create_request"), insigner_auth)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.get_data() == compact(vendor_example("create_response"))


def test_create_bulk_send__first_id_in_every_fresh_organization(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    response = create(client, vendor_example("create_request"), bearer(insigner_key("fresh-org")))
    assert response.get_data() == compact(vendor_example("create_response"))


def test_create_bulk_send__one_document_per_signer_and_usage_count(client, insigner_auth, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    created = create(
        client, valid(signers=[signer(), signer(email="dan@vendor-d.com", phone="+33 1 23")]), insigner_auth
    ).get_json()["data"]
    documents = [d for d in items(client, "documents") if d["bulkSendId"] == created["id"]]
    assert len(documents) == 2
    assert {d["signer"]["email"] for d in documents} == {"carol@vendor-c.com", "dan@vendor-d.com"}
    assert all(
        d["status"] == "pending"
        and d["templateId"] == "tpl_abc123"
        and d["deleted"] is False
        and d["createdAt"] == GOLDEN_INSIGNER_TIME
        and d["id"].startswith("cm")
        for d in documents
    )
    assert len({d["id"] for d in documents}) == 2
    template = next(t for t in items(client, "templates") if t["id"] == "tpl_abc123")
    assert template["usageCount"] == 47 + 2


def test_create_bulk_send__invalid_domains_fail_delivery(client, insigner_auth):
    body = valid(signers=[signer(), signer(email="bob@vendor-b.invalid"), signer(email="eve@MAIL.INVALID")])
    data = create(client, body, insigner_auth).get_json()["data"]
    assert (data["status"], data["totalCount"], data["sentCount"], data["failedCount"]) == ("completed", 3, 1, 2)
    documents = {d["signer"]["email"]: d for d in items(client, "documents") if d["bulkSendId"] == data["id"]}
    assert documents["carol@vendor-c.com"]["signer"]["delivery"] == "sent"
    assert documents["bob@vendor-b.invalid"]["signer"]["delivery"] == "failed"
    assert documents["bob@vendor-b.invalid"]["status"] == "draft"


def test_create_bulk_send__all_failed_is_failed(client, insigner_auth):
    body = valid(signers=[signer(email="a@x.invalid"), signer(email="b@y.invalid")])
    data = create(client, body, insigner_auth).get_json()["data"]
    assert (data["status"], data["sentCount"], data["failedCount"]) == ("failed", 0, 2)


def test_create_bulk_send__unknown_fields_are_ignored(client, insigner_auth):
    body = valid(extra=True, signers=[signer(role="approver")])
    assert create(client, body, insigner_auth).status_code == 201


def test_create_bulk_send__limits_are_inclusive(client, insigner_auth):
    body = valid(
        name="n" * 200,
        emailMessage="m" * 1000,
        signers=[signer(name="s" * 200, email="e" * 64 + "@" + "d" * 180 + ".com", phone="1" * 20)] * 500,
    )
    response = create(client, body, insigner_auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["data"]["totalCount"] == 500


LONG_EMAIL = "e" * 64 + "@" + "d" * 186 + ".com"  # 255 characters, well-formed


@pytest.mark.parametrize(
    "body, field, message",
    [
        pytest.param(valid(templateId=...), "templateId", "Required", id="template-missing"),
        pytest.param(valid(templateId=7), "templateId", "Expected string, received number", id="template-number"),
        pytest.param(
            valid(templateId=""), "templateId", "String must contain at least 1 character(s)", id="template-empty"
        ),
        pytest.param(valid(name=...), "name", "Required", id="name-missing"),
        pytest.param(valid(name=""), "name", "String must contain at least 1 character(s)", id="name-empty"),
        pytest.param(valid(name="n" * 201), "name", "String must contain at most 200 character(s)", id="name-201"),
        pytest.param(
            valid(name="\U0001f600" * 101),
            "name",
            "String must contain at most 200 character(s)",
            id="name-counted-in-utf16-units",
        ),
        pytest.param(valid(name=None), "name", "Expected string, received null", id="name-null"),
        pytest.param(valid(name=["x"]), "name", "Expected string, received array", id="name-array"),
        pytest.param(
            valid(emailMessage="m" * 1001),
            "emailMessage",
            "String must contain at most 1000 character(s)",
            id="message-1001",
        ),
        pytest.param(valid(emailMessage=5), "emailMessage", "Expected string, received number", id="message-number"),
        pytest.param(valid(emailMessage=None), "emailMessage", "Expected string, received null", id="message-null"),
        pytest.param(valid(signers=...), "signers", "Required", id="signers-missing"),
        pytest.param(valid(signers=[]), "signers", "Array must contain at least 1 element(s)", id="signers-empty"),
        pytest.param(
            valid(signers=[signer()] * 501), "signers", "Array must contain at most 500 element(s)", id="signers-501"
        ),
        pytest.param(valid(signers={"name": "x"}), "signers", "Expected array, received object", id="signers-object"),
        pytest.param(
            valid(signers=["carol@vendor-c.com"]), "signers.0", "Expected object, received string", id="signer-string"
        ),
        pytest.param(valid(signers=[signer(), None]), "signers.1", "Expected object, received null", id="signer-null"),
        pytest.param(valid(signers=[signer(name=...)]), "signers.0.name", "Required", id="signer-name-missing"),
        pytest.param(
            valid(signers=[signer(name="")]),
            "signers.0.name",
            "String must contain at least 1 character(s)",
            id="signer-name-empty",
        ),
        pytest.param(
            valid(signers=[signer(name="s" * 201)]),
            "signers.0.name",
            "String must contain at most 200 character(s)",
            id="signer-name-201",
        ),
        pytest.param(
            valid(signers=[signer(), signer(email=...)]), "signers.1.email", "Required", id="signer-email-missing"
        ),
        pytest.param(
            valid(signers=[signer(), signer(), signer(email="bob")]),
            "signers.2.email",
            "Invalid email",
            id="signer-email-invalid",
        ),
        pytest.param(
            valid(signers=[signer(email="a@b")]), "signers.0.email", "Invalid email", id="signer-email-no-tld"
        ),
        pytest.param(
            valid(signers=[signer(email="a..b@c.com")]),
            "signers.0.email",
            "Invalid email",
            id="signer-email-double-dot",
        ),
        pytest.param(
            valid(signers=[signer(email=LONG_EMAIL)]),
            "signers.0.email",
            "String must contain at most 254 character(s)",
            id="signer-email-255",
        ),
        pytest.param(
            valid(signers=[signer(email=42)]),
            "signers.0.email",
            "Expected string, received number",
            id="signer-email-number",
        ),
        pytest.param(
            valid(signers=[signer(phone="1" * 21)]),
            "signers.0.phone",
            "String must contain at most 20 character(s)",
            id="signer-phone-21",
        ),
        pytest.param(
            valid(signers=[signer(phone=5551234)]),
            "signers.0.phone",
            "Expected string, received number",
            id="signer-phone-number",
        ),
        pytest.param(
            valid(signers=[signer(phone=True)]),
            "signers.0.phone",
            "Expected string, received boolean",
            id="signer-phone-boolean",
        ),
        pytest.param(
            valid(name="\ud800x"), "name", "Invalid string: contains a lone UTF-16 surrogate", id="name-lone-surrogate"
        ),
        pytest.param(
            valid(signers=[signer(email="a\udfff@b.com")]),
            "signers.0.email",
            "Invalid string: contains a lone UTF-16 surrogate",
            id="signer-email-lone-surrogate",
        ),
    ],
)
def test_create_bulk_send__invalid_field(client, insigner_auth, body, field, message):
    before = len(items(client, "bulkSends"))
    response = create(client, body, insigner_auth)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert list(problem) == ["type", "title", "status", "detail", "errors"]
    assert problem["type"] == TYPES + "validation-error"
    assert (problem["title"], problem["status"]) == ("Validation Error", 422)
    assert problem["detail"] == "The request body contains invalid fields"
    assert {"field": field, "message": message} in problem["errors"]
    assert len(items(client, "bulkSends")) == before
    assert not items(client, "documents")


def test_create_bulk_send__every_problem_is_reported(client, insigner_auth):
    response = create(client, {"name": "", "signers": [{"email": "x"}]}, insigner_auth)
    assert response.get_json()["errors"] == [
        {"field": "templateId", "message": "Required"},
        {"field": "name", "message": "String must contain at least 1 character(s)"},
        {"field": "signers.0.name", "message": "Required"},
        {"field": "signers.0.email", "message": "Invalid email"},
    ]


@pytest.mark.parametrize(
    "raw, content_type",
    [
        pytest.param(b"{not json", "application/json", id="malformed"),
        pytest.param(b'{"templateId": "tpl_abc123", "signers": [', "application/json", id="truncated"),
        pytest.param(b"[1, 2]", "application/json", id="array"),
        pytest.param(b'"text"', "application/json", id="string"),
        pytest.param(b"null", "application/json", id="null"),
        pytest.param(b"", "application/json", id="empty"),
        pytest.param(b'{"name": "\xff"}', "application/json", id="invalid-utf8"),
        pytest.param(b'{"name": NaN}', "application/json", id="nan"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", id="nested-too-deep"),
        pytest.param(b"name=x", "application/x-www-form-urlencoded", id="form-encoded"),
    ],
)
def test_create_bulk_send__bad_body_is_400(client, insigner_auth, raw, content_type):
    response = client.post("/api/v1/bulk-sends", data=raw, headers={**insigner_auth, "Content-Type": content_type})
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert list(problem) == ["type", "title", "status", "detail"]
    assert (problem["type"], problem["title"], problem["status"]) == (TYPES + "bad-request", "Bad Request", 400)


def test_create_bulk_send__unknown_template_is_404(client, insigner_auth):
    response = create(client, valid(templateId="tpl_nope"), insigner_auth)
    assert response.status_code == 404
    assert response.get_json() == {
        "type": TYPES + "not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "Template not found",
    }
    assert not items(client, "documents")


def test_create_bulk_send__another_organizations_template_is_404(client, insigner_auth):
    other = insigner_key("other-org")
    added = client.post("/__mock/state/insigner/templates", json={"name": "Theirs"}, query_string={"tenant": other})
    assert added.status_code == 201
    template_id = added.get_json()["id"]
    assert create(client, valid(templateId=template_id), bearer(other)).status_code == 201
    assert create(client, valid(templateId=template_id), insigner_auth).status_code == 404


def test_create_bulk_send__template_without_signer_slots_is_422(client, insigner_auth):
    template = client.post(
        "/__mock/state/insigner/templates", json={"name": "Blank", "_count": {"fields": 0, "signers": 0}}
    ).get_json()
    response = create(client, valid(templateId=template["id"]), insigner_auth)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "templateId", "message": "Template has no signer slots"}]


def test_create_bulk_send__body_over_1_mib_is_413(client, insigner_auth):
    body = json.dumps(valid(padding="x" * (1024 * 1024)))
    response = client.post(
        "/api/v1/bulk-sends", data=body, headers={**insigner_auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"] == TYPES + "payload-too-large"
    assert response.headers["X-Request-Id"].startswith("req_")


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        pytest.param("PUT", "/api/v1/bulk-sends", {"GET", "POST"}, id="put-collection"),
        pytest.param("DELETE", "/api/v1/bulk-sends", {"GET", "POST"}, id="delete-collection"),
        pytest.param("POST", "/api/v1/bulk-sends/bs_abc123", {"GET", "DELETE"}, id="post-item"),
        pytest.param("PATCH", "/api/v1/bulk-sends/bs_abc123", {"GET", "DELETE"}, id="patch-item"),
    ],
)
def test_bulk_sends__wrong_method_is_405_with_allow(client, insigner_auth, method, path, allowed):
    response = client.open(path, method=method, headers=insigner_auth)
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert allowed <= set(response.headers["Allow"].split(", "))
    assert response.get_json()["type"] == TYPES + "method-not-allowed"


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/bulk-sends/bs_abc123/documents", "/api/v1"])
def test_unknown_insigner_path__404_problem(client, insigner_auth, path):
    response = client.get(path, headers=insigner_auth)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert response.get_json()["title"] == "Not Found"
    assert response.headers["X-Request-Id"].startswith("req_")


# -- one bulk send per 5 minutes per organization ----------------------------------------------------------------
def test_create_bulk_send__second_in_five_minutes_is_429(client, insigner_auth, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    assert create(client, valid(), insigner_auth).status_code == 201
    client.post("/__mock/clock", json={"advance": 120.5})
    response = create(client, valid(), insigner_auth)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "180"
    assert response.get_json() == {
        "type": TYPES + "rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Rate limit exceeded. Please retry after the reset period.",
    }
    # The per-key headers stay those of the 120-per-minute window.
    assert response.headers["RateLimit-Limit"] == "120"
    assert len(items(client, "bulkSends")) == 22
    client.post("/__mock/clock", json={"advance": 179.5})
    assert create(client, valid(), insigner_auth).status_code == 201


def test_create_bulk_send__rejected_requests_do_not_use_the_window(client, insigner_auth, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    assert create(client, valid(name=""), insigner_auth).status_code == 422
    assert create(client, valid(templateId="tpl_nope"), insigner_auth).status_code == 404
    assert create(client, valid(), bearer(INSIGNER_KEYS["read"])).status_code == 403
    assert create(client, valid(), insigner_auth).status_code == 201
    client.post("/__mock/clock", json={"advance": 200})
    assert create(client, valid(), insigner_auth).status_code == 429
    # The 429 did not restart the window: it ends 300 s after the successful create.
    client.post("/__mock/clock", json={"advance": 100})
    assert create(client, valid(), insigner_auth).status_code == 201


def test_create_bulk_send__window_is_per_organization(client, insigner_auth):
    assert create(client, valid(), insigner_auth).status_code == 201
    # Another key of the same organization shares its window; another organization has its own.
    assert create(client, valid(), bearer(INSIGNER_KEYS["bulk_sends.*"])).status_code == 429
    assert create(client, valid(), bearer(insigner_key("org-b"))).status_code == 201


def test_create_bulk_send__window_settings(client, insigner_auth):
    client.put("/__mock/rate-limits", json={"insigner": {"bulkSendsPerWindow": 2, "bulkSendWindowSeconds": 10}})
    client.post("/__mock/clock", json={"freeze": True})
    assert [create(client, valid(), insigner_auth).status_code for _ in range(3)] == [201, 201, 429]
    client.post("/__mock/clock", json={"advance": 10})
    assert create(client, valid(), insigner_auth).status_code == 201


def test_create_bulk_send__window_switched_off(client, insigner_auth):
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    assert [create(client, valid(), insigner_auth).status_code for _ in range(3)] == [201, 201, 201]
    # Creates while it was off do not count once it is on again.
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": True}})
    assert [create(client, valid(), insigner_auth).status_code for _ in range(2)] == [201, 429]
