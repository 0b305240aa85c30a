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
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marshmallow import INCLUDE, ValidationError

from .. import __version__
from ..clock import from_timestamp, iso_millis, parse_instant
from ..entities import replace_every_tenant
from ..errors import ControlError
from ..faults.rules import FaultRule, FaultRuleError, load_rule
from ..seeding import differing_files
from .schemas import RuleCountsSchema, document_schema, first_problem, validate_document

if TYPE_CHECKING:
    from ..state import MockState

log = logging.getLogger(__name__)
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
                api: found if (found := ids[api]) and tenants.get(found) else None
                for api, tenants in state.tenants.items()
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
            # Each fixture file's digest, so that a server of other fixtures names the files that differ.
            "fixtureFiles": state.fixture_files,
            "clock": {"now": iso_millis(from_timestamp(now)), "frozen": clock.frozen, "timestamp": now},
            "rateLimits": state.rate_limits.export(wanted),
            "faults": rules,
            "journal": entries,
            "tenants": {
                api: tenants.export(None if scope is None else ({kept} if (kept := scope[api]) else set()))
                for api, tenants in state.tenants.items()
            },
            "counters": {
                "journalNextId": journal_counter,
                "journalTruncated": truncated,
                "faultNextId": fault_counters["nextRule"],
                "faultRandom": fault_counters["random"],
                **backend_counters(state),
            },
        }
        if scope is not None:
            doc["scope"] = scope
        # Pending attempts, the log and their sequences (a one-tenant snapshot: its tenants' only).
        doc["deliveries"] = state.deliveries.export(None if scope is None else scope_pairs(scope))
        return doc


def scope_pairs(scope: dict[str, str | None]) -> set[tuple[str, str]]:
    """The (api, tenant id) pairs a one-tenant snapshot's `scope` names."""
    return {(api, tenant) for api, tenant in scope.items() if tenant}


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
    # The deliveries to restore, checked (None: the document has none, as before webhooks).
    deliveries: dict[str, Any] | None = None


def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise SnapshotError(where, "must be a number")
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise SnapshotError(where, f"must be {names.replace('dict', 'an object').replace('list', 'an array')}")
    return value


def check(state: MockState, doc: Any) -> Checked:
    """Check a document whole; raise SnapshotError (400) or ControlError 409 (other fixtures).

    Every member is checked (snapshots/schemas.py) before the fixtures are compared and before
    anything changes; then what a schema cannot say: repeated ids, counters behind the ids they
    handed out, a journal longer than its bound, stored documents of the wrong shape.
    """
    expect(doc, dict, "snapshot")
    if doc.get("format") != FORMAT:
        raise SnapshotError("format", f"must be {FORMAT!r}, not {doc.get('format')!r}")
    scoped = "scope" in doc
    schema = document_schema(
        {name: api.collections for name, api in state.apis.items()}, state.rate_limits.startup, scoped
    )
    problem = validate_document(schema, doc)
    if problem is not None:
        raise SnapshotError(*problem)
    options = doc["options"]
    if options["fixtures"] != state.fixtures_digest:
        theirs = doc.get("fixtureFiles")
        names = differing_files(state.fixture_files, theirs) if isinstance(theirs, dict) else []
        if names:
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            detail = f"these fixture files differ from this server's: {shown}"
        else:
            detail = f"other fixtures ({options['fixtures']!r}) than this server's ({state.fixtures_digest!r})"
        raise ControlError(409, "other-fixtures", f"options.fixtures: the snapshot was taken with {detail}")
    clock = doc["clock"]
    at = parse_instant(clock["now"])
    if clock.get("timestamp") is not None:
        at = from_timestamp(clock["timestamp"])  # to the microsecond
    checked = Checked(doc, options, (at, clock["frozen"]))
    counters = doc["counters"]
    rule_ids: set[str] = set()
    for n, rule in enumerate(doc["faults"]):
        given = {name: value for name, value in rule.items() if name not in LISTED_ONLY}
        try:
            loaded = load_rule(given)
        except FaultRuleError as exc:
            raise SnapshotError(f"faults.{n}", str(exc)) from None
        problem = validate_document(RuleCountsSchema(), {name: rule.get(name) for name in ("id",)} | counts_of(rule))
        if problem is not None:
            raise SnapshotError(f"faults.{n}.{problem[0]}", problem[1])
        rule_id = rule["id"]
        if rule_id in rule_ids:
            raise SnapshotError(f"faults.{n}.id", f"{rule_id!r} is repeated")
        rule_ids.add(rule_id)
        number = RULE_NUMBER.fullmatch(rule_id)
        if not scoped and number and int(number.group(1)) > counters["faultNextId"]:
            raise SnapshotError("counters.faultNextId", f"must be at least {number.group(1)} (rule {rule_id})")
        checked.rules.append((replace(loaded, id=rule_id), rule.get("seen", 0), rule.get("hits", 0)))
    journal = doc["journal"]
    if len(journal) > state.settings.journal_size:
        raise SnapshotError(
            "journal", f"holds {len(journal)} entries, more than this server keeps ({state.settings.journal_size})"
        )
    entry_ids: set[int] = set()
    for n, entry in enumerate(journal):
        if entry["api"] not in state.apis:
            raise SnapshotError(f"journal.{n}.api", f"unknown api {entry['api']!r}")
        if entry["id"] in entry_ids:
            raise SnapshotError(f"journal.{n}.id", f"{entry['id']} is repeated")
        entry_ids.add(entry["id"])
    if not scoped and entry_ids and max(entry_ids) > counters["journalNextId"]:
        raise SnapshotError("counters.journalNextId", f"must be at least {max(entry_ids)}")
    for api, tenants in doc["tenants"].items():
        check_tenants(state, api, tenants)
    if scoped:
        checked.scope = {api: doc["scope"].get(api) for api in state.tenants}
    if doc.get("deliveries") is not None:
        pairs = scope_pairs(checked.scope) if checked.scope is not None else None
        try:
            checked.deliveries = state.deliveries.prepare(doc["deliveries"], pairs)
        except ValueError as exc:
            raise SnapshotError("deliveries", str(exc)) from None
    return checked


