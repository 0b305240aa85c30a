"""inSigner's Bulk Send API (/api/v1/bulk-sends), emulated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...seeding import FixtureError, load_fixture_folder, require_list
from .. import EmulatedApi
from .backend import (
    COLLECTIONS,
    FAILING_SUFFIX,
    InsignerBackend,
    build_snapshot,
    check_fixture_keys,
    default_key,
    describe_entity,
    is_well_formed_key,
)
from .errors import render_error
from .operations import OPERATIONS
from .schemas import ENTITY_SCHEMAS
from .views import authenticate, blueprint, decorate

if TYPE_CHECKING:
    from ...state import MockState


def build(state: MockState) -> InsignerBackend:
    """Load the fixtures, build the seed snapshot and the organizations, return the backend."""
    folder = state.settings.fixtures_path / "insigner"
    fixtures = load_fixture_folder(folder)
    try:
        snapshot = build_snapshot(fixtures, folder, state.seed, state.settings.seed_count, lambda: state.faker)
        keys = check_fixture_keys(require_list(fixtures, "apiKeys", folder), folder)
        suffix = str(fixtures.get("settings", {}).get("failingEmailDomainSuffix", FAILING_SUFFIX))
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"fixtures in {folder}: {exc}") from None
    org_id = fixtures["organization"]["id"]
    backend = InsignerBackend(state.clock, org_id, state.rate_limits, state.settings.insigner_async_seconds, suffix)
    state.use_tenants(
        "insigner", COLLECTIONS, snapshot, backend.org_id, keys, default_key=default_key, accepts=is_well_formed_key
    )
    return backend


api = EmulatedApi(
    name="insigner",
    prefix="/api/",
    blueprint=blueprint,
    collections=COLLECTIONS,
    render_error=render_error,
    authenticate=authenticate,
    build=build,
    operations=OPERATIONS,
    stored_schemas=ENTITY_SCHEMAS,
    describe_entity=describe_entity,
    decorate=decorate,
)
