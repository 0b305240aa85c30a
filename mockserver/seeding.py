"""Seed data: the vendors' example entities from the fixtures, plus a Faker-made set from the seed."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from faker import Faker


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


def make_faker(seed: int, salt: str, fake: Faker | None = None) -> Faker:
    """Return a Faker (`fake`, reseeded, or a new one) whose values depend only on the seed and `salt`.

    Building a Faker costs tens of milliseconds (it discovers its providers): an app builds one.
    """
    fake = fake or Faker("en_US")
    fake.seed_instance(f"{seed}/{salt}")
    return fake


def tenant_random(seed: int, api: str, tenant_id: str) -> random.Random:
    """Return the seeded random source of one tenant."""
    return random.Random(f"{seed}/{api}/{tenant_id}")


class Snapshot:
    """The seed data of one fresh tenant: collection name -> documents, copied on every use."""

    def __init__(self, collections: dict[str, list[dict]], first_ids: dict[str, list[str]]) -> None:
        self.collections = collections
        self.first_ids = first_ids
        self._frozen = json.dumps(collections)

    def fresh(self) -> dict[str, list[dict]]:
        """Return a deep copy of the documents, safe to store."""
        return json.loads(self._frozen)


def require_list(data: dict[str, Any], name: str, folder: Path) -> list[dict]:
    """Return fixture `name` as a list of objects, or raise naming the file."""
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FixtureError(f"fixture file {folder / (name + '.json')} must hold a JSON array of objects")
    return value


def require_object(data: dict[str, Any], name: str, folder: Path) -> dict:
    """Return fixture `name` as an object, or raise naming the file."""
    value = data.get(name)
    if not isinstance(value, dict):
        raise FixtureError(f"fixture file {folder / (name + '.json')} must exist and hold a JSON object")
    return value


def fixtures_digest(folder: Path) -> str:
    """A digest of the fixture files that seed tenants (a snapshot of other fixtures would not replay)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*/*.json")):
        if path.parent.name == "scenarios":
            continue
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:  # the fixture loader reports it, in its own words
            digest.update(b"\0unreadable")
    return "sha256:" + digest.hexdigest()
