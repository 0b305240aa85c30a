"""The live fault rules of one app: ids, hits, remaining, and which rule (if any) fires on a request."""

from __future__ import annotations

import builtins
import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ControlError
from ..ids import random_state, set_random_state
from .matching import DeliveryInfo, RequestInfo, delivery_matches, matches
from .rules import MAX_RULES, FaultRule

log = logging.getLogger("mockserver.faults")


@dataclass
class LiveRule:
    """A rule with its counters: `seen` matching requests so far, `hits` of them it fired on."""

    rule: FaultRule
    seen: int = 0
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.rule.times is None else max(0, self.rule.times - self.hits)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0

    def describe(self) -> dict[str, Any]:
        """Return the rule as given, with its id and live `hits` and `remaining`."""
        return {**self.rule.as_data(), "hits": self.hits, "remaining": self.remaining}


class FaultEngine:
    """The rule list, oldest first; probabilities draw from `random.Random(f"{seed}/faults")`."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int) -> None:
        """Drop every rule and start ids and the random source again."""
        with self._lock:
            self._rules: list[LiveRule] = []
            self._counter = 0
            self._random = random.Random(f"{seed}/faults")

    def add(self, rule: FaultRule) -> dict[str, Any]:
        """Add a rule (it gets the next id) and return how it is listed; past MAX_RULES, ControlError 409."""
        return self.add_all([rule])[0]

    def add_all(self, rules: Iterable[FaultRule]) -> builtins.list[dict[str, Any]]:
        """Add rules together (a scenario's): all of them, or none when they do not fit under MAX_RULES (409)."""
        rules = builtins.list(rules)
        with self._lock:
            if len(self._rules) + len(rules) > MAX_RULES:
                raise ControlError(409, "too-many-faults", f"at most {MAX_RULES} fault rules: delete some first")
            added = []
            for rule in rules:
                self._counter += 1
                live = LiveRule(replace(rule, id=f"flt_{self._counter}"))
                self._rules.append(live)
                added.append(live.describe())
            return added

    def list(self) -> list[dict[str, Any]]:
        """Return every rule, oldest first, with live counters."""
        with self._lock:
            return [live.describe() for live in self._rules]

    def remove(self, rule_id: str) -> bool:
        """Remove one rule; return False if there is none with that id."""
        with self._lock:
            kept = [live for live in self._rules if live.rule.id != rule_id]
            found = len(kept) != len(self._rules)
            self._rules = kept
            return found

    def clear(self) -> None:
        """Remove every rule (ids keep counting until a reset)."""
        with self._lock:
            self._rules = []

    def export(self) -> tuple[builtins.list[dict[str, Any]], dict[str, Any]]:
        """The rules (as listed, with `seen`), and the id counter and random state.

        A caller that keeps only some filters the copy after the lock is released: deciding which
        to keep may call into the tenant registries, and a leaf lock calls out to nothing.
        """
        with self._lock:
            rules = [{**live.describe(), "seen": live.seen} for live in self._rules]
            return rules, {"nextRule": self._counter, "random": random_state(self._random)}

    def rule_tenants(self) -> set[str]:
        """The distinct `tenant` values of the live rules (keys or tenant ids), to resolve before `decide`."""
        with self._lock:
            return {live.rule.tenant for live in self._rules if live.rule.tenant is not None}

    def restore(
        self, rules: builtins.list[tuple[FaultRule, int, int]], counter: int, state: builtins.list[Any]
    ) -> None:
        """Become exactly a snapshot's engine: its rules (with their ids, seen and hits), counter, random state."""
        with self._lock:
            set_random_state(self._random, state)
            self._rules = [LiveRule(rule, seen, hits) for rule, seen, hits in rules]
            self._counter = counter

    def replace_scoped(self, tenants: set[str], rules: builtins.list[tuple[FaultRule, int, int]]) -> None:
        """Take a one-tenant snapshot's rules: drop the live rules whose `tenant` is one of `tenants`
        (the keys and ids that name the snapshot's tenants, resolved by the caller), then add the
        snapshot's with their counters, under new ids."""
        with self._lock:
            self._rules = [live for live in self._rules if live.rule.tenant not in tenants]
            for rule, seen, hits in rules:
                self._counter += 1
                self._rules.append(LiveRule(replace(rule, id=f"flt_{self._counter}"), seen, hits))

    @property
    def delays(self) -> bool:
        """Whether a rule may make a request wait (a `delayMs`), expired ones included.

        Read without the lock, as `active` is: the list is replaced or appended to, never changed in
        place, and without rules this costs nothing; with rules, `decide` walks them all anyway.
        """
        return any(live.rule.delay_ms for live in self._rules)

    @property
    def active(self) -> bool:
        """Whether any rule is defined (without a rule there is nothing to match)."""
        return bool(self._rules)

    def decide(self, info: RequestInfo) -> FaultRule | None:
        """Return the rule that fires on this request: the oldest live matching one whose turn it is.

        `info.tenant_of` must call out to nothing (a lookup in a dict resolved beforehand): it runs
        under this leaf lock.
        """
        with self._lock:
            for live in self._rules:
                if live.exhausted or live.rule.on_deliveries:
                    continue
                matched, reason = matches(live.rule, info)
                if not matched:
                    if log.isEnabledFor(logging.DEBUG):
                        log.debug("fault %s passes %s %s: %s", live.rule.id, info.method, info.path, reason)
                    continue
                live.seen += 1
                if live.seen <= live.rule.after:
                    continue
                # Draw only for real chances, so rules of probability 1 never shift the sequence.
                if live.rule.probability < 1.0 and not self._random.random() < live.rule.probability:
                    continue
                live.hits += 1
                return live.rule
            return None

    def decide_delivery(self, info: DeliveryInfo) -> FaultRule | None:
        """Return the delivery rule that fires on this attempt, as `decide` picks a request's."""
        with self._lock:
            for live in self._rules:
                if live.exhausted or not live.rule.on_deliveries or not delivery_matches(live.rule, info):
                    continue
                live.seen += 1
                if live.seen <= live.rule.after:
                    continue
                if live.rule.probability < 1.0 and not self._random.random() < live.rule.probability:
                    continue
                live.hits += 1
                return live.rule
            return None
