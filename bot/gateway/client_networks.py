"""Whom per-address limits count: one subscriber, not one address.

An IPv6 subscriber is given a whole /64 (often a /56) and may pick a new address for every request,
so counting addresses would give one person an endless supply of fresh budgets. Every per-address
limit of the gateway (chat sockets, console and workbench logins) counts through here.
"""
from __future__ import annotations

import ipaddress
from typing import Optional

IPV6_SUBSCRIBER_PREFIX = 64  # the smallest network an IPv6 subscriber is given (RFC 6177)


def subscriber_network(host: Optional[str]) -> Optional[str]:
    """The address an IPv4 client is counted under (an IPv4-mapped IPv6 address as the IPv4 one), the
    /64 an IPv6 client is counted under, or the host as it is when it is no address (a test client's
    name); None when there is no host at all."""
    if not host:
        return None
    ip = _address(host)
    if ip is None:
        return host
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_SUBSCRIBER_PREFIX}", strict=False))


def is_this_machine(host: Optional[str]) -> bool:
    """A loopback address (an IPv4-mapped one included)."""
    ip = _address(host or "")
    return ip is not None and ip.is_loopback


def _address(host: str) -> Optional[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address `host` names (an IPv4-mapped IPv6 address as the IPv4 one), None if it is no address."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    return ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip
