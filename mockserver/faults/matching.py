"""Does a rule match a request? Small pure functions that return `(matched, reason)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..patterns import ANY
from .rules import FaultRule

Match = tuple[bool, str]


@dataclass(frozen=True)
class RequestInfo:
    """What matching needs to know of one request to an emulated API."""

    api: str
    method: str
    path: str
    tenant: str | None
    # Maps a rule's `tenant` (an API key or a tenant id) to a tenant id of this request's API. It
    # runs under the fault engine's lock, so it calls out to nothing: the stage resolves the rules'
    # tenants first and passes a dict's `get`.
    tenant_of: Callable[[str], str | None] = lambda value: value


def api_matches(rule: FaultRule, info: RequestInfo) -> Match:
    if rule.api in (ANY, info.api):
        return True, ""
    return False, f"api {info.api} is not {rule.api}"


def method_matches(rule: FaultRule, info: RequestInfo) -> Match:
    if rule.method == ANY or rule.method.upper() == info.method.upper():
        return True, ""
    return False, f"method {info.method} is not {rule.method.upper()}"


def path_matches(rule: FaultRule, info: RequestInfo) -> Match:
    if rule.path in (ANY, info.path) or fnmatchcase(info.path, rule.path):
        return True, ""
    return False, f"path {info.path} does not match {rule.path}"


def tenant_matches(rule: FaultRule, info: RequestInfo) -> Match:
    if rule.tenant is None:
        return True, ""
    if info.tenant is not None and info.tenant_of(rule.tenant) == info.tenant:
        return True, ""
    return False, f"tenant {info.tenant} is not the rule's tenant"


MATCHERS = (api_matches, method_matches, path_matches, tenant_matches)


def matches(rule: FaultRule, info: RequestInfo) -> Match:
    """Return whether `rule` matches `info`, and why not when it does not."""
    for matcher in MATCHERS:
        matched, reason = matcher(rule, info)
        if not matched:
            return False, reason
    return True, ""


@dataclass(frozen=True)
class DeliveryInfo:
    """What a delivery rule matches of one attempt; `tenant_of` as RequestInfo's."""

    api: str
    tenant: str
    webhook: str
    event: str
    attempt: int
    tenant_of: Callable[[str], str | None] = lambda value: value


# Kinds that only inSigner's deliveries can carry: a rule for any API matches inSigner's attempts only.
INSIGNER_ONLY = ("tamperedBody", "staleTimestamp")


def delivery_matches(rule: FaultRule, info: DeliveryInfo) -> bool:
    """Tell whether a delivery rule matches an attempt."""
    if rule.api not in (ANY, info.api) or (rule.kind in INSIGNER_ONLY and info.api != "insigner"):
        return False
    if rule.tenant is not None and info.tenant_of(rule.tenant) != info.tenant:
        return False
    if rule.webhook is not None and rule.webhook != info.webhook:
        return False
    if rule.attempt is not None and rule.attempt != info.attempt:
        return False
    return rule.event == ANY or fnmatchcase(info.event, rule.event)