RULE_NUMBER = re.compile(r"flt_(\d+)")


def counts_of(rule: dict[str, Any]) -> dict[str, Any]:
    return {name: rule[name] for name in ("seen", "hits") if name in rule}


def check_tenants(state: MockState, api: str, data: dict[str, Any]) -> None:
    """Rows of one API: ids not repeated, documents that load as their collection's."""
    emulated = state.apis[api]
    rows: set[str] = set()
    for n, row in enumerate(data["tenants"]):
        where = f"tenants.{api}.tenants.{n}"
        if row["id"] in rows:
            raise SnapshotError(f"{where}.id", f"{row['id']!r} is repeated")
        rows.add(row["id"])
        for name, docs in row["collections"].items():
            key = emulated.collections[name][0]
            schema = emulated.stored_schemas.get(name)
            seen = set()
            for m, stored in enumerate(docs):
                if not isinstance(stored.get(key), str) or stored[key] in seen:
                    raise SnapshotError(f"{where}.collections.{name}.{m}.{key}", "missing or repeated")
                seen.add(stored[key])
                if schema is not None:
                    try:
                        schema(unknown=INCLUDE).load(stored)
                    except ValidationError as exc:
                        field_name, message = first_problem(exc)
                        raise SnapshotError(f"{where}.collections.{name}.{m}.{field_name}", message) from None


# -- restoring one -----------------------------------------------------------------------------------------
class StartupSnapshotError(ValueError):
    """--snapshot names a file that is not a usable snapshot (one line for the user)."""


class StartupSnapshot:
    """The snapshot of --snapshot: read before the state is built, checked on first use, applied by each reset.

    `restore` is what the state is given to return to (`MockState(startup_restore=...)`): the check
    runs once, and each later restore applies the same checked document (restoring copies what it
    stores, so it stays intact).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise StartupSnapshotError(f"snapshot: cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise StartupSnapshotError(f"snapshot: {path} is not JSON: {exc}") from None
        self._checked: Checked | None = None

    def restore(self, state: MockState) -> None:
        """Make the state the snapshot's; raise StartupSnapshotError (one line) when it does not pass the check."""
        if self._checked is None:
            try:
                self._checked = check(state, self.doc)
            except ControlError as exc:
                raise StartupSnapshotError(f"snapshot: {self.path}: {exc.message}") from None
        apply(state, self._checked)


