"""inSigner's rules for bulk sends, keys and seed data, on plain data: no Flask here."""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError

from ...clock import iso_millis, parse_instant
from ...dumping import compile_dumper
from ...egress import EgressPolicy
from ...errors import Conflict, NotFound, RateLimited, ValidationFailed, flatten_messages
from ...ids import IdFactory
from ...ports import PreparedEvent, WebhookTarget
from ...seeding import Snapshot, load_declared, make_faker, require_list, require_object, tenant_random
from .schemas import DOCUMENTED_EVENTS, ENTITY_SCHEMAS, KEY_PATTERN, SCOPES, BulkSendEventSchema

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from faker import Faker

    from ...clock import Clock
    from ...ports import RequestLimits, WebhookEvents
    from ...store import Collection
    from ...tenants import Tenant

# name: (key field, lookup fields[, order fields]): bulk sends are listed newest first.
COLLECTIONS: dict[str, tuple[Any, ...]] = {
    "organizations": ("id", ()),
    "apiKeys": ("key", ()),
    "templates": ("id", ()),
    "bulkSends": ("id", (), ("createdAt", "id")),
    "documents": ("id", ()),
    "webhooks": ("id", (), ("createdAt", "id")),
}
BODY_DETAIL = "The request body contains invalid fields"
QUERY_DETAIL = "The query parameters contain invalid values"
FAILING_SUFFIX = ".invalid"
REQUEST_ID_LENGTH = 20
# ID lengths (mock-defined; the vendor's examples only show placeholders such as bs_abc123):
# prefix + 24 cuid-like characters, documents "cm" + 23 like a 25-character cuid.
PREFIXED_ID_LENGTH = 24
DOCUMENT_ID_LENGTH = 23
# Fields of a stored bulk send that only the mock uses: the counts an asynchronous one ends with,
# and the ids of its documents (so a delete touches them without scanning every document).
INTERNAL_FIELDS = ("outcome", "documentIds")
# Webhooks (webhooks.md, section 1): the documented limits, the secret's length, and the fields of a
# stored webhook that only the mock uses (who created it, for the creation rate; when it changed).
WEBHOOKS_PER_ORGANIZATION = 10
WEBHOOK_CREATIONS_PER_HOUR = 10
WEBHOOK_CREATION_WINDOW_SECONDS = 3600
SECRET_LENGTH = 64
# "After 20 consecutive failures the status becomes inactive".
WEBHOOK_INACTIVE_AFTER = 20
WEBHOOK_INTERNAL_FIELDS = ("creator", "updatedAt", "deleted", "deletedAt")
WEBHOOK_FIELDS = ("id", "url", "events", "status", "failureCount", "description", "secret", "createdAt")
# A delivery's body: the event and the bulk send as GET /api/v1/bulk-sends/{id} shows it.
dump_event = compile_dumper(BulkSendEventSchema())


def key_tag(key: str) -> str:
    """Name a key in stored data without showing it (the creation rate counts per key)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def is_well_formed_key(key: str) -> bool:
    """Tell whether `key` is `isk_` plus 44 URL-safe characters (anything else is refused unread)."""
    return bool(KEY_PATTERN.fullmatch(key))


def has_scope(scopes: Sequence[str], required: str) -> bool:
    """Tell whether `scopes` grant `required`: itself, `*`, or its resource's wildcard (`bulk_sends.*`)."""
    resource = required.split(".", 1)[0]
    return "*" in scopes or required in scopes or f"{resource}.*" in scopes


def default_key(key: str) -> dict[str, Any]:
    """Return the key entity of a tenant created on first use: full scopes."""
    return {"key": key, "name": None, "scopes": ["*"], "revoked": False, "expiresAt": None}


def delivery_fails(email: str, suffix: str = FAILING_SUFFIX) -> bool:
    """Tell whether delivery to `email` fails: its domain ends in `.invalid` (RFC 2606), mock-defined."""
    domain = email.rpartition("@")[2].lower().rstrip(".")
    return domain == suffix.lstrip(".") or domain.endswith(suffix)


