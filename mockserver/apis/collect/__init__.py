"""Collect's "send multiple requests" (POST /v1/requests), emulated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...seeding import FixtureError, load_fixture_folder
from .. import EmulatedApi
from .backend import COLLECTIONS, CollectBackend, build_snapshot
from .errors import render_error
from .operations import OPERATIONS
from .schemas import ENTITY_SCHEMAS
from .views import authenticate, blueprint

if TYPE_CHECKING:
    from ...state import MockState


def build(state: MockState) -> CollectBackend:
    """Load the fixtures, build the seed snapshot and the tenants, return the backend."""
    folder = state.settings.fixtures_path / "collect"
    fixtures = load_fixture_folder(folder)
    try:
        snapshot = build_snapshot(fixtures, folder, state.seed, state.settings.seed_count, lambda: state.faker)
        keys = fixtures.get("apiKeys", [])
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"fixtures in {folder}: {exc}") from None
    backend = CollectBackend(state.clock, fixtures["team"]["_id"])
    state.use_tenants("collect", COLLECTIONS, snapshot, backend.team_id, keys)
    return backend


api = EmulatedApi(
    name="collect",
    prefix="/v1/",
    blueprint=blueprint,
    collections=COLLECTIONS,
    render_error=render_error,
    authenticate=authenticate,
    build=build,
    operations=OPERATIONS,
    stored_schemas=ENTITY_SCHEMAS,
)
