"""Scenarios: named sets of fault rules, clock, rate-limit settings and entities, as data.

One JSON file per scenario in the fixtures' `scenarios/` folder, all read and checked when the
app is built, so a broken file stops the start with its name. Applying one is exactly the
control calls it stands for (POST /__mock/faults, /clock, PUT /rate-limits, POST /state/...);
a reset undoes it, like everything else.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..clock import Clock, change_clock
from ..errors import ControlError, describe_problems
from ..faults.engine import FaultEngine
from ..faults.rules import FaultRule, FaultRuleSchema
from ..ratelimits.model import RateLimits

PartType = TypeVar("PartType")

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class ScenarioError(ValueError):
    """A scenario file that cannot be used, or an unknown scenario; one line naming the file or name."""


class TenantPartSchema(Schema):
    """What a scenario adds to one API's tenant: the API, and the key whose tenant gets it."""

    class Meta:
        unknown = RAISE

    api = fields.String(required=True)
    tenant = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1),
        metadata={"description": "The API key whose tenant gets it; default: the fixture tenant."},
    )


class EntitySchema(TenantPartSchema):
    """One entity a scenario adds, as POST /__mock/state/{api}/{collection}?tenant= would."""

    collection = fields.String(required=True)
    entity = fields.Dict(required=True)


class WebhookDeclarationSchema(TenantPartSchema):
    """One webhook a scenario declares, as POST /__mock/state/{api}/webhooks?tenant= would add it."""

    webhook = fields.Dict(required=True, metadata={"description": "The webhook, as that call's body."})


