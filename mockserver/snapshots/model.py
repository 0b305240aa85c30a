"""Snapshots: the whole mutable state of a server as one JSON document, and back.

A snapshot holds everything that shapes a later answer: the options that do (seed, seed count,
asynchronous seconds, strict auth, a digest of the fixtures), the clock, rate-limit settings and
live windows, fault rules with their counters and random source, the journal, every tenant's
documents as stored with its key map, recency order, random state and first-ID queues, and the
request-id sequence. Restoring one makes the same requests get the same answers, byte for byte.

A document is checked whole before anything changes: a damaged one is a 400 naming what is
wrong, and the state stays as it was.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..clock import from_timestamp, iso_millis, parse_instant
from ..errors import ControlError
from ..faults.rules import FaultRule, FaultRuleError, load_rule
from ..ids import set_random_state

if TYPE_CHECKING:
    from ..state import MockState

FORMAT = "mockserver-snapshot/1"
# The journal's bodies are kept up to the control plane's depth bound, and sit 4 levels down.
MAX_DEPTH = 120
LISTED_ONLY = ("id", "hits", "remaining", "seen")


class SnapshotError(ControlError):
    """A document that is not a usable snapshot: 400 naming where it is wrong."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(400, "invalid-snapshot", f"{where}: {message}")


def options_of(state: MockState) -> dict[str, Any]:
    settings = state.settings
    return {
        "seed": state.seed,
        "seedCount": settings.seed_count,
        "insignerAsyncSeconds": settings.insigner_async_seconds,
        "strictAuth": settings.strict_auth,
        "fixtures": state.fixtures_digest,
    }


# -- taking one ------------------------------------------------------------------------------------------
def take(state: MockState, tenant: str | None = None) -> dict[str, Any]:
    """Return the snapshot of the whole server, or of the tenant(s) that `tenant` names."""
    with state.store.transaction():
        scope = None
        if tenant is not None:
            ids = state.tenant_ids(tenant)
            scope = {
                api: ids[api] if ids[api] and tenants.get(ids[api]) else None for api, tenants in state.tenants.items()
            }
        wanted = {tid for tid in scope.values() if tid} if scope is not None else None
        rules, fault_counters = state.faults.export()
        if wanted is not None:
            rules = [rule for rule in rules if rule_scoped_to(state, rule.get("tenant"), wanted)]
        entries, journal_counter, truncated = state.journal.export(wanted)
        clock = state.clock
        now = clock.timestamp()  # read once: a running clock moves between two reads
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": __version__,
            "options": options_of(state),
            "clock": {"now": iso_millis(from_timestamp(now)), "frozen": clock.frozen, "timestamp": now},
            "rateLimits": state.rate_limits.export(wanted),
            "faults": rules,
            "journal": entries,
            "tenants": {
                api: tenants.export(None if scope is None else ({scope[api]} if scope[api] else set()))
                for api, tenants in state.tenants.items()
            },
            "counters": {
                "journalNextId": journal_counter,
                "journalTruncated": truncated,
                "faultNextId": fault_counters["nextRule"],
                "faultRandom": fault_counters["random"],
                "requestIds": state.request_ids_export(),
            },
        }
        if scope is not None:
            doc["scope"] = scope
        return doc


def rule_scoped_to(state: MockState, tenant: str | None, wanted: set[str]) -> bool:
    """Whether a rule's `tenant` (a key or a tenant id) names one of the `wanted` tenants."""
    if tenant is None:
        return False
    return any(tenants.id_for(tenant) in wanted for tenants in state.tenants.values())


# -- checking one ----------------------------------------------------------------------------------------
@dataclass
class Checked:
    """A document that passed every check, ready to apply."""

    doc: dict[str, Any]
    options: dict[str, Any]
    clock: tuple[datetime, bool]
    rules: list[tuple[FaultRule, int, int]] = field(default_factory=list)
    scope: dict[str, str | None] | None = None