def restore(state: MockState, doc: Any) -> dict[str, Any]:
    """Check `doc` whole, then make the state exactly the snapshot's; return a summary.

    The check is meant to leave nothing for the restore to trip on. Should it trip all the same,
    the state goes back to what it was (taken in the same transaction, so nothing came between)
    and the answer is a 400 naming the exception, never a half-applied state.
    """
    checked = check(state, doc)
    with state.store.transaction():
        before = take(state)
        try:
            return apply(state, checked)
        except Exception as exc:
            log.exception("snapshot: restoring a checked document failed; the state is put back")
            apply(state, check(state, before))
            raise SnapshotError("snapshot", f"could not be applied ({type(exc).__name__}); nothing changed") from None


def apply(state: MockState, checked: Checked) -> dict[str, Any]:
    """Make the state a checked snapshot's; return a summary."""
    with state.store.transaction():
        if checked.scope is None:
            restore_whole(state, checked)
        else:
            restore_scoped(state, checked)
        return {"restored": True, "scope": checked.scope, "clock": state.clock.describe(), "state": state.summary()}


def backend_counters(state: MockState) -> dict[str, Any]:
    """Every backend's own counters (inSigner's request-id sequence), for the snapshot's `counters`."""
    return {name: value for backend in state.backends.values() for name, value in backend.export_counters().items()}


# -- applying one (the check above leaves nothing for these to trip on) -----------------------------------
def use_options(state: MockState, options: dict[str, Any]) -> None:
    """Take a snapshot's options; rebuild the seed data when they change what it is."""
    seed, count = options["seed"], options["seedCount"]
    changed = (seed, count, options["insignerAsyncSeconds"]) != (
        state.seed,
        state.settings.seed_count,
        state.settings.insigner_async_seconds,
    )
    state.seed = seed
    state.settings = state.settings.with_values(
        seed_count=count, insigner_async_seconds=options["insignerAsyncSeconds"], strict_auth=options["strictAuth"]
    )
    for name in state.apis:
        if changed:
            state.rebuild(name)
        state.tenants[name].seed = seed
        state.tenants[name].strict = options["strictAuth"]
    if state.settings.insigner_async_seconds > 0:
        state.deliveries.start_ticking(state.on_clock)


def restore_whole(state: MockState, checked: Checked) -> None:
    """Become exactly the snapshot's state (inside the store's transaction)."""
    doc, counters = checked.doc, checked.doc["counters"]
    use_options(state, checked.options)
    replace_every_tenant(state, doc["tenants"])
    state.clock.restore(*checked.clock)
    state.rate_limits.restore(doc["rateLimits"])
    state.faults.restore(checked.rules, counters["faultNextId"], counters["faultRandom"])
    state.journal.restore(doc["journal"], counters["journalNextId"], counters["journalTruncated"])
    if checked.deliveries is not None:
        state.deliveries.restore(checked.deliveries)
    else:
        state.deliveries.reset()  # a snapshot from before deliveries: none pending or logged
    for backend in state.backends.values():
        backend.restore_counters(counters)


def restore_scoped(state: MockState, checked: Checked) -> None:
    """Replace the snapshot's tenant(s), their windows, rules and journal entries; set the clock."""
    doc = checked.doc
    wanted = {tid for tid in (checked.scope or {}).values() if tid}
    # The live rules' tenants (keys or ids) that name a replaced tenant, resolved before the
    # tenants change and outside the engine's lock.
    scoped_rules = {
        value
        for value in state.faults.rule_tenants()
        if value in wanted or any(tenants.id_for(value) in wanted for tenants in state.tenants.values())
    }
    for name, tenants in state.tenants.items():
        if name in doc["tenants"]:
            tenants.restore(doc["tenants"][name], replace_all=False)
    state.clock.restore(*checked.clock)
    state.rate_limits.restore(doc["rateLimits"], tenants=wanted)
    state.faults.replace_scoped(scoped_rules, checked.rules)
    state.journal.replace_scoped(wanted, doc["journal"])
    # The tenants' deliveries become the snapshot's (none, for a snapshot from before they were carried).
    state.deliveries.replace_tenants(scope_pairs(checked.scope or {}), checked.deliveries)
