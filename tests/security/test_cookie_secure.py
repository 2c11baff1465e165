"""Finding 7c: the console's cookies were not `Secure` unless configured. Now they are whenever the
gateway listens on anything but loopback (GATEWAY_COOKIE_SECURE=auto, the default)."""
from __future__ import annotations

from typing import Callable

import httpx
import pytest

from bot.gateway.settings import GatewaySettings
from tests.security.conftest import OPERATORS, Gateway, csrf_of, set_cookies


def console_cookies(gateway: Gateway) -> dict[str, str]:
    """The Set-Cookie headers of the login form and of a login, as a browser receives them.

    A `Secure` cookie never travels back over plain HTTP, so the login cookie is echoed by hand.
    """
    page = httpx.get(f"{gateway.url}/console")
    login_cookie = set_cookies(page)["gw_login"]
    value = login_cookie.split(";", 1)[0].split("=", 1)[1]
    response = httpx.post(f"{gateway.url}/console/login",
                          json={"username": "alice", "password": OPERATORS["alice"]},
                          headers={"X-CSRF-Token": csrf_of(page.text), "Cookie": f"gw_login={value}"})
    assert response.status_code == 200, response.text
    return {**set_cookies(page), **set_cookies(response)}


def attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in set_cookie.split(";")[1:]}


def test_console_cookies_are_secure_unless_the_gateway_listens_on_loopback(
        start_gateway: Callable[..., Gateway]) -> None:
    public = console_cookies(start_gateway(GATEWAY_HOST="0.0.0.0"))
    local = console_cookies(start_gateway(GATEWAY_HOST="127.0.0.1"))
    for name in ("gw_login", "gw_session"):
        assert {"secure", "httponly", "samesite"} <= attributes(public[name])
        assert "samesite=strict" in public[name].lower()
        assert "secure" not in attributes(local[name]) and "httponly" in attributes(local[name])


@pytest.mark.parametrize("host, setting, secure", [
    ("0.0.0.0", "", True), ("0.0.0.0", "auto", True), ("10.1.2.3", "auto", True), ("::", "auto", True),
    ("gateway.example.cn", "auto", True),
    ("127.0.0.1", "auto", False), ("127.0.0.2", "", False), ("localhost", "auto", False), ("::1", "auto", False),
    ("127.0.0.1", "1", True), ("0.0.0.0", "0", False), ("0.0.0.0", "off", False),
])
def test_the_secure_flag_follows_the_listen_address_unless_set(host: str, setting: str, secure: bool) -> None:
    settings = GatewaySettings.from_env({"GATEWAY_HOST": host, "GATEWAY_COOKIE_SECURE": setting})
    assert settings.cookie_secure is secure