def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise SnapshotError(where, "must be a number")
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise SnapshotError(where, f"must be {names.replace('dict', 'an object').replace('list', 'an array')}")
    return value


def check(state: MockState, doc: Any) -> Checked:
    """Check a document whole; raise SnapshotError (400) or ControlError 409 (other fixtures)."""
    expect(doc, dict, "snapshot")
    if doc.get("format") != FORMAT:
        raise SnapshotError("format", f"must be {FORMAT!r}, not {doc.get('format')!r}")
    for name in ("options", "clock", "rateLimits", "tenants", "counters"):
        expect(doc.get(name), dict, name)
    for name in ("faults", "journal"):
        expect(doc.get(name), list, name)
    options = doc["options"]
    expect(options.get("seed"), int, "options.seed")
    expect(options.get("seedCount"), int, "options.seedCount")
    expect(options.get("insignerAsyncSeconds"), (int, float), "options.insignerAsyncSeconds")
    expect(options.get("strictAuth"), bool, "options.strictAuth")
    if options.get("fixtures") != state.fixtures_digest:
        raise ControlError(
            409,
            "other-fixtures",
            f"options.fixtures: the snapshot was taken with other fixtures ({options.get('fixtures')!r}) "
            f"than this server's ({state.fixtures_digest!r})",
        )
    clock = doc["clock"]
    try:
        at = parse_instant(expect(clock.get("now"), str, "clock.now"))
    except ValueError:
        raise SnapshotError("clock.now", "must be an ISO 8601 instant") from None
    if isinstance(clock.get("timestamp"), (int, float)) and not isinstance(clock.get("timestamp"), bool):
        at = from_timestamp(clock["timestamp"])  # to the microsecond
    checked = Checked(doc, options, (at, bool(expect(clock.get("frozen"), bool, "clock.frozen"))))
    check_rate_limits(doc["rateLimits"])
    for n, rule in enumerate(doc["faults"]):
        expect(rule, dict, f"faults.{n}")
        given = {name: value for name, value in rule.items() if name not in LISTED_ONLY}
        try:
            loaded = load_rule(given)
        except FaultRuleError as exc:
            raise SnapshotError(f"faults.{n}", str(exc)) from None
        seen, hits = rule.get("seen", 0), rule.get("hits", 0)
        expect(seen, int, f"faults.{n}.seen")
        expect(hits, int, f"faults.{n}.hits")
        rule_id = expect(rule.get("id"), str, f"faults.{n}.id")
        checked.rules.append((replace(loaded, id=rule_id), seen, hits))
    for n, entry in enumerate(doc["journal"]):
        expect(entry, dict, f"journal.{n}")
        for name, kind in (("id", int), ("api", str), ("method", str), ("path", str), ("bodyWhole", bool)):
            expect(entry.get(name), kind, f"journal.{n}.{name}")
        for name in ("time", "tenant", "query", "headers", "body", "status", "faultId", "durationMs"):
            if name not in entry:
                raise SnapshotError(f"journal.{n}.{name}", "missing")
    for api, tenants in doc["tenants"].items():
        if api not in state.tenants:
            raise SnapshotError(f"tenants.{api}", "unknown api")
        check_tenants(state, api, expect(tenants, dict, f"tenants.{api}"))
    if "scope" in doc:
        scope = expect(doc["scope"], dict, "scope")
        checked.scope = {api: scope.get(api) for api in state.tenants}
    else:
        missing = [api for api in state.tenants if api not in doc["tenants"]]
        if missing:
            raise SnapshotError(f"tenants.{missing[0]}", "missing")
        counters = doc["counters"]
        for name, kind in (("journalNextId", int), ("journalTruncated", bool), ("faultNextId", int)):
            expect(counters.get(name), kind, f"counters.{name}")
        check_random(counters.get("faultRandom"), "counters.faultRandom")
        request_ids = expect(counters.get("requestIds"), dict, "counters.requestIds")
        check_random(request_ids.get("random"), "counters.requestIds.random")
    return checked


def check_random(value: Any, where: str) -> None:
    try:
        set_random_state(random.Random(), value)
    except ValueError:
        raise SnapshotError(where, "is not a random state") from None


def check_rate_limits(data: dict[str, Any]) -> None:
    expect(data.get("settings"), dict, "rateLimits.settings")
    for n, window in enumerate(expect(data.get("requests"), list, "rateLimits.requests")):
        if not (isinstance(window, list) and len(window) == 5 and isinstance(window[3], (int, float))):
            raise SnapshotError(f"rateLimits.requests.{n}", "must be [api, tenant, key, start, count]")
    for n, window in enumerate(expect(data.get("bulkSends"), list, "rateLimits.bulkSends")):
        if not (isinstance(window, list) and len(window) == 3 and isinstance(window[1], (int, float))):
            raise SnapshotError(f"rateLimits.bulkSends.{n}", "must be [tenant, start, count]")


def check_tenants(state: MockState, api: str, data: dict[str, Any]) -> None:
    schema = state.tenants[api].schema
    for n, row in enumerate(expect(data.get("tenants"), list, f"tenants.{api}.tenants")):
        where = f"tenants.{api}.tenants.{n}"
        expect(row, dict, where)
        expect(row.get("id"), str, f"{where}.id")
        expect(row.get("fixture"), bool, f"{where}.fixture")
        ids = expect(row.get("ids"), dict, f"{where}.ids")
        check_random(ids.get("random"), f"{where}.ids.random")
        for kind, queue in expect(ids.get("firstIds", {}), dict, f"{where}.ids.firstIds").items():
            if not isinstance(queue, list) or not all(isinstance(item, str) for item in queue):
                raise SnapshotError(f"{where}.ids.firstIds.{kind}", "must be an array of IDs")
        for name, docs in expect(row.get("collections"), dict, f"{where}.collections").items():
            if name not in schema:
                raise SnapshotError(f"{where}.collections.{name}", "unknown collection")
            key = schema[name][0]
            seen = set()
            for m, doc in enumerate(expect(docs, list, f"{where}.collections.{name}")):
                expect(doc, dict, f"{where}.collections.{name}.{m}")
                if doc.get(key) in seen or not isinstance(doc.get(key), str):
                    raise SnapshotError(f"{where}.collections.{name}.{m}.{key}", "missing or repeated")
                seen.add(doc[key])
    for tenant in expect(data.get("keys"), dict, f"tenants.{api}.keys").values():
        expect(tenant, str, f"tenants.{api}.keys")


# -- restoring one -----------------------------------------------------------------------------------------
class StartupSnapshotError(ValueError):
    """--snapshot names a file that is not a usable snapshot (one line for the user)."""


def load_startup_snapshot(state: MockState, path: str) -> None:
    """Start from the snapshot in `path`; it becomes the state a reset returns to."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StartupSnapshotError(f"snapshot: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise StartupSnapshotError(f"snapshot: {path} is not JSON: {exc}") from None
    try:
        checked = check(state, doc)
    except ControlError as exc:
        raise StartupSnapshotError(f"snapshot: {path}: {exc.message}") from None
    apply(state, checked)
    # Checked once: a reset applies it again (restoring copies what it stores, so it stays intact).
    state.startup_restore = lambda: apply(state, checked)


def restore(state: MockState, doc: Any) -> dict[str, Any]:
    """Check `doc` whole, then make the state exactly the snapshot's; return a summary."""
    return apply(state, check(state, doc))


def apply(state: MockState, checked: Checked) -> dict[str, Any]:
    """Make the state a checked snapshot's; return a summary."""
    with state.store.transaction():
        if checked.scope is None:
            state.restore_whole(checked)
        else:
            state.restore_scoped(checked)
        return {"restored": True, "scope": checked.scope, "clock": state.clock.describe(), "state": state.summary()}
