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
