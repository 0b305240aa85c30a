"""TinyDB on memory or on an atomically rewritten JSON file, with the indexes TinyDB lacks."""
from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage


class StoreError(Exception):
    """The store cannot be opened or written (a damaged file, a folder we cannot write)."""


class AtomicJSONStorage(MemoryStorage):
    """Keep the database in memory; `flush()` writes it whole to a temporary file, then renames it.

    A reader of the file never sees half a write: it sees the file before or after a flush.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = Path(path)
        self.dirty = False
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
                data = json.loads(text) if text.strip() else None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise StoreError(f"cannot read the TinyDB file {self.path}: {exc}") from None
            if data is not None and not (
                isinstance(data, dict) and all(isinstance(t, dict) for t in data.values())
            ):
                raise StoreError(f"{self.path} is not a TinyDB file (expected an object of tables)")
            self.memory = data
        else:
            parent = self.path.parent
            if not parent.is_dir() or not os.access(parent, os.W_OK):
                raise StoreError(f"cannot create the TinyDB file {self.path}: folder missing or not writable")

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.memory = data
        self.dirty = True

    def flush(self) -> None:
        """Write the database to disk: temporary file, fsync, rename, fsync the folder."""
        if not self.dirty:
            return
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.memory or {}, handle, ensure_ascii=False, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass
        self.dirty = False


class Collection:
    """One TinyDB table of one tenant, with a unique key index and optional lookup indexes."""

    def __init__(self, store: "Store", name: str, key: str, lookups: tuple[str, ...] = ()) -> None:
        self.store = store
        self.name = name
        self.key = key
        self.lookups = lookups
        self.table = store.db.table(name, cache_size=0)
        self._by_key: dict[Any, int] = {}
        self._by_field: dict[str, dict[Any, int]] = {field: {} for field in lookups}
        for doc in self.table.all():
            self._index(doc, doc.doc_id)

    @staticmethod
    def _norm(value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def _index(self, doc: dict, doc_id: int) -> None:
        if self.key in doc:
            self._by_key[doc[self.key]] = doc_id
        for field in self.lookups:
            value = doc.get(field)
            if value is not None:
                self._by_field[field].setdefault(self._norm(value), doc_id)

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: Any) -> bool:
        return key in self._by_key

    def get(self, key: Any) -> dict | None:
        """Return the document with this key, or None. Treat it as read-only: write with `update`."""
        doc_id = self._by_key.get(key)
        if doc_id is None:
            return None
        doc = self.table.get(doc_id=doc_id)
        return dict(doc) if doc is not None else None

    def find(self, field: str, value: Any) -> dict | None:
        """Return the first document whose indexed `field` equals `value` (strings case-insensitively)."""
        doc_id = self._by_field[field].get(self._norm(value))
        if doc_id is None:
            return None
        doc = self.table.get(doc_id=doc_id)
        return dict(doc) if doc is not None else None

    def all(self) -> list[dict]:
        """Return every document in insertion order."""
        return [dict(doc) for doc in self.table.all()]

    def insert(self, doc: dict) -> dict:
        """Store a new document; its key must be new."""
        if doc.get(self.key) in self._by_key:
            raise KeyError(f"{self.name}: {doc.get(self.key)!r} exists")
        self.store.check_in_transaction()
        doc_id = self.table.insert(doc)
        self._index(doc, doc_id)
        return doc

    def insert_many(self, docs: list[dict]) -> None:
        """Store several new documents at once."""
        self.store.check_in_transaction()
        doc_ids = self.table.insert_multiple(docs)
        for doc, doc_id in zip(docs, doc_ids):
            self._index(doc, doc_id)

    def update(self, key: Any, changes: dict) -> dict:
        """Apply `changes` to the document with this key and return it."""
        self.store.check_in_transaction()
        doc_id = self._by_key[key]
        self.table.update(changes, doc_ids=[doc_id])
        doc = self.table.get(doc_id=doc_id)
        for field in self.lookups:
            if field in changes and changes[field] is not None:
                self._by_field[field].setdefault(self._norm(changes[field]), doc_id)
        return dict(doc)


class Store:
    """All state of the emulated APIs: TinyDB with one lock; a transaction is flushed as a whole."""

    def __init__(self, kind: str = "memory", path: str | None = None) -> None:
        self.kind = kind
        self._lock = threading.RLock()
        self._depth = 0
        if kind == "memory":
            self.db = TinyDB(storage=MemoryStorage)
            self._file: AtomicJSONStorage | None = None
        elif kind == "tinydb":
            if not path:
                raise StoreError("the tinydb store needs a file path (--db)")
            self.db = TinyDB(path, storage=AtomicJSONStorage)
            self._file = self.db.storage
        else:
            raise StoreError(f"unknown store {kind!r} (expected memory or tinydb)")
        self._collections: dict[str, Collection] = {}

    @property
    def empty(self) -> bool:
        return not self.db.tables()

    def check_in_transaction(self) -> None:
        if self._depth == 0:
            raise RuntimeError("store writes must happen inside Store.transaction()")

    @contextmanager
    def transaction(self) -> Iterator["Store"]:
        """Hold the store's lock; on the outermost exit, flush what was written (file mode)."""
        with self._lock:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file is not None:
                    self._file.flush()

    def collection(self, name: str, key: str, lookups: tuple[str, ...] = ()) -> Collection:
        """Return the collection (TinyDB table) called `name`, creating its indexes on first use."""
        found = self._collections.get(name)
        if found is None:
            with self._lock:
                found = self._collections.get(name)
                if found is None:
                    found = Collection(self, name, key, lookups)
                    self._collections[name] = found
        return found

    def table_names(self) -> set[str]:
        """Return the names of the tables that hold data."""
        return set(self.db.tables())

    def drop(self, names: list[str]) -> None:
        """Remove these tables and their indexes."""
        self.check_in_transaction()
        for name in names:
            self.db.drop_table(name)
            self._collections.pop(name, None)

    def drop_all(self) -> None:
        """Remove every table."""
        self.check_in_transaction()
        self.db.drop_tables()
        self._collections.clear()
        if self._file is not None:
            self._file.dirty = True

    def close(self) -> None:
        """Flush and close the database."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
            self.db.close()
