"""Where the mock may send a webhook: loopback by default, `--webhook-allow` to widen, never an open relay.

The policy is checked twice (webhooks.md, section 6): at registration, on what can be judged
without resolving a name (the URL's form, IP literals, `localhost`, names the allow list names),
and at each attempt, on every address the name resolves to. Some addresses are refused whatever
is allowed: link-local (cloud metadata), `0.0.0.0/8`, multicast, and the mock's own port on an
address of this host, so that a delivery can never reach `/__mock`.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
# Refused whatever --webhook-allow says.
ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(net) for net in ("169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "224.0.0.0/4", "ff00::/8")
)
# What --webhook-strict-urls refuses on inSigner besides plain HTTP: the vendor's SSRF protection
# (api-facts B.8: "10/8, 172.16/12, 192.168/16 and loopback").
VENDOR_PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "::1/128", "fc00::/7")
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - what a bound host is compared with, not a bind


class Refused(ValueError):
    """A URL the policy refuses; the message names the refused address and how to widen the policy."""


@dataclass(frozen=True)
class Target:
    """The parts of a webhook URL that the policy judges."""

    scheme: str
    host: str
    port: int

    @property
    def address(self) -> IpAddress | None:
        """The host as an IP address, when it is a literal."""
        try:
            return ipaddress.ip_address(self.host.split("%", 1)[0])
        except ValueError:
            return None


def parse_url(url: str) -> Target:
    """Return the scheme, host and port of an http(s) URL; raise ValueError naming what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"a URL has at most {MAX_URL_LENGTH:,} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("the URL must be http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the URL has no host")
    return Target(scheme, host, port if port is not None else (443 if scheme == "https" else 80))


class EgressPolicy:
    """Which webhook URLs the mock may deliver to (one per server: --webhook-allow, its own address)."""

    def __init__(self, allow: str | None = None, *, strict: bool = False, host: str = "127.0.0.1", port: int = 0):
        self.allow_text = (allow or "").strip()
        self.strict = strict
        self.bound_host = host
        self.own_port = port
        self.any_host = False
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[IpNetwork] = []
        for item in (part.strip().lower() for part in self.allow_text.split(",")):
            if not item:
                continue
            if item == "*":
                self.any_host = True
            elif item.startswith("*."):
                self.suffixes.append(item[1:])
            else:
                try:
                    self.networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
                except ValueError:
                    self.names.add(item.rstrip("."))

    def describe(self) -> str:
        """The policy in one line (the ready line prints it)."""
        widened = f", and {self.allow_text}" if self.allow_text else ""
        return f"webhooks to loopback{widened}" + (" (strict URLs)" if self.strict else "")

    def learn_port(self, port: int) -> None:
        """Take the port the server listens on (with --port 0 it is known only once bound)."""
        self.own_port = port

    # -- the checks -----------------------------------------------------------------------------------
    def check_registration(self, url: str, *, vendor_private: bool = False) -> Target:
        """Return the URL's target, or raise Refused / ValueError (a malformed URL).

        Names that are neither `localhost` nor listed are left for each attempt to resolve (a
        compose service may not be up yet). `vendor_private`: --webhook-strict-urls also refuses
        private and loopback addresses, as inSigner does.
        """
        target = parse_url(url)
        if self.strict:
            if target.scheme != "https":
                raise Refused("Only HTTPS URLs are accepted (--webhook-strict-urls, as the vendor in production)")
            if vendor_private and self._vendor_private(target):
                raise Refused(
                    f"The address {target.host} is private or loopback: refused as the vendor refuses it "
                    "(--webhook-strict-urls)"
                )
        address = target.address
        if address is not None:
            self.check_address(address, target.port, target.host)
        elif target.host.rstrip(".") in LOOPBACK_NAMES:
            self.check_address(ipaddress.ip_address("127.0.0.1"), target.port, target.host)
        return target

    def check_address(
        self, address: IpAddress, port: int, shown: str | None = None, *, listed_name: bool = False
    ) -> None:
        """Raise Refused unless the mock may connect to `address`:`port` (what an attempt checks).

        `listed_name`: the address is one that a name --webhook-allow lists resolved to.
        """
        name = shown or str(address)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in ALWAYS_REFUSED):
            raise Refused(f"The address {name} is link-local, unspecified or multicast: always refused")
        if port == self.own_port and self._is_own_host(address):
            raise Refused(f"The address {name}:{port} is the mock itself: a delivery never reaches /__mock")
        if address.is_loopback or listed_name or self.any_host or any(address in net for net in self.networks):
            return
        raise Refused(
            f"The address {name} is not loopback: the mock delivers to loopback only unless --webhook-allow "
            f"names it (now: {self.allow_text or 'nothing'})"
        )

    def allows_name(self, host: str) -> bool:
        """Tell whether --webhook-allow names `host` (every address it resolves to is still checked)."""
        host = host.rstrip(".").lower()
        return self.any_host or host in self.names or any(host.endswith(suffix) for suffix in self.suffixes)

    def _vendor_private(self, target: Target) -> bool:
        address = target.address
        if address is None:
            return target.host.rstrip(".") in LOOPBACK_NAMES
        return any(address in net for net in VENDOR_PRIVATE)

    def _is_own_host(self, address: IpAddress) -> bool:
        """Tell whether `address` reaches this server: loopback, or any local address when bound to all."""
        if address.is_loopback:
            return True
        if self.bound_host in WILDCARD_BINDS:
            return str(address) in self._local_addresses
        try:
            return address == ipaddress.ip_address(self.bound_host)
        except ValueError:
            return False

    @cached_property
    def _local_addresses(self) -> frozenset[str]:
        """The addresses of this host's interfaces, as far as its own name resolves them."""
        found: set[str] = set()
        try:
            for info in socket.getaddrinfo(socket.gethostname(), None):
                found.add(str(info[4][0]).split("%", 1)[0])
        except OSError:
            pass
        return frozenset(found)
