"""Who may call an internal surface (the Rasa server's REST channel, the action server): a caller
that shows the surface's token, or, when no token is configured, only a caller on this machine that
is not a web browser.

A browser on this machine is a caller on this machine: any page it opens can POST to a loopback
port (a "simple" request needs no CORS grant to be sent), and a page whose name an attacker
rebinds to 127.0.0.1 can even read the answers. None of the project's own clients is a browser, so
what only browsers send (an Origin, Fetch metadata, a text/plain or multipart body, a Host that is
not this machine's address) is refused where loopback alone would let a call in.

Checked in code by the surface itself, not left to the address it listens on: a listener moved to
0.0.0.0 by a setting, or a proxy in front of it, must not open it to everyone.
"""
from __future__ import annotations

import hmac
import ipaddress
import socket
from functools import lru_cache
from typing import Mapping, Optional


def is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


_BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")
# Bodies only a page would label so (a form's text/plain is the classic way to post JSON from one);
# not x-www-form-urlencoded, which `curl -d` sends for JSON too: a browser sending it also sends an
# Origin and Fetch metadata.
_FORM_BODIES = ("multipart/form-data", "text/plain")


def from_a_browser(headers: Mapping[str, str]) -> bool:
    """A request a web page made a browser send: what no server-side client of ours sends."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    if any(lowered.get(name) for name in _BROWSER_HEADERS):
        return True
    content_type = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in _FORM_BODIES:
        return True
    host = lowered.get("host", "").strip()
    if not host:
        return False
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    # This machine by address (loopback, or the any-address a client may dial) or by its own name,
    # never by a name that someone else's DNS may have rebound to 127.0.0.1.
    return not (is_loopback(name) or name in ("0.0.0.0", "::") or name.lower() in _own_names())


@lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    """This machine's host names (what /etc/hosts maps to 127.0.1.1 on Debian)."""
    name = socket.gethostname()  # (not getfqdn: a DNS lookup, which may hang where there is none)
    return frozenset({name.lower(), name.split(".", 1)[0].lower()} if name else ())


def allowed(configured_token: str, presented_token: Optional[str], peer: Optional[str],
            headers: Optional[Mapping[str, str]] = None) -> bool:
    """With a token configured, the token is required (from anywhere); without one, loopback only,
    and not a browser on this machine (`headers`, when the surface has them)."""
    if configured_token:
        return bool(presented_token) and hmac.compare_digest(configured_token.encode(), presented_token.encode())
    return is_loopback(peer) and not (headers is not None and from_a_browser(headers))


def bearer(authorization: Optional[str]) -> Optional[str]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None
