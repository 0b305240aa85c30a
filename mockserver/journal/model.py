"""The journal: every request to an emulated API with its answer, bounded, credentials redacted.

Its pipeline stages (journal/stage.py) feed it; GET /__mock/requests (journal/views.py) reads it.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from ..bodies import has_lone_surrogate, nests_deeper
from ..clock import from_timestamp, iso_millis
from ..config import API_NAMES

# Bodies are kept up to this size; a longer one is kept as text, cut, with its full size.
BODY_CAP = 16 * 1024
# Headers and query parameters are kept up to this many, each value up to VALUE_CAP characters:
# a server lets a request head reach megabytes (werkzeug: 100 lines of 64 KiB), and the journal
# keeps --journal-size of them.
ITEMS_CAP = 50
VALUE_CAP = 1024
CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization")
SECRET_HEADERS = ("Cookie", "X-Mock-Token")
SHOWN_KEY_CHARACTERS = 8


def redact_credentials(value: str, key: str | None) -> str:
    """Return `<scheme> <first characters of the key>...`: never the whole key, not even a short one."""
    scheme = value.strip().partition(" ")[0]
    if not key:
        return f"{scheme} [redacted]"
    shown = key[: min(SHOWN_KEY_CHARACTERS, len(key) // 2)]
    return f"{scheme} {shown}..."


def journal_headers(headers: list[tuple[str, str]], key: str | None) -> dict[str, str]:
    """Return the request headers with credentials redacted (`key`: the request's API key)."""
    out: dict[str, str] = {}
    for name, value in headers:
        if name in CREDENTIAL_HEADERS:
            value = redact_credentials(value, key if name == "Authorization" else None)
        elif name in SECRET_HEADERS:
            value = "[redacted]"
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def journal_body(raw: bytes, size: int) -> Any:
    """Return the body as parsed JSON, else as text; a body over BODY_CAP is cut and says its size.

    JSON that could not be answered back as JSON is kept as its text too: nested too deeply, or
    holding a lone surrogate escape (`"\\ud800"`), which has no UTF-8 form.
    """
    if not size:
        return None
    if size > BODY_CAP:
        return raw[:BODY_CAP].decode("utf-8", errors="replace") + f"... [{size} bytes]"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if nests_deeper(text, parsed) or ("\\u" in text and has_lone_surrogate(parsed)):
        return text
    return parsed


def capped(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the first ITEMS_CAP pairs, each value cut at VALUE_CAP characters (saying its length)."""
    if len(pairs) > ITEMS_CAP:
        pairs = pairs[:ITEMS_CAP]
    if any(len(value) > VALUE_CAP for _, value in pairs):
        pairs = [
            (name, value if len(value) <= VALUE_CAP else f"{value[:VALUE_CAP]}... [{len(value)} characters]")
            for name, value in pairs
        ]
    return pairs


def query_dict(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Return the query parameters: one value as a string, repeated ones as a list."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


class Entry:
    """One journal entry: the fields filters need at once, the rest kept raw until it is read.

    Redacting headers and parsing the body cost more than the request itself on a fast call,
    so they are done when GET /__mock/requests asks, once per entry.
    """

    __slots__ = ("_public", "_raw", "fields")

    def __init__(self, fields: dict[str, Any], raw: tuple[Any, ...]) -> None:
        self.fields = fields
        self._raw: tuple[Any, ...] | None = raw
        self._public: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def export(self) -> dict[str, Any]:
        """The entry as a snapshot keeps it: as the control plane shows it, and whether its body is whole."""
        return {**self.public(), "bodyWhole": self.fields.get("bodyWhole", True)}

    @classmethod
    def restored(cls, data: dict[str, Any], entry_id: int) -> Entry:
        """An entry from a snapshot's `export()`, under id `entry_id`."""
        shown = {name: value for name, value in data.items() if name != "bodyWhole"}
        shown["id"] = entry_id
        names = ("api", "tenant", "method", "path", "status", "faultId", "durationMs")
        entry = cls({"id": entry_id, **{name: shown[name] for name in names}, "bodyWhole": data["bodyWhole"]}, ())
        entry._raw, entry._public = None, shown
        return entry

    def public(self) -> dict[str, Any]:
        """Return the entry in the control plane's shape (credentials redacted)."""
        if self._public is None:
            if self._raw is None:
                raise RuntimeError("a journal entry keeps its raw parts until it is first shown")
            timestamp, query, headers, key, body, size = self._raw
            f = self.fields
            self._public = {
                "id": f["id"],
                "time": iso_millis(from_timestamp(timestamp)),
                "api": f["api"],
                "tenant": f["tenant"],
                "method": f["method"],
                "path": f["path"],
                "query": query_dict(query),
                "headers": journal_headers(headers, key),
                "body": journal_body(body, size) if body is not None else None,
                "status": f["status"],
                "faultId": f["faultId"],
                "durationMs": f["durationMs"],
            }
            self._raw = None
        return self._public


@dataclass(frozen=True)
class JournalFilter:
    """Which entries GET /__mock/requests returns; `tenants` maps an API to the wanted tenant id."""

    api: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    tenants: dict[str, str | None] | None = None
    limit: int | None = None

    def accepts(self, entry: Entry) -> bool:
        if self.api is not None and entry["api"] != self.api:
            return False
        if self.method is not None and entry["method"] != self.method.upper():
            return False
        if self.path is not None and not fnmatchcase(entry["path"], self.path):
            return False
        if self.status is not None and entry["status"] != self.status:
            return False
        if self.tenants is not None:
            wanted = self.tenants.get(entry["api"])
            if wanted is None or entry["tenant"] != wanted:
                return False
        return True


class JournalQuerySchema(Schema):
    """The filters of GET /__mock/requests (query parameters)."""

    class Meta:
        unknown = RAISE

    api = fields.String(validate=validate.OneOf(API_NAMES), metadata={"description": "collect or insigner."})
    method = fields.String(validate=validate.Length(min=1, max=20))
    path = fields.String(
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "An exact path or a glob (/api/v1/bulk-sends/*)."},
    )
    status = fields.Integer(validate=validate.Range(100, 599))
    tenant = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The API key the client uses (or a tenant id)."},
    )
    limit = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "Only the newest N matching entries (still oldest first)."},
    )


