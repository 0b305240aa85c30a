"""The credentials of a request, read once from its Authorization header; each API judges them."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the Authorization header carries, and once an API accepted it, what the key may do.

    `scheme` is the scheme as sent, lowercased (`basic`, `bearer`); `key` is the Bearer token or
    the Basic password, None when none could be read (`problem` then says why); `scopes` are
    filled in by the API that authenticates the key.
    """

    scheme: str
    key: str | None
    problem: str | None = None
    scopes: tuple[str, ...] = ()


def read_credentials(header: str | None) -> Credentials | None:
    """Read `Authorization: Basic base64(user:password)` or `Bearer <token>`; None without a header."""
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        return Credentials(scheme, None, "The Authorization header has no credentials after its scheme.")
    if scheme == "bearer":
        return Credentials(scheme, value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return Credentials(scheme, None, "The Basic credentials are not valid base64 of user:password.")
        _, sep, password = decoded.partition(":")
        if not sep:
            return Credentials(scheme, None, "The Basic credentials have no ':' between user and password.")
        if not password:
            return Credentials(scheme, None, "The API key (the Basic password) is empty.")
        return Credentials(scheme, password)
    return Credentials(scheme, None, f"Unsupported authorization scheme {scheme!r}.")
