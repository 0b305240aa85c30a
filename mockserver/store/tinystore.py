"""TinyDB on memory or on an atomically rewritten JSON file, with the indexes TinyDB lacks."""

from __future__ import annotations

import bisect
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, cast

from tinydb import TinyDB
from tinydb.storages import MemoryStorage
from tinydb.table import Table

# The journal is folded into the TinyDB file once it outgrows this and the file itself (times the
# ratio): folding costs as much as the file is large, so this keeps writes O(1) amortised.
WAL_COMPACT_BYTES = 4 * 1024 * 1024
WAL_FILE_RATIO = 1.0


class StoreError(Exception):
    """The store cannot be opened or written (a damaged file, a folder we cannot write)."""


class _IntKeyView(MutableMapping[int, Any]):
    """A raw table (string doc ids, as JSON keeps them) seen with int ids, as TinyDB's updaters expect."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, doc_id: int) -> Any:
        return self.raw[str(doc_id)]

    def __setitem__(self, doc_id: int, doc: Any) -> None:
        self.raw[str(doc_id)] = doc

    def __delitem__(self, doc_id: int) -> None:
        del self.raw[str(doc_id)]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self.raw

    def __iter__(self) -> Iterator[int]:
        return (int(doc_id) for doc_id in self.raw)

    def __len__(self) -> int:
        return len(self.raw)


class InPlaceTable(Table):
    """A TinyDB table whose writes change the stored table in place.

    TinyDB's own `_update_table` copies the whole table twice on every write (to convert the
    document ids), which makes each insert cost as much as the table is large.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        tables = self._storage.read()
        if tables is None:
            tables = {}
        raw = tables.get(self.name)
        if raw is None:
            raw = tables[self.name] = {}
        # TinyDB types the table as a dict; its updaters only index, set, delete and iterate it.
        updater(cast(dict[int, Any], _IntKeyView(raw)))
        self._storage.write(tables)
        self.clear_cache()


class MockTinyDB(TinyDB):
    """TinyDB with in-place tables."""

    table_class = InPlaceTable