def describe_entity(collection: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Show a stored entity in inSigner's shape for the control plane (with a `deleted` flag)."""
    if collection == "webhooks":
        shown = {name: doc.get(name) for name in WEBHOOK_FIELDS}
        shown["deleted"] = bool(doc.get("deleted"))
        return shown
    if collection in ("bulkSends", "documents"):
        shown = {k: v for k, v in doc.items() if k not in INTERNAL_FIELDS and k not in ("deleted", "deletedAt")}
        shown["deleted"] = bool(doc.get("deleted"))
        if doc.get("deleted"):
            shown["deletedAt"] = doc.get("deletedAt")
        return shown
    return doc


def page_of(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """One page of a list answer from up to `limit` + 1 items, newest first: the extra one says there are more."""
    page, more = items[:limit], len(items) > limit
    return {"data": page, "meta": {"count": len(page), "hasMore": more, "nextCursor": page[-1]["id"] if more else None}}


class InsignerBackend:
    """State and rules of inSigner's Bulk Send API, per tenant (organization)."""

    def __init__(
        self,
        clock: Clock,
        org_id: str,
        limits: RequestLimits,
        async_seconds: float = 0.0,
        failing_suffix: str = FAILING_SUFFIX,
        seed: int = 0,
        egress: EgressPolicy | None = None,
        events: WebhookEvents | None = None,
    ) -> None:
        self.clock = clock
        self.egress = egress or EgressPolicy()
        self.events = events
        self.limits = limits
        self.async_seconds = async_seconds
        self.failing_suffix = failing_suffix
        self.org_id = org_id
        # The X-Request-Id of every answer: one seeded sequence per app (a leaf lock of its own).
        self._request_ids_lock = threading.Lock()
        self._request_ids = IdFactory(random.Random(f"{seed}/requests"))

    # -- the request-id sequence and the backend's part of a reset and a snapshot -------------------
    def next_request_id(self) -> str:
        """Return the next `req_...` id of the answers' X-Request-Id headers."""
        with self._request_ids_lock:
            return "req_" + self._request_ids.token(REQUEST_ID_LENGTH)

    def reset(self, seed: int) -> None:
        with self._request_ids_lock:
            self._request_ids = IdFactory(random.Random(f"{seed}/requests"))

    def export_counters(self) -> dict[str, Any]:
        with self._request_ids_lock:
            return {"requestIds": self._request_ids.export()}

    def restore_counters(self, counters: dict[str, Any]) -> None:
        with self._request_ids_lock:
            self._request_ids = IdFactory.restored(counters["requestIds"])

    # -- reading --------------------------------------------------------------------------------
    def _settle(self, tenant: Tenant, bulk_sends: Collection, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Finish an asynchronous bulk send whose time has come (persisted the first time it is seen)."""
        if doc["status"] != "processing" or not doc.get("completesAt") or not doc.get("outcome"):
            return doc
        if parse_instant(doc["completesAt"]) > now:
            return doc
        done = bulk_sends.update(doc["id"], {**doc["outcome"], "updatedAt": doc["completesAt"], "outcome": None})
        self._emit_bulk_send(tenant, done, parse_instant(doc["completesAt"]).timestamp())
        return done

    def on_clock(self, tenants: list[Tenant], now: datetime) -> None:
        """Finish every asynchronous bulk send whose time has come, read or not, oldest completion first.

        Its events are emitted at its own instant (`completesAt`). Collections whose seed data is
        not stored yet hold none: the seed data's processing bulk sends have no completion time.
        """
        due: list[tuple[str, str, Tenant, dict[str, Any]]] = []
        for tenant in tenants:
            if "bulkSends" in tenant.unfilled or tenant.dropped:
                continue
            for doc in tenant.collection("bulkSends").all():
                waiting = doc["status"] == "processing" and doc.get("completesAt") and doc.get("outcome")
                if waiting and parse_instant(doc["completesAt"]) <= now:
                    due.append((doc["completesAt"], doc["id"], tenant, doc))
        for _, _, tenant, doc in sorted(due, key=lambda item: (item[0], item[1])):
            self._settle(tenant, tenant.collection("bulkSends"), doc, now)

    def prepare_event(self, tenant: Tenant, name: str, given: dict[str, Any]) -> PreparedEvent:
        """A documented event of a bulk send (`bulkSendId`) or a document (`documentId`), to emit now."""
        if name not in DOCUMENTED_EVENTS:
            raise ValueError(
                f"event: {name!r} is not one of inSigner's documented events ({', '.join(DOCUMENTED_EVENTS)})"
            )
        member = "bulkSendId" if name.startswith("bulk_send.") else "documentId"
        entity_id = given.get(member)
        if not isinstance(entity_id, str) or not entity_id:
            raise ValueError(f"{member}: required for {name}")
        if member == "bulkSendId":
            try:
                data = dump_event({"event": name, "data": self._live(tenant, entity_id)})["data"]
            except NotFound:
                raise LookupError(f"no bulk send {entity_id!r} in this organization") from None
        else:
            document = tenant.collection("documents").get(entity_id)
            if document is None or document.get("deleted"):
                raise LookupError(f"no document {entity_id!r} in this organization")
            data = describe_entity("documents", document)
        return PreparedEvent(name, {"event": name, "data": data}, self.clock.timestamp(), self._targets(tenant, name))

    def _emit_bulk_send(self, tenant: Tenant, doc: dict[str, Any], at: float) -> None:
        """Emit `bulk_send.completed` or `bulk_send.failed` for a bulk send just stored so, at `at`."""
        if self.events is None or doc["status"] not in ("completed", "failed"):
            return
        name = f"bulk_send.{doc['status']}"
        targets = self._targets(tenant, name)
        if targets:
            self.events.emit("insigner", tenant.id, name, dump_event({"event": name, "data": doc}), at, targets)

    @staticmethod
    def _targets(tenant: Tenant, name: str) -> list[WebhookTarget]:
        """The organization's active webhooks that subscribe to event `name`, oldest first."""
        found = [
            doc
            for doc in tenant.collection("webhooks").all()
            if not doc.get("deleted") and doc["status"] == "active" and name in doc["events"]
        ]
        found.sort(key=lambda doc: doc["createdAt"])
        return [WebhookTarget(doc["id"], doc["url"], secret=doc["secret"]) for doc in found]

    def _live(self, tenant: Tenant, bulk_send_id: str) -> dict[str, Any]:
        bulk_sends = tenant.collection("bulkSends")
        doc = bulk_sends.get(bulk_send_id)
        if doc is None or doc.get("deleted"):
            raise NotFound("Bulk send not found")
        return self._settle(tenant, bulk_sends, doc, self.clock.now())

    def newest_first(
        self, tenant: Tenant, count: int, *, status: str | None = None, after: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Return up to `count` live bulk sends, newest first (createdAt, id), those after `after` only.

        The one place that orders bulk sends: every list goes through here.
        """
        bulk_sends = tenant.collection("bulkSends")
        now = self.clock.now()
        page: list[dict[str, Any]] = []
        for doc in bulk_sends.descending(below=after):
            if doc.get("deleted"):
                continue
            doc = self._settle(tenant, bulk_sends, doc, now)
            if status is None or doc["status"] == status:
                page.append(doc)
                if len(page) == count:
                    break
        return page

    def list_bulk_sends(
        self, tenant: Tenant, limit: int, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """Return one page: `{"data": [...], "meta": {count, hasMore, nextCursor}}`."""
        after = None
        if cursor is not None:
            # The cursor is the last item's id; a deleted item still marks its place.
            after = tenant.collection("bulkSends").get(cursor)
            if after is None:
                raise ValidationFailed(QUERY_DETAIL, field_errors=[{"field": "cursor", "message": "Invalid cursor"}])
        return page_of(self.newest_first(tenant, limit + 1, status=status, after=after), limit)

    def get_bulk_send(self, tenant: Tenant, bulk_send_id: str) -> dict[str, Any]:
        """Return one live bulk send of the organization, or raise NotFound."""
        return self._live(tenant, bulk_send_id)

    # -- writing --------------------------------------------------------------------------------
    def create_bulk_send(self, tenant: Tenant, payload: dict[str, Any]) -> dict[str, Any]:
        """Create one document per signer from a template and send them; return the bulk send."""
        now = self.clock.now()
        stamp = iso_millis(now)
        templates = tenant.collection("templates")
        template = templates.get(payload["templateId"])
        if template is None or template.get("deleted"):
            raise NotFound("Template not found")
        counts = template.get("_count") or {}
        if int(counts.get("signers", 1)) < 1:
            raise ValidationFailed(
                BODY_DETAIL, field_errors=[{"field": "templateId", "message": "Template has no signer slots"}]
            )
        # Only a bulk send that gets this far uses the organization's window (checked, then counted below).
        self.limits.check_bulk_send(tenant.id, now.timestamp())

        bulk_sends = tenant.collection("bulkSends")
        documents = tenant.collection("documents")
        bulk_send_id = tenant.ids.prefixed("bs_", "bulkSends", PREFIXED_ID_LENGTH, taken=bulk_sends.__contains__)
        new_ids: set[str] = set()

        def taken(candidate: str) -> bool:
            return candidate in new_ids or candidate in documents

        docs, failed = [], 0
        for signer in payload["signers"]:
            fails = delivery_fails(signer["email"], self.failing_suffix)
            failed += fails
            doc_id = tenant.ids.prefixed("", "documents", DOCUMENT_ID_LENGTH, taken=taken)
            new_ids.add(doc_id)
            docs.append(self._document(doc_id, payload["name"], template, bulk_send_id, signer, fails, stamp))
        total = len(docs)
        outcome = {
            "status": "failed" if failed == total else "completed",
            "sentCount": total - failed,
            "failedCount": failed,
        }
        bulk_send: dict[str, Any] = {
            "id": bulk_send_id,
            "name": payload["name"],
            "status": outcome["status"],
            "totalCount": total,
            "sentCount": outcome["sentCount"],
            "failedCount": outcome["failedCount"],
            "emailMessage": payload.get("emailMessage"),
            "templateId": template["id"],
            "createdAt": stamp,
            "updatedAt": stamp,
            "documentIds": [d["id"] for d in docs],
        }
        if self.async_seconds > 0:
            bulk_send.update(
                status="processing",
                sentCount=0,
                failedCount=0,
                outcome=outcome,
                completesAt=iso_millis(now + timedelta(seconds=self.async_seconds)),
            )
        documents.insert_many(docs)
        bulk_sends.insert(bulk_send)
        templates.update(template["id"], {"usageCount": int(template.get("usageCount", 0)) + total})
        self.limits.record_bulk_send(tenant.id, now.timestamp())
        self._emit_bulk_send(tenant, bulk_send, now.timestamp())
        return bulk_send

    @staticmethod
    def _document(
        doc_id: str,
        name: str,
        template: dict[str, Any],
        bulk_send_id: str,
        signer: dict[str, Any],
        fails: bool,
        stamp: str,
    ) -> dict[str, Any]:
        # The documented document fields (Documents API), plus the one signer (mock-defined `signer`).
        return {
            "id": doc_id,
            "name": name,
            "status": "draft" if fails else "pending",
            "signingType": "sequential",
            "fileSize": template.get("fileSize", 0),
            "expiresAt": None,
            "completedAt": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "templateId": template["id"],
            "campaignId": None,
            "bulkSendId": bulk_send_id,
            "folderId": None,
            "_count": {"signers": 1, "fields": int((template.get("_count") or {}).get("fields", 0)), "attachments": 0},
            "signer": {**signer, "delivery": "failed" if fails else "sent"},
        }

    def delete_bulk_send(self, tenant: Tenant, bulk_send_id: str) -> None:
        """Soft-delete a bulk send and its documents; one still processing is a conflict."""
        doc = self._live(tenant, bulk_send_id)
        if doc["status"] == "processing":
            raise Conflict("Bulk send is still processing and cannot be deleted")
        stamp = iso_millis(self.clock.now())
        tenant.collection("bulkSends").update(bulk_send_id, {"deleted": True, "deletedAt": stamp})
        documents = tenant.collection("documents")
        for document_id in doc.get("documentIds") or []:
            found = documents.get(document_id)
            if found is not None and not found.get("deleted"):
                documents.update(document_id, {"deleted": True, "deletedAt": stamp})

    # -- webhooks ---------------------------------------------------------------------------------
    def _checked_url(self, url: str) -> str:
        """Return `url` if the egress policy lets the mock deliver there, else raise ValidationFailed on `url`."""
        try:
            self.egress.check_registration(url, vendor_private=True)
        except ValueError as exc:  # Refused included: the message names the address and --webhook-allow
            raise ValidationFailed(BODY_DETAIL, field_errors=[{"field": "url", "message": str(exc)}]) from None
        return url

    def _live_webhook(self, tenant: Tenant, webhook_id: str) -> dict[str, Any]:
        doc = tenant.collection("webhooks").get(webhook_id)
        if doc is None or doc.get("deleted"):
            raise NotFound("Webhook not found")
        return doc

    def _check_creation_rate(self, webhooks: Collection, creator: str, now: float) -> None:
        """Raise RateLimited if `creator`'s key made 10 webhooks in the last hour of mock time."""
        if not self.limits.enabled("insigner"):
            return
        window = WEBHOOK_CREATION_WINDOW_SECONDS
        recent = []
        for doc in webhooks.all():
            if doc.get("creator") == creator:
                at = parse_instant(doc["createdAt"]).timestamp()
                if now - at < window:  # a creation exactly an hour old has left the hour
                    recent.append(at)
        if len(recent) >= WEBHOOK_CREATIONS_PER_HOUR:
            retry = max(1, math.ceil(min(recent) + window - now))
            raise RateLimited(headers={"Retry-After": str(retry)})

    def create_webhook(self, tenant: Tenant, payload: dict[str, Any], key: str) -> dict[str, Any]:
        """Register a webhook: the URL checked, then the creation rate, then the organization's count."""
        url = self._checked_url(payload["url"])
        now = self.clock.now()
        webhooks = tenant.collection("webhooks")
        creator = key_tag(key)
        self._check_creation_rate(webhooks, creator, now.timestamp())
        if sum(1 for doc in webhooks.all() if not doc.get("deleted")) >= WEBHOOKS_PER_ORGANIZATION:
            raise Conflict(f"Maximum {WEBHOOKS_PER_ORGANIZATION} webhooks per organization")
        doc = webhook_doc(
            tenant.sequence("webhooks"), webhooks.__contains__, url, payload["events"], payload.get("description"), now
        )
        doc["creator"] = creator
        webhooks.insert(doc)
        return doc

    def registered_webhooks(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The organization's live webhooks, oldest first, in the control plane's shape."""
        docs = [doc for doc in tenant.collection("webhooks").all() if not doc.get("deleted")]
        docs.sort(key=lambda doc: doc["createdAt"])
        return [
            {
                "id": doc["id"],
                "url": doc["url"],
                "events": list(doc["events"]),
                "campaignId": None,
                "status": doc["status"],
                "failureCount": doc.get("failureCount", 0),
                "secret": doc["secret"],
                "createdAt": doc["createdAt"],
            }
            for doc in docs
        ]

    def list_webhooks(self, tenant: Tenant, limit: int, cursor: str | None = None) -> dict[str, Any]:
        """Return one page of the organization's webhooks, newest first, as the bulk sends' list pages."""
        webhooks = tenant.collection("webhooks")
        after = None
        if cursor is not None:
            after = webhooks.get(cursor)
            if after is None:
                raise ValidationFailed(QUERY_DETAIL, field_errors=[{"field": "cursor", "message": "Invalid cursor"}])
        items: list[dict[str, Any]] = []
        for doc in webhooks.descending(below=after):
            if not doc.get("deleted"):
                items.append(doc)
                if len(items) > limit:
                    break
        return page_of(items, limit)

    def get_webhook(self, tenant: Tenant, webhook_id: str) -> dict[str, Any]:
        """Return one live webhook of the organization, or raise NotFound."""
        return self._live_webhook(tenant, webhook_id)

    def update_webhook(self, tenant: Tenant, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change what the body names (a new URL checked as at registration); `{}` changes nothing."""
        doc = self._live_webhook(tenant, webhook_id)
        if not changes:
            return doc
        update: dict[str, Any] = {}
        if "url" in changes:
            update["url"] = self._checked_url(changes["url"])
        if "events" in changes:
            update["events"] = list(dict.fromkeys(changes["events"]))
        for name in ("status", "description"):
            if name in changes:
                update[name] = changes[name]
        # Reactivating keeps failureCount (it returns to 0 only on a successful delivery).
        update["updatedAt"] = iso_millis(self.clock.now())
        changed = tenant.collection("webhooks").update(webhook_id, update)
        if self.events is not None and ("url" in update or update.get("status") == "inactive"):
            self.events.retarget("insigner", tenant.id, webhook_id, changed["url"], changed["status"] == "active")
        return changed

    def record_delivery(self, tenant: Tenant, webhook_id: str, ok: bool, last: bool) -> str | None:
        """`failureCount` back to 0 on a success, one more on a failure; inactive at 20 in a row."""
        webhooks = tenant.collection("webhooks")
        doc = webhooks.get(webhook_id)
        if doc is None or doc.get("deleted"):
            return None
        failures = 0 if ok else int(doc.get("failureCount", 0)) + 1
        update: dict[str, Any] = {"failureCount": failures}
        if failures >= WEBHOOK_INACTIVE_AFTER and doc["status"] == "active":
            update["status"] = "inactive"
        return str(webhooks.update(webhook_id, update)["status"])

    def delete_webhook(self, tenant: Tenant, webhook_id: str) -> None:
        """Delete a webhook (kept as deleted: its creation still counts in its key's hour)."""
        self._live_webhook(tenant, webhook_id)
        stamp = iso_millis(self.clock.now())
        tenant.collection("webhooks").update(webhook_id, {"deleted": True, "deletedAt": stamp, "updatedAt": stamp})
        if self.events is not None:
            self.events.retarget("insigner", tenant.id, webhook_id, None, active=False)

    # -- the control plane ------------------------------------------------------------------------
    def add_entity(self, tenant: Tenant, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store an entity sent through the control plane."""
        if collection == "organizations":
            raise ValueError("organizations: a tenant has exactly one organization; change it through the fixtures")
        schema = ENTITY_SCHEMAS[collection]
        try:
            loaded = schema().load(body)
        except ValidationError as exc:
            first = flatten_messages(exc.messages)[0]
            raise ValueError(f"{first['field']}: {first['message']}") from None
        coll = tenant.collection(collection)
        now = self.clock.now()
        if collection == "apiKeys":
            doc = self._key_entity(tenant, coll, loaded)
        elif collection == "templates":
            doc = self._template_entity(tenant, coll, loaded, now)
        elif collection == "bulkSends":
            doc = self._bulk_send_entity(tenant, coll, loaded, now)
        elif collection == "webhooks":
            doc = declared_webhook(tenant.sequence("webhooks"), coll.__contains__, loaded, self.egress, now)
        else:
            doc = self._document_entity(tenant, coll, loaded, now)
        coll.insert(doc)
        return doc

    @staticmethod
    def _key_entity(tenant: Tenant, coll: Collection, loaded: dict[str, Any]) -> dict[str, Any]:
        key = loaded.get("key") or "isk_" + tenant.ids.token(44)
        expires = loaded["expiresAt"]
        return {
            "key": key,
            "name": loaded["name"],
            "scopes": list(dict.fromkeys(loaded["scopes"])),
            "revoked": loaded["revoked"],
            "expiresAt": iso_millis(expires) if expires else None,
        }

    @staticmethod
    def _times(loaded: dict[str, Any], now: datetime) -> tuple[str, str]:
        created = loaded.get("createdAt") or now
        return iso_millis(created), iso_millis(loaded.get("updatedAt") or created)

    def _template_entity(
        self, tenant: Tenant, coll: Collection, loaded: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        created, updated = self._times(loaded, now)
        counts = loaded["counts"]
        return {
            "id": loaded.get("id")
            or tenant.ids.prefixed("tpl_", "templates", PREFIXED_ID_LENGTH, taken=coll.__contains__),
            "name": loaded["name"],
            "description": loaded["description"],
            "category": loaded["category"],
            "fileSize": loaded["fileSize"],
            "usageCount": loaded["usageCount"],
            "isPublic": loaded["isPublic"],
            "createdAt": created,
            "updatedAt": updated,
            "_count": {"fields": counts.get("fields_", 1), "signers": counts.get("signers", 1)},
        }

    def _bulk_send_entity(
        self, tenant: Tenant, coll: Collection, loaded: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        if tenant.collection("templates").get(loaded["templateId"]) is None:
            raise ValueError(f"templateId: no template {loaded['templateId']!r} in this organization")
        if loaded["sentCount"] + loaded["failedCount"] > loaded["totalCount"]:
            raise ValueError("totalCount: must be at least sentCount + failedCount")
        created, updated = self._times(loaded, now)
        doc = {
            "id": loaded.get("id")
            or tenant.ids.prefixed("bs_", "bulkSends", PREFIXED_ID_LENGTH, taken=coll.__contains__),
            "name": loaded["name"],
            "status": loaded["status"],
            "totalCount": loaded["totalCount"],
            "sentCount": loaded["sentCount"],
            "failedCount": loaded["failedCount"],
            "emailMessage": loaded["emailMessage"],
            "templateId": loaded["templateId"],
            "createdAt": created,
            "updatedAt": updated,
        }
        if loaded["status"] == "processing" and loaded["completesAt"] is not None:
            # It finishes at that instant, with every document sent.
            doc["completesAt"] = iso_millis(loaded["completesAt"])
            doc["outcome"] = {"status": "completed", "sentCount": loaded["totalCount"], "failedCount": 0}
        return doc

    def _document_entity(
        self, tenant: Tenant, coll: Collection, loaded: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        created, _ = self._times(loaded, now)
        document_id = loaded.get("id") or tenant.ids.prefixed(
            "", "documents", DOCUMENT_ID_LENGTH, taken=coll.__contains__
        )
        if loaded["templateId"] is not None and tenant.collection("templates").get(loaded["templateId"]) is None:
            raise ValueError(f"templateId: no template {loaded['templateId']!r} in this organization")
        if loaded["bulkSendId"] is not None:
            bulk_sends = tenant.collection("bulkSends")
            bulk_send = bulk_sends.get(loaded["bulkSendId"])
            if bulk_send is None:
                raise ValueError(f"bulkSendId: no bulk send {loaded['bulkSendId']!r} in this organization")
            if document_id in coll:
                raise KeyError(f"{coll.name}: {document_id!r} exists")
            bulk_sends.update(bulk_send["id"], {"documentIds": [*(bulk_send.get("documentIds") or []), document_id]})
        return {
            "id": document_id,
            "name": loaded["name"],
            "status": loaded["status"],
            "signingType": "sequential",
            "fileSize": 0,
            "expiresAt": None,
            "completedAt": None,
            "createdAt": created,
            "updatedAt": created,
            "templateId": loaded["templateId"],
            "campaignId": None,
            "bulkSendId": loaded["bulkSendId"],
            "folderId": None,
            "_count": {"signers": 1, "fields": 0, "attachments": 0},
        }


# -- seed data ----------------------------------------------------------------------------------
TEMPLATE_KINDS = (
    "Mutual NDA",
    "Consulting Agreement",
    "Employment Contract",
    "Vendor Agreement",
    "Sales Order",
    "Lease Agreement",
    "Statement of Work",
    "Purchase Order",
    "Offer Letter",
)
CATEGORIES = ("Legal", "HR", "Sales", "Finance", "Operations")
STATUS_WEIGHTS = OrderedDict([("completed", 0.8), ("failed", 0.1), ("processing", 0.1)])


def check_fixture_keys(keys: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """Return the fixture keys, or raise naming the first one that cannot be used."""
    for key in keys:
        if not isinstance(key.get("key"), str) or not is_well_formed_key(key["key"]):
            raise ValueError(f"{folder / 'apiKeys.json'}: {key.get('key')!r} is not isk_ + 44 URL-safe characters")
        unknown = [s for s in key.get("scopes", []) if s not in SCOPES]
        if unknown:
            raise ValueError(f"{folder / 'apiKeys.json'}: unknown scope {unknown[0]!r}")
    return [
        {
            "key": k["key"],
            "name": k.get("name"),
            "scopes": list(k.get("scopes", ["*"])),
            "revoked": bool(k.get("revoked")),
            "expiresAt": k.get("expiresAt"),
        }
        for k in keys
    ]


def webhook_doc(
    sequence: IdFactory,
    taken: Callable[[str], bool],
    url: str,
    events: list[str],
    description: str | None,
    created: datetime,
    *,
    webhook_id: str | None = None,
    secret: str | None = None,
    status: str = "active",
    failures: int = 0,
) -> dict[str, Any]:
    """A stored webhook; its id (unless given) and secret (unless given) drawn from `sequence`."""
    stamp = iso_millis(created)
    return {
        "id": webhook_id or sequence.prefixed("wh_", "webhooks", PREFIXED_ID_LENGTH, taken=taken),
        "url": url,
        # A name given twice is stored once, in first-seen order.
        "events": list(dict.fromkeys(events)),
        "status": status,
        "failureCount": failures,
        "description": description,
        "secret": secret or sequence.hex(SECRET_LENGTH),
        "createdAt": stamp,
        "updatedAt": stamp,
        "deleted": False,
    }


def declared_webhook(
    sequence: IdFactory, taken: Callable[[str], bool], loaded: dict[str, Any], egress: EgressPolicy, now: datetime
) -> dict[str, Any]:
    """A webhook declared ahead (`POST /__mock/state/insigner/webhooks`, `webhooks.json`), loaded by its
    entity schema: its URL checked as at registration; ValueError naming the field when refused."""
    try:
        egress.check_registration(loaded["url"], vendor_private=True)
    except ValueError as exc:
        raise ValueError(f"url: {exc}") from None
    return webhook_doc(
        sequence,
        taken,
        loaded["url"],
        loaded["events"],
        loaded["description"],
        loaded.get("createdAt") or now,
        webhook_id=loaded.get("id"),
        secret=loaded.get("secret"),
        status=loaded["status"],
        failures=loaded["failureCount"],
    )


def fixture_webhooks(
    fixtures: dict[str, Any], folder: Path, seed: int, egress: EgressPolicy, created: datetime
) -> list[dict[str, Any]]:
    """The webhooks `webhooks.json` declares for the fixture organization (registered in the vendor's
    dashboard), each as `POST /__mock/state/insigner/webhooks` adds one; ids and secrets not given are
    drawn from a sequence of the fixtures' own (the API's first registered webhook is still `wh_abc123`)."""
    sequence = IdFactory(tenant_random(seed, "insigner", "fixture-webhooks"))
    return load_declared(
        fixtures,
        "webhooks",
        folder,
        ENTITY_SCHEMAS["webhooks"](),
        "id",
        lambda loaded, taken: declared_webhook(sequence, taken, loaded, egress, created),
    )


def build_snapshot(
    fixtures: dict[str, Any],
    folder: Path,
    seed: int,
    count: int,
    fake: Callable[[], Faker] | None,
    egress: EgressPolicy,
) -> Snapshot:
    """Return the seed data of a fresh organization: the fixtures plus up to `count` Faker-made of each kind.

    The fixtures are checked now; Faker makes its part when the data is first needed (once).
    `fake` is a zero-argument callable giving the app's Faker (None: a new one); `egress` checks
    the URLs of the declared webhooks.
    """
    organization = require_object(fixtures, "organization", folder)
    if not organization.get("id"):
        raise ValueError(f"fixture file {folder / 'organization.json'} needs an id")
    settings = fixtures.get("settings", {})
    templates = [dict(t) for t in require_list(fixtures, "templates", folder)]
    bulk_sends = [dict(b) for b in require_list(fixtures, "bulkSends", folder)]
    known_templates = {t.get("id") for t in templates}
    for bulk_send in bulk_sends:
        if bulk_send.get("templateId") not in known_templates:
            raise ValueError(
                f"fixture file {folder / 'bulkSends.json'}: {bulk_send.get('id')!r} uses an unknown template"
            )

    # Everything Faker makes is older than the vendor's examples, so they come first in lists.
    generated = parse_instant(settings.get("generatedBefore", "2026-05-28T10:00:00.000Z"))
    before = generated - timedelta(seconds=1)
    first_ids = {kind: list(values) for kind, values in settings.get("firstIds", {}).items()}
    webhooks = fixture_webhooks(fixtures, folder, seed, egress, generated)
    return Snapshot(
        lambda: {
            **_with_faker_made(organization, templates, bulk_sends, before, seed, count, fake),
            "webhooks": webhooks,
        },
        first_ids,
        fixture_only={"webhooks"},
    )


def _with_faker_made(
    organization: dict[str, Any],
    templates: list[dict[str, Any]],
    bulk_sends: list[dict[str, Any]],
    before: datetime,
    seed: int,
    count: int,
    app_faker: Callable[[], Faker] | None,
) -> dict[str, list[dict[str, Any]]]:
    """The fixtures' documents with up to `count` Faker-made templates and bulk sends added."""
    fake = make_faker(seed, "insigner", app_faker() if app_faker is not None else None)
    ids = IdFactory(tenant_random(seed, "insigner", "seed-data"))

    def moment(start: datetime, end: datetime) -> datetime:
        return fake.date_time_between(start_date=start, end_date=end, tzinfo=UTC).replace(
            microsecond=fake.random_int(0, 999) * 1000
        )

    for _ in range(count):
        created = moment(before - timedelta(days=720), before - timedelta(days=200))
        updated = moment(created, before - timedelta(days=150))
        templates.append(
            {
                "id": ids.prefixed("tpl_", "templates", PREFIXED_ID_LENGTH),
                "name": f"{fake.random_element(TEMPLATE_KINDS)} - {fake.word().title()}",
                "description": fake.sentence(nb_words=6),
                "category": fake.random_element(CATEGORIES),
                "fileSize": fake.random_int(20_000, 900_000),
                "usageCount": fake.random_int(0, 300),
                "isPublic": fake.boolean(chance_of_getting_true=20),
                "createdAt": iso_millis(created),
                "updatedAt": iso_millis(updated),
                "_count": {"fields": fake.random_int(1, 20), "signers": fake.random_int(1, 3)},
            }
        )
    template_ids = [t["id"] for t in templates]
    for index in range(count):
        # The first three cover every status; the rest are mostly completed, as real data would be.
        status = ("processing", "completed", "failed")[index] if index < 3 else fake.random_element(STATUS_WEIGHTS)
        created = moment(before - timedelta(days=120), before - timedelta(minutes=30))
        total = fake.random_int(1, 500)
        if status == "completed":
            failed = fake.random_int(0, max(0, total // 20))
            sent = total - failed
        elif status == "failed":
            sent, failed = 0, total
        else:
            # Still processing: nothing delivered yet, as an asynchronous bulk send shows until it ends.
            sent, failed = 0, 0
        updated = created if status == "processing" else created + timedelta(seconds=fake.random_int(1, 900))
        bulk_sends.append(
            {
                "id": ids.prefixed("bs_", "bulkSends", PREFIXED_ID_LENGTH),
                "name": f"{fake.catch_phrase()} {created.year}",
                "status": status,
                "totalCount": total,
                "sentCount": sent,
                "failedCount": failed,
                "emailMessage": fake.sentence(nb_words=10) if fake.boolean(70) else None,
                "templateId": fake.random_element(template_ids),
                "createdAt": iso_millis(created),
                "updatedAt": iso_millis(updated),
            }
        )
    return {
        "organizations": [dict(organization)],
        "templates": templates,
        "bulkSends": bulk_sends,
        "documents": [],
    }
