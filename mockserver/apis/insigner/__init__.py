"""inSigner's Bulk Send API (/api/v1/bulk-sends), emulated."""

from __future__ import annotations

from ...emulated import BuildInputs, Built, EmulatedApi
from ...seeding import FixtureError, load_fixture_folder, require_list
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
from .schemas import ENTITY_SCHEMAS, BulkSendEventSchema
from .views import authenticate, blueprint, decorate


def build(given: BuildInputs) -> Built:
    """Load the fixtures, build the seed snapshot and the backend."""
    folder = given.settings.fixtures_path / "insigner"
    fixtures = load_fixture_folder(folder)
    try:
        snapshot = build_snapshot(fixtures, folder, given.seed, given.settings.seed_count, given.faker, given.egress)
        keys = check_fixture_keys(require_list(fixtures, "apiKeys", folder), folder)
        suffix = str(fixtures.get("settings", {}).get("failingEmailDomainSuffix", FAILING_SUFFIX))
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"fixtures in {folder}: {exc}") from None
    org_id = fixtures["organization"]["id"]
    backend = InsignerBackend(
        given.clock,
        org_id,
        given.rate_limits,
        given.settings.insigner_async_seconds,
        suffix,
        given.seed,
        given.egress,
        given.events,
    )
    return Built(backend, snapshot, org_id, keys, default_key=default_key, accepts=is_well_formed_key)


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
    events={"bulk_send.completed": BulkSendEventSchema, "bulk_send.failed": BulkSendEventSchema},
    event_headers={
        "X-InSigner-Signature": "sha256= and the hex HMAC-SHA256 of the body's bytes, keyed with the webhook's secret",
        "X-InSigner-Timestamp": "When the event was created, POSIX seconds of the mock's clock (the same on retries)",
    },
)
