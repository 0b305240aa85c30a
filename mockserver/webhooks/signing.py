"""The headers that say who sent a delivery: inSigner's HMAC signature and timestamp, Collect's token."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..ports import WebhookTarget

SIGNATURE = "X-InSigner-Signature"
TIMESTAMP = "X-InSigner-Timestamp"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the body's bytes keyed with the secret's 64 characters as ASCII bytes.

    The key is the secret's text, not its hex decoded, as the vendor's sample uses it.
    """
    return "sha256=" + hmac.new(secret.encode("ascii"), body, hashlib.sha256).hexdigest()


def signed_headers(api: str, body: bytes, at: float, target: WebhookTarget, token_header: str) -> dict[str, str]:
    """The headers of every attempt of one delivery (the same on retries: the event's time, not the attempt's)."""
    if api == "insigner":
        return {SIGNATURE: signature(target.secret or "", body), TIMESTAMP: str(int(at))}
    if target.token:
        return {token_header: target.token}
    return {}
