"""Settings: defaults, then MOCKSERVER_* environment variables, then explicit values."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

# The emulated APIs, by the names the control plane, the journal and the patterns use.
API_NAMES = ("collect", "insigner")

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
STORES = ("memory", "tinydb")
TRUE = {"1", "true", "yes", "on"}
# An HTTP header name (RFC 9110's token).
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message is one line for the user."""


def shipped_fixtures() -> Path:
    """Return the folder of fixtures that ships with the package (a link to fixtures/ in a checkout)."""
    return Path(__file__).resolve().parent / "_fixtures"


# Each numeric option's range, inclusive: the CLI, the environment and a snapshot's options all
# apply these (tooling.md gives seed-count, insigner-async-seconds and max-tenants; the rest are
# the mock's own, listed in the table of mock-defined behaviour, docs/reference/mock-defined.md).
RANGES: dict[str, tuple[float, float]] = {
    "port": (0, 65535),
    "seed": (-(2**63), 2**63 - 1),
    "journal_size": (1, 100_000),
    "max_tenants": (1, 100_000),
    "seed_count": (0, 1_000),
    "max_body_bytes": (1, 64 * 1024 * 1024),
    "insigner_async_seconds": (0, 31_536_000),
    "threads": (1, 1_024),
    "webhook_timeout": (0.1, 60),
    "deliveries_size": (1, 100_000),
}


def out_of_range(name: str, value: float) -> str | None:
    """The one-line reason `value` is outside `name`'s range, or None when it is inside."""
    low, high = RANGES[name]
    if low <= value <= high:  # NaN compares false: refused too
        return None
    return f"{name.replace('_', '-')}: {value!r} is outside {low:,}-{high:,}"


# PUT /__mock/snapshot takes documents up to this size (other bodies: max_body_bytes).
SNAPSHOT_PATH = "/__mock/snapshot"
SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Every option of the server; see `mockserver serve --help` and docs/reference/cli.md."""

    host: str = "127.0.0.1"
    port: int = 8080
    store: str = "memory"
    db: str = "mockserver.json"
    seed: int = 42
    fixtures: str | None = None
    scenario: str | None = None
    strict_auth: bool = False
    control_token: str | None = None
    journal_size: int = 1000
    log_level: str = "info"
    max_tenants: int = 200
    seed_count: int = 20
    max_body_bytes: int = 1024 * 1024
    freeze_at: str | None = None
    insigner_async_seconds: float = 0.0
    threads: int = 32
    # Names besides loopback ones that a loopback-bound server answers (comma-separated).
    allowed_hosts: str | None = None
    # A snapshot to start from (GET /__mock/snapshot); a reset returns to it.
    snapshot: str | None = None
    # Webhooks' egress (webhooks.md, section 6): what besides loopback a delivery may reach
    # (comma-separated names, *.suffix, addresses, CIDR ranges or *), and the vendor's URL rules.
    webhook_allow: str | None = None
    webhook_strict_urls: bool = False
    # Deliveries: sent (on) or logged as suppressed (off); each attempt's time in real seconds; the
    # ended attempts the log keeps; the header that carries a Collect webhook's secretToken.
    webhooks: str = "on"
    webhook_timeout: float = 10.0
    deliveries_size: int = 1000
    collect_token_header: str = "X-Collect-Secret-Token"  # noqa: S105 - a header's name, not a secret

    @property
    def allowed_host_names(self) -> frozenset[str]:
        return frozenset(name.strip().lower() for name in (self.allowed_hosts or "").split(",") if name.strip())

    @property
    def fixtures_path(self) -> Path:
        return Path(self.fixtures) if self.fixtures else shipped_fixtures()

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> Settings:
        """Build settings from defaults, the environment (MOCKSERVER_<NAME>) and `explicit` values."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = env.get(f"MOCKSERVER_{spec.name.upper()}")
            if raw is not None and raw != "":
                values[spec.name] = raw
        unknown = set(explicit) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in explicit.items() if v is not None})
        return cls.coerce(values)

    @classmethod
    def coerce(cls, values: Mapping[str, Any]) -> Settings:
        """Convert and check raw values (strings from the environment or the command line)."""
        out: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, value in values.items():
            kind = types[name]
            try:
                if kind == "int":
                    out[name] = int(value)
                elif kind == "float":
                    out[name] = float(value)
                elif kind == "bool":
                    if isinstance(value, bool):
                        out[name] = value
                    elif str(value).strip().lower() in TRUE:
                        out[name] = True
                    elif str(value).strip().lower() in FALSE:
                        out[name] = False
                    else:
                        raise ValueError(value)
                else:
                    out[name] = value
            except (TypeError, ValueError):
                raise ConfigError(f"{name.replace('_', '-')}: {value!r} is not a valid {kind}") from None
        settings = cls(**out)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError naming the first unusable setting."""
        for name in RANGES:
            reason = out_of_range(name, getattr(self, name))
            if reason is not None:
                raise ConfigError(reason)
        if self.store not in STORES:
            raise ConfigError(f"store: {self.store!r} is not one of {', '.join(STORES)}")
        if self.webhooks not in ("on", "off"):
            raise ConfigError(f"webhooks: {self.webhooks!r} is not on or off")
        if not HEADER_NAME.fullmatch(self.collect_token_header):
            raise ConfigError(f"collect-token-header: {self.collect_token_header!r} is not a header name")
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(f"log-level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        if self.freeze_at:
            from .clock import check_in_range, parse_instant

            try:
                at = parse_instant(self.freeze_at)
            except ValueError:
                raise ConfigError(f"freeze-at: {self.freeze_at!r} is not an ISO 8601 instant") from None
            try:
                check_in_range(at)
            except ValueError as exc:
                raise ConfigError(f"freeze-at: {exc}") from None

    def with_values(self, **changes: Any) -> Settings:
        """Return a copy with some values changed."""
        return replace(self, **changes)
