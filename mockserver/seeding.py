"""Seed data: the vendors' example entities from the fixtures, plus a Faker-made set from the seed."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError

from .errors import flatten_messages

if TYPE_CHECKING:
    from faker import Faker
    from marshmallow import Schema

# Held while Faker makes seed data: an app's one Faker is reseeded for each API's data, so two
# builds at once (the warm-up thread and a first request) would draw from each other's sequence.
# A leaf lock: nothing else is taken while it is held.
_BUILD_LOCK = threading.Lock()


class FixtureError(ValueError):
    """A fixtures folder or file that cannot be used; the message names the file."""


def load_fixture_folder(folder: Path) -> dict[str, Any]:
    """Read every `*.json` file of one API's fixture folder into {stem: parsed JSON}."""
    if not folder.is_dir():
        raise FixtureError(f"fixtures folder {folder} does not exist or is not a folder")
    data: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise FixtureError(f"cannot read fixture file {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise FixtureError(f"fixture file {path} is not valid JSON: {exc}") from None
    return data


# Faker's providers whose methods the seed data calls: names, companies, dates, words and
# sentences, and misc's `boolean` (the `random_*` methods come with every provider). Faker("en_US")
# loads all of its 26 providers: 18.7 ms a Faker, against 0.3 ms for these, and the same values
# (tests/test_startup_work.py compares the seed data with a Faker of every provider).
SEED_PROVIDERS = (
    "faker.providers.person",
    "faker.providers.company",
    "faker.providers.date_time",
    "faker.providers.lorem",
    "faker.providers.misc",
)


def new_faker() -> Faker:
    """A Faker for seed data. Imported here, not at start-up: `import faker` alone takes a fifth of a
    start-up (it lists every locale of every provider; python -X importtime), and nothing needs it
    before the first seed data is built."""
    from faker import Faker

    return Faker("en_US", providers=list(SEED_PROVIDERS))


def make_faker(seed: int, salt: str, fake: Faker | None = None) -> Faker:
    """Return a Faker (`fake`, reseeded, or a new one) whose values depend only on the seed and `salt`.

    Building a Faker costs a little (it finds its providers' en_US versions): an app builds one.
    """
    fake = fake or new_faker()
    fake.seed_instance(f"{seed}/{salt}")
    return fake


def tenant_random(seed: int, api: str, tenant_id: str) -> random.Random:
    """Return the seeded random source of one tenant."""
    return random.Random(f"{seed}/{api}/{tenant_id}")


class Snapshot:
    """The seed data of one fresh tenant: collection name -> documents, copied by `fresh_collection`.

    `make` builds the documents (with Faker) when they are first needed, once: the fixtures are
    checked before, so a bad file still stops the start-up, but Faker's import and work are paid
    by a warm-up thread once the server is listening (or by the first request that needs them).
    """

    def __init__(
        self,
        make: Callable[[], dict[str, list[dict[str, Any]]]],
        first_ids: dict[str, list[str]],
        fixture_only: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self._make: Callable[[], dict[str, list[dict[str, Any]]]] | None = make
        self.first_ids = first_ids
        # Collections only the fixture tenant is seeded with (the webhooks its files declare).
        self.fixture_only = frozenset(fixture_only)
        self._collections: dict[str, list[dict[str, Any]]] | None = None
        # Each collection's documents pickled: a copy from pickle costs half one from JSON (timeit).
        # Only ever our own data (fixtures and Faker's, made JSON-plain first), never a client's.
        self._frozen: dict[str, bytes] = {}
        self._sizes: dict[str, int] = {}

    @property
    def collections(self) -> dict[str, list[dict[str, Any]]]:
        """The documents of each collection (read-only: `fresh()` gives copies to store)."""
        collections = self._collections
        if collections is None:
            with _BUILD_LOCK:
                if self._collections is None and self._make is not None:
                    made = json.loads(json.dumps(self._make()))  # JSON-plain, nothing shared
                    self._frozen = {
                        name: pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL) for name, docs in made.items()
                    }
                    self._sizes = {name: len(docs) for name, docs in made.items()}
                    self._collections, self._make = made, None
                collections = self._collections
        if collections is None:
            raise RuntimeError("the seed data could not be built")
        return collections

    def fresh_collection(self, name: str) -> list[dict[str, Any]]:
        """Return a deep copy of one collection's documents (none for a collection it has not)."""
        self.collections  # noqa: B018 - built on first use
        frozen = self._frozen.get(name)
        return pickle.loads(frozen) if frozen is not None else []  # noqa: S301 - our own data, see above

    def sizes(self) -> dict[str, int]:
        """How many documents each collection holds."""
        self.collections  # noqa: B018 - built on first use
        return self._sizes


def require_list(data: dict[str, Any], name: str, folder: Path) -> list[dict[str, Any]]:
    """Return fixture `name` as a list of objects, or raise naming the file."""
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FixtureError(f"fixture file {folder / (name + '.json')} must hold a JSON array of objects")
    return value


def load_declared(
    data: dict[str, Any],
    name: str,
    folder: Path,
    schema: Schema,
    id_field: str,
    build: Callable[[dict[str, Any], Callable[[str], bool]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The documents optional fixture file `name` declares, each loaded with `schema` and made by
    `build(loaded, taken)` (`taken`: whether an id is declared already); a refusal (a ValueError of
    `build`, an id declared twice) raises naming the file and the item."""
    path = folder / (name + ".json")
    docs: list[dict[str, Any]] = []
    ids: set[str] = set()
    for index, body in enumerate(require_list(data, name, folder)):
        try:
            loaded = schema.load(body)
        except ValidationError as exc:
            first = flatten_messages(exc.messages)[0]
            raise FixtureError(f"fixture file {path}: [{index}] {first['field']}: {first['message']}") from None
        if loaded.get(id_field) in ids:
            raise FixtureError(f"fixture file {path}: [{index}] {id_field}: {loaded[id_field]!r} is declared twice")
        try:
            doc = build(loaded, ids.__contains__)
        except ValueError as exc:
            raise FixtureError(f"fixture file {path}: [{index}] {exc}") from None
        ids.add(doc[id_field])
        docs.append(doc)
    return docs


def require_object(data: dict[str, Any], name: str, folder: Path) -> dict[str, Any]:
    """Return fixture `name` as an object, or raise naming the file."""
    value = data.get(name)
    if not isinstance(value, dict):
        raise FixtureError(f"fixture file {folder / (name + '.json')} must exist and hold a JSON object")
    return value


def fixture_files(folder: Path) -> dict[str, str]:
    """Each fixture file that seeds tenants (`collect/campaigns.json`) and the sha256 of its bytes."""
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*/*.json")):
        if path.parent.name == "scenarios":
            continue
        try:
            files[f"{path.parent.name}/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:  # the fixture loader reports it, in its own words
            files[f"{path.parent.name}/{path.name}"] = "unreadable"
    return files


def fixtures_digest(folder: Path, files: dict[str, str] | None = None) -> str:
    """A digest of the fixture files that seed tenants (a snapshot of other fixtures would not replay)."""
    digest = hashlib.sha256()
    for name, file_digest in (fixture_files(folder) if files is None else files).items():
        digest.update(f"{name}\0{file_digest}\0".encode())
    return "sha256:" + digest.hexdigest()


def differing_files(mine: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """The fixture files present in one of two sets only, or with other contents."""
    return sorted(name for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name))
