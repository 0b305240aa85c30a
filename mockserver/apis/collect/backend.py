"""Collect's rules for "send multiple requests", on plain data: no Flask here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError

from ...clock import iso_seconds, parse_instant, to_utc
from ...dumping import compile_dumper
from ...egress import EgressPolicy
from ...errors import BadRequest, NotFound, ValidationFailed, flatten_messages
from ...ids import IdFactory
from ...ports import PreparedEvent, WebhookTarget
from ...seeding import Snapshot, load_declared, make_faker, require_list, require_object, tenant_random
from .schemas import ENTITY_SCHEMAS, MESSAGE_FLAGS, WEBHOOK_TYPES, RequestEventSchema, RequestOutSchema

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from faker import Faker

    from ...clock import Clock
    from ...ports import WebhookEvents
    from ...store import Collection
    from ...tenants import Tenant

NOT_FOUND_TEXT = "The specified object could not be found."

COLLECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "teams": ("_id", ()),
    "members": ("_id", ("email",)),
    "campaigns": ("_id", ()),
    "contacts": ("_id", ("email",)),
    "requests": ("_id", ()),
    "apiKeys": ("key", ()),
    "webhooks": ("_id", ()),
}
# At most this many webhooks per team, paused ones included (mock-defined: the vendor states none).
WEBHOOKS_PER_TEAM = 50
# The members of a stored webhook that the answers show, in the create answer's order; then
# `failureCount`, which only the control plane shows.
WEBHOOK_MEMBERS = ("_id", "types", "status", "createdAt", "targetUrl", "campaignId", "secretToken")
# A `created` delivery's body; its `data` is the request as the answer's requests[i] shows it.
dump_event = compile_dumper(RequestEventSchema())
dump_request = compile_dumper(RequestOutSchema())


def team_zone(team: dict[str, Any]) -> ZoneInfo:
    """Return the team's IANA time zone (UTC if it is unknown)."""
    try:
        return ZoneInfo(team.get("tz") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def default_due_date(created: datetime, zone: ZoneInfo, days: int) -> datetime:
    """Return 23:59 in the team's zone, `days` days after the creation day there."""
    local_day = created.astimezone(zone).date() + timedelta(days=days)
    return to_utc(datetime.combine(local_day, time(23, 59), tzinfo=zone))


def resolve_due_date(value: date | datetime | None, created: datetime, zone: ZoneInfo, days: int) -> datetime:
    """Return the due date of a new request: given (naive means the team's zone) or the default.

    Raise ValueError for a date that UTC cannot hold (the first or last day of year 1 or 9999).
    """
    if value is None:
        return default_due_date(created, zone, days)
    if isinstance(value, datetime):
        return to_utc(value if value.tzinfo else value.replace(tzinfo=zone))
    return to_utc(datetime.combine(value, time(23, 59), tzinfo=zone))


class CollectBackend:
    """State and rules of Collect's API, per tenant (team)."""

    def __init__(
        self, clock: Clock, team_id: str, egress: EgressPolicy | None = None, events: WebhookEvents | None = None
    ) -> None:
        self.clock = clock
        self.team_id = team_id
        self.egress = egress or EgressPolicy()
        self.events = events

    # -- a reset and a snapshot: Collect's backend keeps no sequences of its own ------------------
    def reset(self, seed: int) -> None:
        return None

    def export_counters(self) -> dict[str, Any]:
        return {}

    def on_clock(self, tenants: list[Tenant], now: datetime) -> None:
        return None  # nothing of Collect's changes by itself as time passes

    def restore_counters(self, counters: dict[str, Any]) -> None:
        return None

    def team(self, tenant: Tenant) -> dict[str, Any]:
        """Return the tenant's team."""
        teams = tenant.collection("teams")
        return teams.get(self.team_id) or teams.all()[0]

    def send_multiple_requests(self, tenant: Tenant, payload: dict[str, Any]) -> dict[str, Any]:
        """Create one request per contact (new or existing) of a campaign; unknown contact IDs go to `errors`."""
        now = self.clock.now()
        now_text = iso_seconds(now)
        team = self.team(tenant)
        contacts = tenant.collection("contacts")
        requests = tenant.collection("requests")

        campaign = tenant.collection("campaigns").get(payload["campaignId"])
        if campaign is None:
            raise NotFound(
                f"No campaign {payload['campaignId']!r}.",
                field_errors=[{"field": "campaignId", "message": "Campaign not found"}],
            )
        item_ids = {item.get("id") for item in campaign.get("items", [])} | {
            item.get("itemId") for item in campaign.get("items", []) if item.get("itemId")
        }
        missing = [
            {"field": f"items.{i}", "message": "Item not in the campaign"}
            for i, item in enumerate(payload.get("items", []))
            if item not in item_ids
        ] + [
            {"field": f"samples.{i}.itemId", "message": "Item not in the campaign"}
            for i, sample in enumerate(payload.get("samples", []))
            if sample["itemId"] not in item_ids
        ]
        assignee = None
        if "assignedTo" in payload:
            members = tenant.collection("members")
            assignee = members.get(payload["assignedTo"]) or members.find("email", payload["assignedTo"])
            if assignee is None:
                missing.append({"field": "assignedTo", "message": "Team member not found"})
        if missing:
            raise NotFound("Unknown references.", field_errors=missing)

        try:
            due = iso_seconds(
                resolve_due_date(payload.get("dueDate"), now, team_zone(team), int(campaign.get("dueDays", 7)))
            )
        except ValueError:
            raise ValidationFailed(
                "Invalid fields.", field_errors=[{"field": "dueDate", "message": "Out of range once in UTC."}]
            ) from None
        branding = campaign.get("branding") or {"useBranding": False}
        flags = {flag: payload[flag] for flag in MESSAGE_FLAGS if flag in payload}
        portal_base = team.get("portalBaseUrl", "https://app.usecollect.com/portal").rstrip("/")

        # Contacts first, then requests: the reference example hands its first ID to the new contact.
        errors: list[dict[str, Any]] = []
        echoed: list[Any] = []
        resolved: list[dict[str, Any]] = []
        for index, ref in enumerate(payload["contacts"]):
            if isinstance(ref, str):
                contact = contacts.get(ref)
                echoed.append(ref)
                if contact is None:
                    errors.append({"index": index, "contact": ref, "message": NOT_FOUND_TEXT})
                    continue
            else:
                contact = contacts.find("email", ref["email"])
                if contact is None:
                    contact = self._new_contact(tenant.ids, contacts, ref, now_text)
                echoed.append(contact)
            resolved.append(contact)

        created: list[dict[str, Any]] = []
        for contact in resolved:
            current = contacts.get(contact["_id"]) or contact
            contact = contacts.update(
                contact["_id"],
                {
                    "nbRequest": int(current.get("nbRequest", 0)) + 1,
                    "lastActivity": now_text,
                },
            )
            request_id = tenant.ids.meteor("requests", taken=requests.__contains__)
            request = {
                "_id": request_id,
                "status": "pending",
                "contact": contact,
                "dueDate": due,
                "privacy": "private",
                "branding": dict(branding),
                "createdAt": now_text,
                "portalUrl": f"{portal_base}/{team['_id']}/{request_id}",
                "campaignId": campaign["_id"],
                **flags,
            }
            stored = dict(request, contact={"_id": contact["_id"]})
            for extra in ("items", "samples"):
                if extra in payload:
                    stored[extra] = payload[extra]
            if assignee is not None:
                stored["assignedTo"] = assignee["_id"]
            requests.insert(stored)
            created.append(request)
        self._emit_created(tenant, campaign["_id"], created, now)
        return {"errors": errors, "contacts": echoed, "requests": created}

    def _emit_created(self, tenant: Tenant, campaign_id: str, created: list[dict[str, Any]], now: datetime) -> None:
        """One `created` event per new request, in `requests[]` order (the payload is mock-defined)."""
        if self.events is None or not created:
            return
        targets = self._targets(tenant, "created", campaign_id)
        if not targets:
            return
        events = tenant.sequence("events")
        for request in created:
            event_id = events.meteor("events")
            payload = dump_event({"_id": event_id, "type": "created", "createdAt": iso_seconds(now), "data": request})
            self.events.emit("collect", tenant.id, "created", payload, now.timestamp(), targets, event_id=event_id)

    def prepare_event(self, tenant: Tenant, name: str, given: dict[str, Any]) -> PreparedEvent:
        """A documented webhook type of a request (`requestId`); `statusChanged` stores the new `status`."""
        if name not in WEBHOOK_TYPES:
            raise ValueError(f"event: {name!r} is not one of Collect's webhook types")
        request_id = given.get("requestId")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError(f"requestId: required for {name}")
        requests = tenant.collection("requests")
        stored = requests.get(request_id)
        if stored is None:
            raise LookupError(f"no request {request_id!r} in this team")
        previous = stored["status"]
        if name == "statusChanged":
            status = given.get("status")
            if not isinstance(status, str) or not status.strip():
                raise ValueError("status: required for statusChanged (the request's new status)")
            stored = requests.update(request_id, {"status": status})
        contact = tenant.collection("contacts").get(stored["contact"]["_id"]) or stored["contact"]
        data = dump_request({**stored, "contact": contact})
        if name == "statusChanged":
            data["previousStatus"] = previous
        now = self.clock.now()
        event_id = tenant.sequence("events").meteor("events")
        payload = {"_id": event_id, "type": name, "createdAt": iso_seconds(now), "data": data}
        targets = self._targets(tenant, name, stored.get("campaignId"))
        return PreparedEvent(name, payload, now.timestamp(), targets, event_id)

    @staticmethod
    def _targets(tenant: Tenant, name: str, campaign_id: str | None) -> list[WebhookTarget]:
        """The team's active webhooks whose types include `name`, for every campaign or this one."""
        return [
            WebhookTarget(doc["_id"], doc["targetUrl"], token=doc.get("secretToken"))
            for doc in sorted(tenant.collection("webhooks").all(), key=lambda doc: doc["createdAt"])
            if doc["status"] == "active" and name in doc["types"] and doc.get("campaignId") in (None, campaign_id)
        ]

    def record_delivery(self, tenant: Tenant, webhook_id: str, ok: bool, last: bool) -> str | None:
        """`failureCount` as inSigner's; the last attempt of a delivery failing pauses the webhook."""
        webhooks = tenant.collection("webhooks")
        doc = webhooks.get(webhook_id)
        if doc is None:
            return None
        update: dict[str, Any] = {"failureCount": 0 if ok else int(doc.get("failureCount", 0)) + 1}
        if last and not ok:
            update["status"] = "paused"
        return str(webhooks.update(webhook_id, update)["status"])

    # -- webhooks ---------------------------------------------------------------------------------
    def _checked_target(self, url: str) -> str:
        """Return `url` if the egress policy lets the mock deliver there, else raise a 400 on `targetUrl`."""
        try:
            self.egress.check_registration(url)
        except ValueError as exc:
            raise ValidationFailed(
                "Invalid fields.", field_errors=[{"field": "targetUrl", "message": str(exc)}]
            ) from None
        return url

    @staticmethod
    def _check_campaign(tenant: Tenant, campaign_id: str) -> None:
        if tenant.collection("campaigns").get(campaign_id) is None:
            raise NotFound(
                f"No campaign {campaign_id!r}.", field_errors=[{"field": "campaignId", "message": "Campaign not found"}]
            )

    def add_webhook(self, tenant: Tenant, payload: dict[str, Any]) -> dict[str, Any]:
        """Register a webhook for the team (every type when `types` is absent)."""
        url = self._checked_target(payload["targetUrl"])
        if "campaignId" in payload:
            self._check_campaign(tenant, payload["campaignId"])
        webhooks = tenant.collection("webhooks")
        if len(webhooks) >= WEBHOOKS_PER_TEAM:
            problem = f"At most {WEBHOOKS_PER_TEAM} webhooks per team."
            raise BadRequest(problem, field_errors=[{"field": "targetUrl", "message": problem}])
        doc = webhook_doc(
            tenant.sequence("webhooks"), webhooks.__contains__, {**payload, "targetUrl": url}, self.clock.now()
        )
        webhooks.insert(doc)
        return doc

    def registered_webhooks(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The team's webhooks, oldest first, in the control plane's shape (`events`: its types)."""
        docs = sorted(tenant.collection("webhooks").all(), key=lambda doc: doc["createdAt"])
        return [
            {
                "id": doc["_id"],
                "url": doc["targetUrl"],
                "events": list(doc["types"]),
                "campaignId": doc.get("campaignId"),
                "status": doc["status"],
                "failureCount": doc.get("failureCount", 0),
                "secretToken": doc.get("secretToken"),
                "createdAt": doc["createdAt"],
            }
            for doc in docs
        ]

    def modify_webhook(self, tenant: Tenant, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change what the body names ("Modify a webhook"); a new URL is checked as at registration."""
        webhooks = tenant.collection("webhooks")
        if webhooks.get(webhook_id) is None:
            raise NotFound(f"No webhook {webhook_id!r}.")
        if "targetUrl" in changes:
            self._checked_target(changes["targetUrl"])
        if "campaignId" in changes:
            self._check_campaign(tenant, changes["campaignId"])
        update = {name: value for name, value in changes.items() if name in WEBHOOK_MEMBERS}
        if "types" in update:
            update["types"] = list(dict.fromkeys(update["types"]))
        if not update:
            return webhooks.get(webhook_id) or {}
        changed = webhooks.update(webhook_id, update)
        if self.events is not None and ("targetUrl" in update or update.get("status") == "paused"):
            self.events.retarget("collect", tenant.id, webhook_id, changed["targetUrl"], changed["status"] == "active")
        return changed

    @staticmethod
    def _new_contact(ids: IdFactory, contacts: Collection, fields: dict[str, Any], now_text: str) -> dict[str, Any]:
        # Key order of the reference example: _id, email, company, lastName, createdAt, firstName.
        contact: dict[str, Any] = {"_id": ids.meteor("contacts", taken=contacts.__contains__), "email": fields["email"]}
        for name in ("company", "phone", "lastName"):
            if name in fields:
                contact[name] = fields[name]
        contact["createdAt"] = now_text
        for name in ("firstName", "tag", "custom", "data"):
            if name in fields:
                contact[name] = fields[name]
        contact["nbRequest"] = 0
        contacts.insert(contact)
        return contact

    def add_entity(self, tenant: Tenant, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store an entity sent through the control plane."""
        schema = ENTITY_SCHEMAS.get(collection)
        if schema is None:
            raise ValueError(f"{collection}: requests are made with POST /v1/requests")
        try:
            doc = schema().load(body)
        except ValidationError as exc:
            first = flatten_messages(exc.messages)[0]
            raise ValueError(f"{first['field']}: {first['message']}") from None
        coll = tenant.collection(collection)
        if collection == "webhooks":
            campaigns = tenant.collection("campaigns")
            webhook = declared_webhook(
                tenant.sequence("webhooks"),
                coll.__contains__,
                doc,
                self.egress,
                lambda campaign_id: campaigns.get(campaign_id) is not None,
                self.clock.now(),
            )
            coll.insert(webhook)
            return webhook
        if collection == "apiKeys":
            expires = doc.get("expiresAt")
            doc["expiresAt"] = iso_seconds(_as_utc(expires)) if expires else None
        else:
            doc.setdefault("_id", tenant.ids.meteor(collection, taken=coll.__contains__))
            doc = {"_id": doc.pop("_id"), **doc}
            if "createdAt" in doc or collection in ("contacts", "campaigns"):
                doc["createdAt"] = iso_seconds(_as_utc(doc["createdAt"]) if "createdAt" in doc else self.clock.now())
        if collection == "campaigns":
            doc["items"] = [{"id": item.get("id") or tenant.ids.meteor("items"), **item} for item in doc["items"]]
        if collection == "teams":
            raise ValueError("teams: a tenant has exactly one team; change it through the fixtures")
        coll.insert(doc)
        return doc


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


def webhook_doc(
    sequence: IdFactory, taken: Callable[[str], bool], fields: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """A stored webhook in the answer's order; its `_id`, unless given, drawn from `sequence`."""
    doc: dict[str, Any] = {
        "_id": fields.get("_id") or sequence.meteor("webhooks", taken=taken),
        "types": list(dict.fromkeys(fields.get("types") or WEBHOOK_TYPES)),
        "status": fields.get("status", "active"),
        "createdAt": iso_seconds(created),
        "targetUrl": fields["targetUrl"],
    }
    for name in ("campaignId", "secretToken"):
        if fields.get(name) is not None:
            doc[name] = fields[name]
    doc["failureCount"] = int(fields.get("failureCount", 0))
    return doc


def declared_webhook(
    sequence: IdFactory,
    taken: Callable[[str], bool],
    loaded: dict[str, Any],
    egress: EgressPolicy,
    has_campaign: Callable[[str], bool],
    now: datetime,
) -> dict[str, Any]:
    """A webhook declared ahead (`POST /__mock/state/collect/webhooks`, `webhooks.json`), loaded by its
    entity schema: its URL checked as at registration, its campaign the team's; ValueError naming the
    field when refused."""
    try:
        egress.check_registration(loaded["targetUrl"])
    except ValueError as exc:
        raise ValueError(f"targetUrl: {exc}") from None
    if "campaignId" in loaded and not has_campaign(loaded["campaignId"]):
        raise ValueError(f"campaignId: no campaign {loaded['campaignId']!r} in this team")
    created = _as_utc(loaded["createdAt"]) if "createdAt" in loaded else now
    return webhook_doc(sequence, taken, loaded, created)


def fixture_webhooks(
    fixtures: dict[str, Any],
    folder: Path,
    seed: int,
    egress: EgressPolicy,
    campaigns: list[dict[str, Any]],
    created: datetime,
) -> list[dict[str, Any]]:
    """The webhooks `webhooks.json` declares for the fixture team (registered in the vendor's
    dashboard), each as `POST /__mock/state/collect/webhooks` adds one (`campaignId` one of the
    fixtures' campaigns); an `_id` not given is drawn from a sequence of the fixtures' own."""
    sequence = IdFactory(tenant_random(seed, "collect", "fixture-webhooks"))
    known = {campaign.get("_id") for campaign in campaigns}
    return load_declared(
        fixtures,
        "webhooks",
        folder,
        ENTITY_SCHEMAS["webhooks"](),
        "_id",
        lambda loaded, taken: declared_webhook(sequence, taken, loaded, egress, known.__contains__, created),
    )


def build_snapshot(
    fixtures: dict[str, Any],
    folder: Path,
    seed: int,
    count: int,
    fake: Callable[[], Faker] | None,
    egress: EgressPolicy,
) -> Snapshot:
    """Return the seed data of a fresh Collect tenant: the fixtures plus `count` Faker-made of each kind.

    The fixtures are checked now; Faker makes its part when the data is first needed (once).
    `fake` is a zero-argument callable giving the app's Faker (None: a new one); `egress` checks
    the URLs of the declared webhooks.
    """
    team = require_object(fixtures, "team", folder)
    if not team.get("_id"):
        raise ValueError(f"fixture file {folder / 'team.json'} needs an _id")
    settings = fixtures.get("settings", {})
    members = [dict(m) for m in require_list(fixtures, "members", folder)]
    campaigns = [dict(c) for c in require_list(fixtures, "campaigns", folder)]
    contacts = [dict(c) for c in require_list(fixtures, "contacts", folder)]
    before = parse_instant(settings.get("generatedBefore", "2022-07-03T00:00:00Z"))
    start = before - timedelta(days=365)
    taken_emails = {c.get("email", "").lower() for c in contacts + members}
    first_ids = {kind: list(values) for kind, values in settings.get("firstIds", {}).items()}
    webhooks = fixture_webhooks(fixtures, folder, seed, egress, campaigns, before)
    return Snapshot(
        lambda: {
            **_with_faker_made(team, members, campaigns, contacts, taken_emails, before, start, seed, count, fake),
            "webhooks": webhooks,
        },
        first_ids,
        fixture_only={"webhooks"},
    )


def _with_faker_made(
    team: dict[str, Any],
    members: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    taken_emails: set[str],
    before: datetime,
    start: datetime,
    seed: int,
    count: int,
    app_faker: Callable[[], Faker] | None,
) -> dict[str, list[dict[str, Any]]]:
    """The fixtures' documents with `count` Faker-made members, contacts and campaigns added."""
    fake = make_faker(seed, "collect", app_faker() if app_faker is not None else None)
    ids = IdFactory(tenant_random(seed, "collect", "seed-data"))

    def moment() -> str:
        return iso_seconds(fake.date_time_between(start_date=start, end_date=before, tzinfo=UTC))

    def person(index: int) -> tuple[str, str, str]:
        first, last = fake.first_name(), fake.last_name()
        email = f"{first}.{last}{index}@example.org".lower()
        while email in taken_emails:
            email = f"{first}.{last}{index}.{len(taken_emails)}@example.org".lower()
        taken_emails.add(email)
        return first, last, email

    for index in range(count):
        first, last, email = person(index)
        members.append(
            {
                "_id": ids.meteor("members"),
                "role": "member",
                "email": email,
                "status": "active",
                "lastName": last,
                "firstName": first,
            }
        )
    for index in range(count):
        first, last, email = person(index)
        contacts.append(
            {
                "_id": ids.meteor("contacts"),
                "email": email,
                "company": fake.company(),
                "lastName": last,
                "createdAt": moment(),
                "firstName": first,
                "nbRequest": fake.random_int(0, 12),
            }
        )
    for _ in range(count):
        items = [
            {"id": ids.meteor("items"), "name": fake.word().capitalize(), "type": kind, "order": order}
            for order, kind in enumerate(
                fake.random_elements(["document", "form", "page", "text"], length=3, unique=False)
            )
        ]
        campaigns.append(
            {
                "_id": ids.meteor("campaigns"),
                "name": fake.catch_phrase(),
                "createdAt": moment(),
                "status": fake.random_element(["open", "open", "closed"]),
                "dueDays": 7,
                "branding": {"useBranding": False},
                "items": items,
            }
        )
    return {
        "teams": [dict(team)],
        "members": members,
        "campaigns": campaigns,
        "contacts": contacts,
        "requests": [],
    }