class Journal:
    """The last `size` entries, oldest first; thread-safe.

    Readers that wait for new entries (a verification with `withinMs`) wait on `changed`, which
    every new entry, clearing and stopping wake; a new entry costs a notification only while
    someone waits.
    """

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._entries: deque[Entry] = deque(maxlen=size)
        self._counter = 0
        self._waiting = 0
        # Entries dropped by the size bound since the journal was last emptied.
        self._truncated = False
        # Bumped by every change, so a waiter knows whether it has seen the journal as it is.
        self._version = 0
        self._stopped = False

    def record(self, fields: dict[str, Any], raw: tuple[Any, ...]) -> Entry:
        """Add an entry (it gets the next id); the oldest goes when the journal is full.

        `raw` is (POSIX time, query pairs, header pairs, API key, body bytes or None, body size).
        """
        with self._lock:
            self._counter += 1
            entry = Entry({"id": self._counter, **fields}, raw)
            if len(self._entries) == self._entries.maxlen:
                self._truncated = True
            self._entries.append(entry)
            self._version += 1
            if self._waiting:
                self._changed.notify_all()
            return entry

    def snapshot(self) -> tuple[list[Entry], bool, int]:
        """Return the entries (oldest first), whether the bound dropped some, and the version seen."""
        with self._lock:
            return list(self._entries), self._truncated, self._version

    def wait_for_change(self, version: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the journal to change after `version`; False once stopped."""
        with self._lock:
            self._waiting += 1
            try:
                self._changed.wait_for(lambda: self._stopped or self._version != version, timeout)
            finally:
                self._waiting -= 1
            return not self._stopped

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Wake every waiter for good: the server is stopping."""
        with self._lock:
            self._stopped = True
            self._changed.notify_all()

    def entries(self, wanted: JournalFilter | None = None) -> tuple[list[dict[str, Any]], int]:
        """Return the matching entries, oldest first (the newest `limit` of them), and how many matched."""
        wanted = wanted or JournalFilter()
        with self._lock:
            found = [entry for entry in self._entries if wanted.accepts(entry)]
        total = len(found)
        if wanted.limit is not None:
            found = found[-wanted.limit :]
        return [entry.public() for entry in found], total

    def export(self, tenants: set[str] | None = None) -> tuple[list[dict[str, Any]], int, bool]:
        """The entries (of `tenants` only, when given), the id counter, whether the bound dropped some."""
        with self._lock:
            entries = [e for e in self._entries if tenants is None or e.fields["tenant"] in tenants]
            counter, truncated = self._counter, self._truncated
        return [entry.export() for entry in entries], counter, truncated

    def restore(self, entries: list[dict[str, Any]], counter: int, truncated: bool) -> None:
        """Become a snapshot's journal: its entries with their ids, its counter and truncation."""
        with self._lock:
            self._entries.clear()
            self._entries.extend(Entry.restored(data, data["id"]) for data in entries)
            self._counter, self._truncated = counter, truncated
            self._version += 1

    def replace_scoped(self, tenants: set[str], entries: list[dict[str, Any]]) -> None:
        """Take a one-tenant snapshot's entries: drop those of `tenants`, add the snapshot's under new ids."""
        with self._lock:
            kept = [entry for entry in self._entries if entry["tenant"] not in tenants]
            self._entries.clear()
            self._entries.extend(kept)
            for data in entries:
                self._counter += 1
                if len(self._entries) == self._entries.maxlen:
                    self._truncated = True
                self._entries.append(Entry.restored(data, self._counter))
            self._version += 1

    def clear(self) -> None:
        """Forget every entry (ids keep counting)."""
        with self._lock:
            self._entries.clear()
            self._emptied()

    def reset(self) -> None:
        """Forget every entry and count ids from 1 again."""
        with self._lock:
            self._entries.clear()
            self._counter = 0
            self._emptied()

    def _emptied(self) -> None:
        self._truncated = False
        self._version += 1
        if self._waiting:
            self._changed.notify_all()
