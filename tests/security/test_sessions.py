"""Finding 7b: logout did not end the session, the signed cookie stayed valid for 12 hours. Sessions
now live in the gateway's database; the cookie carries only their random id, and a session ends at
logout, after idle time, when its operator is removed, and never comes back."""
from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from typing import Callable

import httpx
import pytest
import websockets

from tests.security.conftest import (Gateway, client_from, console_socket, console_socket_state, log_in, logged_in,
                                     session_cookie)
from tests.support.aio import run


def replay(gateway: Gateway, cookie: str, path: str = "/api/v1/console/queue") -> httpx.Response:
    """A request with a stolen or kept session cookie, from a client that has no other state."""
    return httpx.get(f"{gateway.url}{path}", headers={"Cookie": cookie}, timeout=10)


def test_logout_makes_the_old_cookie_useless_for_http_routes_and_the_console_socket(gateway: Gateway) -> None:
    alice, csrf = logged_in(gateway.url, "alice")
    cookie = session_cookie(alice)
    assert replay(gateway, cookie).status_code == 200
    assert alice.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200

    assert replay(gateway, cookie).status_code == 401
    assert 'data-testid="login-user"' in replay(gateway, cookie, "/console").text
    assert run(console_socket_state(gateway, cookie)) == "refused"
    again = httpx.post(f"{gateway.url}/console/logout", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert again.status_code == 401


def test_an_open_console_socket_is_closed_when_its_session_is_logged_out(gateway: Gateway) -> None:
    alice, csrf = logged_in(gateway.url, "alice")

    async def scenario() -> int:
        async with console_socket(gateway, session_cookie(alice)) as ws:
            assert "queue" in await asyncio.wait_for(ws.recv(), 5)
            logout = await asyncio.to_thread(alice.post, "/console/logout", headers={"X-CSRF-Token": csrf})
            assert logout.status_code == 200
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code if closed.value.rcvd else 0

    assert run(scenario()) == 4401


def test_a_session_ends_after_idle_time_and_activity_keeps_it_going(start_gateway: Callable[..., Gateway]) -> None:
    gateway = start_gateway(GATEWAY_SESSION_IDLE_MINUTES="0.05")  # three seconds
    alice, _ = logged_in(gateway.url, "alice")
    cookie = session_cookie(alice)
    for _ in range(5):  # busy for longer than the idle time
        time.sleep(1)
        assert alice.get("/api/v1/console/queue").status_code == 200
    time.sleep(4)
    assert alice.get("/api/v1/console/queue").status_code == 401
    assert run(console_socket_state(gateway, cookie)) == "refused"
    # Gone for good: an idle session does not come back to life.
    assert alice.get("/api/v1/console/queue").status_code == 401


def test_an_unattended_console_is_closed_when_its_session_idles_out(start_gateway: Callable[..., Gateway]) -> None:
    gateway = start_gateway(GATEWAY_SESSION_IDLE_MINUTES="0.05")
    alice, _ = logged_in(gateway.url, "alice")

    async def scenario() -> tuple[int, float]:
        async with console_socket(gateway, session_cookie(alice)) as ws:
            opened = time.monotonic()
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:  # pushed events are not the operator's activity
                    await asyncio.wait_for(ws.recv(), 15)
            return (closed.value.rcvd.code if closed.value.rcvd else 0), time.monotonic() - opened

    code, after = run(scenario())
    assert code == 4401 and after < 10


def test_sessions_live_in_the_database_and_survive_a_restart_without_a_configured_secret(
        start_gateway: Callable[..., Gateway]) -> None:
    gateway = start_gateway(GATEWAY_SECRET="")  # a random signing key per start
    alice, _ = logged_in(gateway.url, "alice")
    cookie_value = alice.cookies["gw_session"]
    gateway.stop()
    gateway.start()
    assert replay(gateway, session_cookie(alice)).status_code == 200
    with sqlite3.connect(gateway.db) as db:
        rows = db.execute("SELECT account, kind FROM sessions").fetchall()
        assert rows == [("alice", "operator")]
    assert cookie_value.encode() not in gateway.db.read_bytes()  # only a hash of the id is kept


def test_the_cookie_is_an_opaque_random_id_that_tells_nothing(gateway: Gateway) -> None:
    values = {logged_in(gateway.url, "alice")[0].cookies["gw_session"] for _ in range(2)}
    assert len(values) == 2
    for value in values:
        assert len(value) >= 32
        for part in value.split("."):
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            assert b"alice" not in decoded and b"csrf" not in decoded


def test_removing_an_operator_ends_their_sessions_for_good(start_gateway: Callable[..., Gateway]) -> None:
    gateway = start_gateway()
    alice, _ = logged_in(gateway.url, "alice")
    bob, _ = logged_in(gateway.url, "bob")
    everyone = gateway.env["GATEWAY_OPERATORS"]
    gateway.stop()
    gateway.env["GATEWAY_OPERATORS"] = "bob:bob-pass-2"
    gateway.start()
    assert replay(gateway, session_cookie(alice)).status_code == 401
    assert replay(gateway, session_cookie(bob)).status_code == 200
    gateway.stop()
    gateway.env["GATEWAY_OPERATORS"] = everyone  # alice is back, her old session is not
    gateway.start()
    assert replay(gateway, session_cookie(alice)).status_code == 401
    assert replay(gateway, session_cookie(bob)).status_code == 200


def test_changing_a_password_ends_the_sessions_begun_with_the_old_one(start_gateway: Callable[..., Gateway]) -> None:
    """A leaked password is changed: whoever logged in with it loses the session at the next start,
    while everybody else (and the same password after a plain restart) keeps theirs."""
    gateway = start_gateway()
    alice, _ = logged_in(gateway.url, "alice")
    bob, _ = logged_in(gateway.url, "bob")
    gateway.stop()
    gateway.start()  # nothing changed: a restart ends no session
    assert replay(gateway, session_cookie(alice)).status_code == 200
    gateway.stop()
    gateway.env["GATEWAY_OPERATORS"] = "alice:alice-new-pass-9,bob:bob-pass-2"
    gateway.start()
    assert replay(gateway, session_cookie(alice)).status_code == 401
    assert replay(gateway, session_cookie(bob)).status_code == 200
    again = client_from(gateway.url, "127.0.0.1")
    assert log_in(again, "alice", "alice-new-pass-9").status_code == 200
    assert again.get("/api/v1/console/queue").status_code == 200
    with sqlite3.connect(gateway.db) as db:  # what is remembered of a password is no hash to guess against
        stamps = [stamp for (stamp,) in db.execute("SELECT stamp FROM account_credentials")]
    assert len(stamps) == 2 and not any(stamp.startswith("$2") for stamp in stamps)
