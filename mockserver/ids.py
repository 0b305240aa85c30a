"""Deterministic identifiers: Meteor-style IDs for Collect, prefixed ones for inSigner."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

METEOR_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
CUID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
URLSAFE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class IdFactory:
    """Hand out IDs from a seeded random source, first the ones the fixtures name for each kind.

    A kind is a collection (`contacts`, `requests`, `bulkSends`, ...): each has its own queue of
    first IDs, so creating one kind of entity never takes an ID the fixtures meant for another.
    """

    def __init__(self, rng: random.Random, first: Mapping[str, Iterable[str]] | None = None) -> None:
        self.rng = rng
        self._first = {kind: deque(ids) for kind, ids in (first or {}).items()}

    def export(self) -> dict[str, Any]:
        """The random state and what is left of each queue of first IDs (JSON)."""
        return {"random": random_state(self.rng), "firstIds": {kind: list(q) for kind, q in self._first.items() if q}}

    @classmethod
    def restored(cls, data: dict[str, Any]) -> IdFactory:
        rng = random.Random()
        set_random_state(rng, data["random"])
        return cls(rng, data.get("firstIds") or {})

    def _draw(self, alphabet: str, length: int) -> str:
        # The characters random.choices(alphabet, k=length) draws, one random() each, without its
        # per-call checks: a 201 of inSigner draws five IDs (cProfile: choices was 6% of it).
        random, size = self.rng.random, len(alphabet)
        return "".join([alphabet[int(random() * size)] for _ in range(length)])

    def _take_first(self, kind: str, taken: Callable[[str], bool] | None) -> str | None:
        queue = self._first.get(kind)
        while queue:
            candidate = queue.popleft()
            if taken is None or not taken(candidate):
                return candidate
        return None

    def meteor(self, kind: str, taken: Callable[[str], bool] | None = None) -> str:
        """Return a 17-character ID from Meteor's alphabet for an entity of `kind`, as Collect's `_id`s are."""
        first = self._take_first(kind, taken)
        if first is not None:
            return first
        while True:
            candidate = self._draw(METEOR_ALPHABET, 17)
            if taken is None or not taken(candidate):
                return candidate

    def prefixed(self, prefix: str, kind: str, length: int = 12, taken: Callable[[str], bool] | None = None) -> str:
        """Return `prefix` plus a cuid-like lowercase suffix for an entity of `kind` (no prefix: `cm` and 12)."""
        first = self._take_first(kind, taken)
        if first is not None:
            return first
        while True:
            head = "cm" if not prefix else ""
            candidate = f"{prefix}{head}{self._draw(CUID_ALPHABET, length)}"
            if taken is None or not taken(candidate):
                return candidate

    def hex(self, length: int) -> str:
        """Return lowercase hexadecimal random characters (for webhook secrets)."""
        return self._draw("0123456789abcdef", length)

    def token(self, length: int) -> str:
        """Return URL-safe random characters (for keys and request IDs)."""
        return self._draw(URLSAFE_ALPHABET, length)


def random_state(rng: random.Random) -> list[Any]:
    """`rng`'s state as JSON: [version, [625 integers], gauss_next]."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_random_state(rng: random.Random, state: list[Any]) -> None:
    """Give `rng` a state from random_state(); raise ValueError if it is not one."""
    try:
        version, internal, gauss = state
        rng.setstate((version, tuple(internal), gauss))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a random state: {exc}") from None
