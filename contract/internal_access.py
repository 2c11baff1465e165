"""Who may call an internal surface (the Rasa server's REST channel, the action server): a caller
that shows the surface's token, or, when no token is configured, only a caller on this machine.

Checked in code by the surface itself, not left to the address it listens on: a listener moved to
0.0.0.0 by a setting, or a proxy in front of it, must not open it to everyone.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Optional


def is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def allowed(configured_token: str, presented_token: Optional[str], peer: Optional[str]) -> bool:
    """With a token configured, the token is required (from anywhere); without one, loopback only."""
    if configured_token:
        return bool(presented_token) and hmac.compare_digest(configured_token.encode(), presented_token.encode())
    return is_loopback(peer)


def bearer(authorization: Optional[str]) -> Optional[str]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None