class AtomicJSONStorage(MemoryStorage):
    """The database in memory, backed by a TinyDB JSON file and an append-only journal beside it.

    Every transaction appends its changes to `<file>.wal` and fsyncs before it is acknowledged;
    the journal is folded into the TinyDB file (temporary file, fsync, rename) when it grows
    and on a clean stop, so the file is never half written and a reader sees a whole state.
    """

    def __init__(self, path: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # TinyDB's MemoryStorage.__init__ has no annotations
        self.path = Path(path)
        self.wal_path = self.path.with_name(self.path.name + ".wal")
        self.dirty = False
        self._wal: BinaryIO | None = None
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
                data = json.loads(text) if text.strip() else None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise StoreError(f"cannot read the TinyDB file {self.path}: {exc}") from None
            if data is not None and not (isinstance(data, dict) and all(isinstance(t, dict) for t in data.values())):
                raise StoreError(f"{self.path} is not a TinyDB file (expected an object of tables)")
            self.memory = data
        else:
            parent = self.path.parent
            if not parent.is_dir() or not os.access(parent, os.W_OK):
                raise StoreError(f"cannot create the TinyDB file {self.path}: folder missing or not writable")
        if self.wal_path.exists():
            self._replay()

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.memory = data
        self.dirty = True

    def _replay(self) -> None:
        raw = self.wal_path.read_bytes()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if number == len(lines):
                    break  # a torn last line: that write was never acknowledged
                raise StoreError(f"the journal {self.wal_path} is damaged at line {number}") from None
            self.apply(record)
        self.dirty = True

    def apply(self, record: dict[str, Any]) -> None:
        """Apply one journal record: drops, then documents set to their new value."""
        tables = self.memory if self.memory is not None else {}
        if record.get("dropAll"):
            tables.clear()
        for name in record.get("drop", []):
            tables.pop(name, None)
        for name, doc_id, doc in record.get("set", []):
            if doc is None:
                tables.get(name, {}).pop(str(doc_id), None)
            else:
                tables.setdefault(name, {})[str(doc_id)] = doc
        self.memory = tables

    def append(self, record: dict[str, Any]) -> None:
        """Append one transaction to the journal and fsync it."""
        if self._wal is None:
            # Kept open across transactions (closed by close()): one open per transaction cost a syscall pair.
            self._wal = open(self.wal_path, "ab")  # noqa: SIM115
        self._wal.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        self._wal.flush()
        os.fsync(self._wal.fileno())
        size = self._wal.tell()
        if size > WAL_COMPACT_BYTES and size > self._file_size() * WAL_FILE_RATIO:
            self.compact()

    def _file_size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def compact(self) -> None:
        """Fold the journal into the TinyDB file and empty the journal."""
        self.dirty = True
        self.flush()
        if self._wal is not None:
            self._wal.close()
            self._wal = None
        with suppress(FileNotFoundError):
            os.unlink(self.wal_path)

    def close(self) -> None:
        self.compact()

    def flush(self) -> None:
        """Write the database to disk: temporary file, fsync, rename, fsync the folder."""
        if not self.dirty:
            return
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # json.dumps runs the C encoder; json.dump to a file would take the pure-Python path.
                handle.write(json.dumps(self.memory or {}, ensure_ascii=False, separators=(",", ":")))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
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

    def __init__(
        self, store: Store, name: str, key: str, lookups: tuple[str, ...] = (), order: tuple[str, ...] = ()
    ) -> None:
        self.store = store
        self.name = name
        self.key = key
        self.lookups = lookups
        self.order = order
        self.table = store.db.table(name, cache_size=0)
        self._by_key: dict[Any, int] = {}
        self._by_field: dict[str, dict[Any, int]] = {field: {} for field in lookups}
        # Sorted (order fields..., doc_id) of every document, for ordered pages without a scan.
        self._ordered: list[tuple[Any, ...]] = []
        for doc in self.table.all():
            self._index(doc, doc.doc_id, sort=False)
        self._ordered.sort()

    @staticmethod
    def _norm(value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def _order_key(self, doc: dict[str, Any], doc_id: int) -> tuple[Any, ...]:
        return (*(doc.get(field) or "" for field in self.order), doc_id)

    def _index(self, doc: dict[str, Any], doc_id: int, sort: bool = True) -> None:
        if self.order:
            entry = self._order_key(doc, doc_id)
            if sort:
                bisect.insort(self._ordered, entry)
            else:
                self._ordered.append(entry)
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

    def get(self, key: Any) -> dict[str, Any] | None:
        """Return the document with this key, or None. Treat it as read-only: write with `update`."""
        doc_id = self._by_key.get(key)
        if doc_id is None:
            return None
        return self.table.get(doc_id=doc_id)  # TinyDB's Document: already a copy of the stored dict

    def find(self, field: str, value: Any) -> dict[str, Any] | None:
        """Return the first document whose indexed `field` equals `value` (strings case-insensitively)."""
        doc_id = self._by_field[field].get(self._norm(value))
        if doc_id is None:
            return None
        return self.table.get(doc_id=doc_id)

    def descending(self, below: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield documents by the collection's order fields, greatest first, after `below` if given.

        Costs O(log n) to start and O(1) a document: a page reads only what it returns (and what
        the caller skips). The order fields of a document must not change after insertion.
        """
        if not self.order:
            raise TypeError(f"{self.name} has no order fields")
        if below is None:
            position = len(self._ordered)
        else:
            position = bisect.bisect_left(self._ordered, tuple(below.get(f) or "" for f in self.order))
        get = self.table.get
        while position > 0:
            position -= 1
            doc = get(doc_id=self._ordered[position][-1])
            if doc is not None:
                yield doc

    def all(self) -> list[dict[str, Any]]:
        """Return every document in insertion order."""
        return [dict(doc) for doc in self.table.all()]

    def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Store a new document; its key must be new."""
        if doc.get(self.key) in self._by_key:
            raise KeyError(f"{self.name}: {doc.get(self.key)!r} exists")
        self.store.check_in_transaction()
        doc_id = self.table.insert(doc)
        self._index(doc, doc_id)
        self.store.changed(self.name, doc_id)
        return doc

    def insert_many(self, docs: list[dict[str, Any]]) -> None:
        """Store several new documents at once."""
        self.store.check_in_transaction()
        doc_ids = self.table.insert_multiple(docs)
        for doc, doc_id in zip(docs, doc_ids, strict=True):
            self._index(doc, doc_id)
            self.store.changed(self.name, doc_id)

    def update(self, key: Any, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply `changes` to the document with this key and return it."""
        self.store.check_in_transaction()
        doc_id = self._by_key[key]
        self.table.update(changes, doc_ids=[doc_id])
        self.store.changed(self.name, doc_id)
        doc = cast(dict[str, Any], self.table.get(doc_id=doc_id))
        for field in self.lookups:
            if field in changes and changes[field] is not None:
                self._by_field[field].setdefault(self._norm(changes[field]), doc_id)
        return dict(doc)

    def remove(self, key: Any) -> None:
        """Delete the document with this key (inSigner deletes are soft: they use `update`)."""
        self.store.check_in_transaction()
        doc_id = self._by_key.pop(key)
        doc = self.table.get(doc_id=doc_id)
        if self.order and doc is not None:
            entry = self._order_key(doc, doc_id)
            at = bisect.bisect_left(self._ordered, entry)
            if at < len(self._ordered) and self._ordered[at] == entry:
                del self._ordered[at]
        self.table.remove(doc_ids=[doc_id])
        for field in self.lookups:
            value = doc.get(field) if doc else None
            if value is not None and self._by_field[field].get(self._norm(value)) == doc_id:
                del self._by_field[field][self._norm(value)]
        self.store.changed(self.name, doc_id)


class Store:
    """All state of the emulated APIs: TinyDB with one lock; a transaction is flushed as a whole."""

    def __init__(self, kind: str = "memory", path: str | None = None) -> None:
        self.kind = kind
        self._lock = threading.RLock()
        self._depth = 0
        self._pending: dict[tuple[str, int], None] = {}
        self._drops: list[str] = []
        self._drop_all = False
        if kind == "memory":
            self.db = MockTinyDB(storage=MemoryStorage)
            self._file: AtomicJSONStorage | None = None
        elif kind == "tinydb":
            if not path:
                raise StoreError("the tinydb store needs a file path (--db)")
            self.db = MockTinyDB(path, storage=AtomicJSONStorage)
            self._file = cast(AtomicJSONStorage, self.db.storage)
        else:
            raise StoreError(f"unknown store {kind!r} (expected memory or tinydb)")
        self._collections: dict[str, Collection] = {}

    def check_in_transaction(self) -> None:
        if self._depth == 0:
            raise RuntimeError("store writes must happen inside Store.transaction()")

    def changed(self, table: str, doc_id: int) -> None:
        """Note a written document, for the file store's journal."""
        if self._file is not None:
            self._pending[(table, doc_id)] = None

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store's lock; on the outermost exit, journal what was written (file mode)."""
        with self._lock:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file is not None:
                    self._commit()

    def _commit(self) -> None:
        if self._file is None or not (self._pending or self._drops or self._drop_all):
            return
        tables = self._file.memory or {}
        record: dict[str, Any] = {}
        if self._drop_all:
            record["dropAll"] = True
        if self._drops:
            record["drop"] = self._drops
        record["set"] = [[name, doc_id, tables.get(name, {}).get(str(doc_id))] for name, doc_id in self._pending]
        self._pending = {}
        self._drops = []
        self._drop_all = False
        self._file.append(record)

    def collection(self, name: str, key: str, lookups: tuple[str, ...] = (), order: tuple[str, ...] = ()) -> Collection:
        """Return the collection (TinyDB table) called `name`, creating its indexes on first use."""
        found = self._collections.get(name)
        if found is None:
            with self._lock:
                found = self._collections.get(name)
                if found is None:
                    found = Collection(self, name, key, lookups, order)
                    self._collections[name] = found
        return found

    def drop(self, names: list[str]) -> None:
        """Remove these tables and their indexes."""
        self.check_in_transaction()
        for name in names:
            self.db.drop_table(name)
            self._collections.pop(name, None)
            if self._file is not None:
                self._drops.append(name)
                self._pending = {k: None for k in self._pending if k[0] != name}

    def drop_all(self) -> None:
        """Remove every table."""
        self.check_in_transaction()
        self.db.drop_tables()
        self._collections.clear()
        if self._file is not None:
            self._drop_all = True
            self._drops = []
            self._pending = {}

    def close(self) -> None:
        """Flush and close the database."""
        with self._lock:
            self.db.close()
