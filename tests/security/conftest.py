"""Live gateways for the security tests (the fixtures of tests/bot/gateway), and clients that log in
and use the console the way an outsider, or the real operator, would."""
from __future__ import annotations

import asyncio
import re

import httpx
import websockets

from tests.bot.gateway.conftest import OPERATORS, Gateway, fake_rasa, gateway, send, start_gateway  # noqa: F401


def client_from(base_url: str, address: str = "127.0.0.1") -> httpx.Client:
    """A browser stand-in whose connections come from `address` (every 127.x.y.z is this machine)."""
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def log_in(client: httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    """Open the login page and submit the form like login.js does; the response says how it went."""
    token = csrf_of(client.get("/console").text)
    return client.post("/console/login", json={"username": name, "password": password or OPERATORS[name]},
                       headers={"X-CSRF-Token": token})


def logged_in(base_url: str, name: str, address: str = "127.0.0.1") -> tuple[httpx.Client, str]:
    """A client logged in as `name`, and the CSRF token its console page carries."""
    client = client_from(base_url, address)
    response = log_in(client, name)
    assert response.status_code == 200, response.text
    return client, csrf_of(client.get("/console").text)


def session_cookie(client: httpx.Client) -> str:
    """A `Cookie` header that replays `client`'s console session from anywhere."""
    return f"gw_session={client.cookies['gw_session']}"


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The Set-Cookie headers of `response` by cookie name, attributes included, as sent."""
    return {header.split("=", 1)[0].strip(): header for header in response.headers.get_list("set-cookie")}


def console_socket(gateway: Gateway, cookie: str):
    return websockets.connect(gateway.url.replace("http", "ws") + "/ws/console",
                              extra_headers={"Cookie": cookie}, origin=gateway.url)


async def console_socket_state(gateway: Gateway, cookie: str) -> str:
    """'open' when /ws/console accepts `cookie` and pushes the queue, else 'refused'."""
    try:
        async with console_socket(gateway, cookie) as ws:
            await asyncio.wait_for(ws.recv(), 5)
            return "open"
    except websockets.exceptions.InvalidStatusCode:
        return "refused"
