"""The portal's limit on attempts at a signed PDF: per lookup code and per client address, kept in PostgreSQL."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sandbox.gateway.store import attempts
from sandbox.gateway.store.attempts import Refused, Reserved

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_bucket(address: str | None) -> str:
    """The bucket of a client address: an IPv4 address itself, an IPv6 address its /64.

    One IPv6 subscriber is routinely given a whole /64 (2^64 addresses): a bucket per address would limit nothing.
    An IPv4-mapped IPv6 address is the IPv4 address it maps.
    """
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return "addr:unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"addr:{ip}"


def code_bucket(code: str) -> str:
    """The bucket of a lookup code, by digest: the table is not one more list of valid codes."""
    return "code:" + hashlib.sha256(code.encode()).hexdigest()[:40]


def parse_networks(text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str | None:
    """The address of the client: the socket's peer, unless that is one of our own proxies.

    Behind trusted proxies, X-Forwarded-For is read from the right (the part our proxies appended) and the first
    address that is not one of them is the client; anything to its left was written by the client and is ignored.
    Without trusted proxies the header is never read: a client would pick its own bucket with it.
    """
    networks = tuple(trusted)

    def ours(address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not networks or not ours(peer):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not ours(hop):
            return hop
    return hops[0] if hops else peer


@dataclass(frozen=True)
class AttemptLimits:
    """``per_address`` attempts per ``address_window_s`` from one address (or IPv6 /64), and ``per_code`` per
    ``code_window_s`` at one lookup code from anywhere; an attempt is refused when either is used up."""

    engine: Engine
    per_address: int
    address_window_s: int
    per_code: int
    code_window_s: int

    def reserve(self, address: str | None, code: str) -> Reserved | Refused:
        buckets = [
            attempts.Bucket(address_bucket(address), self.per_address, self.address_window_s),
            attempts.Bucket(code_bucket(code), self.per_code, self.code_window_s),
        ]
        with self.engine.begin() as conn:
            return attempts.reserve(conn, buckets)

    def forgive(self, attempt: str) -> None:
        with self.engine.begin() as conn:
            attempts.forgive(conn, attempt)