class ScenarioSchema(Schema):
    """A scenario file."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(NAME_PATTERN, error="Lowercase words and dashes."))
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    faults = fields.List(fields.Nested(FaultRuleSchema), load_default=list)
    clock = fields.Dict(load_default=None, allow_none=True, metadata={"description": "A POST /__mock/clock body."})
    rate_limits = fields.Dict(
        data_key="rateLimits",
        load_default=None,
        allow_none=True,
        metadata={"description": "A PUT /__mock/rate-limits body."},
    )
    entities = fields.List(fields.Nested(EntitySchema), load_default=list)
    webhooks = fields.List(fields.Nested(WebhookDeclarationSchema), load_default=list)

    @validates_schema
    def _bodies(self, data: dict[str, Any], **kwargs: Any) -> None:
        # The clock and rate-limit bodies are checked by the code that applies them, on scratch objects.
        if data.get("clock") is not None:
            try:
                change_clock(Clock(), data["clock"])
            except ValueError as exc:
                raise ValidationError(str(exc), field_name="clock") from None
        if data.get("rate_limits") is not None:
            try:
                RateLimits().update(data["rate_limits"])
            except ValueError as exc:
                raise ValidationError(str(exc), field_name="rateLimits") from None


class ScenarioTarget(Protocol):
    """What a scenario changes: the state of one app (`emulated.AppState` is one), by its parts."""

    @property
    def clock(self) -> Clock: ...

    def part(self, kind: type[PartType]) -> PartType: ...


# Adds an entity (api, collection, body, tenant key or None) and returns it as listed (entities.add_entity).
AddEntity = Callable[[str, str, dict[str, Any], str | None], dict[str, Any]]


@dataclass(frozen=True)
class Scenario:
    """One checked scenario."""

    name: str
    description: str
    faults: tuple[FaultRule, ...]
    clock: dict[str, Any] | None
    rate_limits: dict[str, Any] | None
    entities: tuple[dict[str, Any], ...]
    webhooks: tuple[dict[str, Any], ...] = ()

    def summary(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description}


def load_scenario(path: Path, apis: Mapping[str, Collection[str]]) -> Scenario:
    """Read and check one scenario file (`apis`: each API's collections); raise ScenarioError naming the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario file {path}: must hold a JSON object")
    try:
        data = ScenarioSchema().load(raw)
    except ValidationError as exc:
        raise ScenarioError(f"scenario file {path}: {describe_problems(exc.messages)}") from None
    if data["name"] != path.stem:
        raise ScenarioError(f"scenario file {path}: name: {data['name']!r} must be the file's name, {path.stem!r}")
    for index, entity in enumerate(data["entities"]):
        api = apis.get(entity["api"])
        if api is None:
            raise ScenarioError(f"scenario file {path}: entities.{index}.api: unknown api {entity['api']!r}")
        if entity["collection"] not in api:
            raise ScenarioError(
                f"scenario file {path}: entities.{index}.collection: "
                f"{entity['api']} has no collection {entity['collection']!r}"
            )
    for index, declared in enumerate(data["webhooks"]):
        api = apis.get(declared["api"])
        if api is None or "webhooks" not in api:
            raise ScenarioError(f"scenario file {path}: webhooks.{index}.api: unknown api {declared['api']!r}")
    return Scenario(
        data["name"],
        data["description"],
        tuple(data["faults"]),
        data["clock"],
        data["rate_limits"],
        tuple(data["entities"]),
        tuple(data["webhooks"]),
    )


class Scenarios:
    """The scenarios of a fixtures folder, by name."""

    def __init__(self, scenarios: Mapping[str, Scenario]) -> None:
        self._scenarios = dict(scenarios)

    @classmethod
    def load(cls, folder: Path, apis: Mapping[str, Collection[str]]) -> Scenarios:
        """Read every `*.json` of `folder` (none if it does not exist)."""
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return cls({path.stem: load_scenario(path, apis) for path in paths})

    def list(self) -> list[dict[str, str]]:
        """Return name and description of each scenario, by name."""
        return [scenario.summary() for scenario in self._scenarios.values()]

    def get(self, name: str) -> Scenario | None:
        return self._scenarios.get(name)

    def names(self) -> builtins.list[str]:
        return list(self._scenarios)

    def apply(
        self,
        state: ScenarioTarget,
        name: str,
        add_entity: AddEntity,
        together: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> dict[str, Any]:
        """Apply scenario `name`: entities, webhooks, rate-limit settings, clock, then fault rules.

        All or nothing: the entities and webhooks are added inside `together()`, which puts the
        tenants back when the block raises (`entities.all_or_none`); the rate-limit settings and
        the clock are put back by this method, and the rules go in at once or not at all. Raises
        ScenarioError for an unknown name and ControlError when a part is refused (an entity that
        exists already: the scenario was applied before; no room for its rules).
        """
        scenario = self.get(name)
        if scenario is None:
            known = ", ".join(self.names()) or "none"
            raise ScenarioError(f"unknown scenario {name!r} (known: {known})")
        applied: dict[str, Any] = {"name": scenario.name, "description": scenario.description}
        with together() if scenario.entities or scenario.webhooks else nullcontext():
            if scenario.entities:
                applied["entities"] = [
                    add_entity(entity["api"], entity["collection"], entity["entity"], entity["tenant"])
                    for entity in scenario.entities
                ]
            if scenario.webhooks:
                applied["webhooks"] = [
                    add_entity(declared["api"], "webhooks", declared["webhook"], declared["tenant"])
                    for declared in scenario.webhooks
                ]
            limits = state.part(RateLimits)
            limits_before = limits.export() if scenario.rate_limits is not None else None
            clock_before = (state.clock.now(), state.clock.frozen)
            try:
                if scenario.rate_limits is not None:
                    applied["rateLimits"] = limits.update(scenario.rate_limits)
                if scenario.clock is not None:
                    try:
                        change_clock(state.clock, scenario.clock)
                    except ValueError as exc:  # checked at load; a clock that moved since may still refuse it
                        raise ControlError(400, "invalid-clock", str(exc)) from None
                    applied["clock"] = state.clock.describe()
                applied["faults"] = state.part(FaultEngine).add_all(scenario.faults)
            except BaseException:
                if limits_before is not None:
                    limits.restore(limits_before)
                if scenario.clock is not None:
                    state.clock.restore(*clock_before)
                raise
        return applied
