"""Collect's "send multiple requests" (POST /v1/requests), emulated."""

from __future__ import annotations

from ...emulated import BuildInputs, Built, EmulatedApi
from ...seeding import FixtureError, load_fixture_folder
from .backend import COLLECTIONS, CollectBackend, build_snapshot
from .errors import render_error
from .operations import OPERATIONS
from .schemas import ENTITY_SCHEMAS, RequestEventSchema
from .views import authenticate, blueprint


def build(given: BuildInputs) -> Built:
    """Load the fixtures, build the seed snapshot and the backend."""
    folder = given.settings.fixtures_path / "collect"
    fixtures = load_fixture_folder(folder)
    try:
        snapshot = build_snapshot(fixtures, folder, given.seed, given.settings.seed_count, given.faker, given.egress)
        keys = fixtures.get("apiKeys", [])
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"fixtures in {folder}: {exc}") from None
    backend = CollectBackend(given.clock, fixtures["team"]["_id"], given.egress, given.events)
    return Built(backend, snapshot, backend.team_id, keys)


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
    events={"created": RequestEventSchema},
    event_headers={"X-Collect-Secret-Token": "The webhook's secretToken, when it has one (--collect-token-header)"},
)
