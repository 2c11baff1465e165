"""Console login, sessions and CSRF against a live gateway."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
import requests
import websockets
from websockets.exceptions import InvalidStatusCode

from tests.bot.gateway.conftest import Gateway, _csrf, login, send
from tests.support.aio import run


def test_the_console_shows_a_login_form_and_its_api_needs_a_login(gateway: Gateway) -> None:
    page = requests.get(f"{gateway.url}/console")
    assert page.status_code == 200
    for testid in ("login-user", "login-password", "login-submit"):
        assert f'data-testid="{testid}"' in page.text
    assert "queue-item" not in page.text and "ticket-panel" not in page.text
    assert requests.get(f"{gateway.url}/api/v1/console/queue").status_code == 401
    assert requests.get(f"{gateway.url}/api/v1/console/stats").status_code == 401
    stats_page = requests.get(f"{gateway.url}/console/stats", allow_redirects=False)
    assert stats_page.status_code == 303 and stats_page.headers["location"] == "/console"


def test_a_stranger_is_told_to_log_in_whatever_is_wrong_with_the_request(gateway: Gateway) -> None:
    """FastAPI validates a body before the route asks for the login: a stranger must learn nothing of
    what the API expects, only that it needs a login."""
    for path in ("/api/v1/console/conversations/x/reply", "/api/v1/console/tickets",
                 "/api/v1/department/tickets/2612010001/resolve", "/api/v1/department/tickets/2612010001/extension"):
        for body in ({"json": {}}, {"data": "not json", "headers": {"Content-Type": "application/json"}},
                     {"json": {"text": 5}}):
            refused = requests.post(f"{gateway.url}{path}", **body)
            assert (refused.status_code, refused.json()) == (401, {"detail": "请先登录"}), (path, body)


def test_a_logged_in_operator_is_told_in_chinese_what_is_wrong_with_a_request(gateway: Gateway) -> None:
    send(gateway.url, "web-422-1", "转人工")
    session, csrf = login(gateway.url, "alice")
    headers = {"X-CSRF-Token": csrf, "Origin": gateway.url}
    response = session.post(f"{gateway.url}/api/v1/console/conversations/web-422-1/reply", json={"text": "长" * 2001},
                            headers=headers)
    assert response.status_code == 422 and response.json()["detail"] == "请求格式不正确"
    assert [e["msg"] for e in response.json()["errors"]] == ["内容过长，最多 2000 个字"]


def test_wrong_password_and_missing_login_token_are_refused(gateway: Gateway) -> None:
    with pytest.raises(requests.HTTPError) as wrong:
        login(gateway.url, "alice", "not-her-password")
    assert wrong.value.response.status_code == 401 and wrong.value.response.json()["detail"] == "用户名或密码错误"
    with pytest.raises(requests.HTTPError):
        login(gateway.url, "mallory", "whatever")
    # A cross-site page cannot read our login token, so it cannot log a victim in to its account.
    forged = requests.post(f"{gateway.url}/console/login", json={"username": "alice", "password": "alice-pass-1"})
    assert forged.status_code == 403


def test_the_session_cookie_is_http_only_and_same_site(gateway: Gateway) -> None:
    session, _ = login(gateway.url, "alice")
    cookie = next(c for c in session.cookies if c.name == "gw_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "strict"
    assert "alice-pass-1" not in cookie.value


def test_state_changes_need_the_csrf_token_and_our_origin(gateway: Gateway) -> None:
    send(gateway.url, "web-csrf-1", "转人工")
    session, csrf = login(gateway.url, "alice")
    claim = f"{gateway.url}/api/v1/console/conversations/web-csrf-1/claim"
    assert session.post(claim).status_code == 403
    assert session.post(claim, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert session.post(claim, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}).status_code == 403
    assert session.get(f"{gateway.url}/api/v1/console/conversations/web-csrf-1").json()["conversation"]["state"] == "waiting"
    assert session.post(claim, headers={"X-CSRF-Token": csrf, "Origin": gateway.url}).status_code == 200


def test_only_one_operator_can_own_a_conversation(gateway: Gateway) -> None:
    send(gateway.url, "web-owner-1", "转人工")
    alice, alice_csrf = login(gateway.url, "alice")
    bob, bob_csrf = login(gateway.url, "bob")
    base = f"{gateway.url}/api/v1/console/conversations/web-owner-1"
    assert alice.post(f"{base}/claim", headers={"X-CSRF-Token": alice_csrf}).json()["operator"] == "alice"
    taken = bob.post(f"{base}/claim", headers={"X-CSRF-Token": bob_csrf})
    assert taken.status_code == 409 and "alice" in taken.json()["detail"]
    assert bob.post(f"{base}/reply", json={"text": "我来"}, headers={"X-CSRF-Token": bob_csrf}).status_code == 409
    assert bob.post(f"{base}/handback", headers={"X-CSRF-Token": bob_csrf}).status_code == 409
    assert alice.post(f"{base}/close", headers={"X-CSRF-Token": alice_csrf}).json()["state"] == "closed"
    assert bob.get(f"{gateway.url}/api/v1/console/queue").json()["items"] == []


def test_logout_ends_the_session(gateway: Gateway) -> None:
    session, csrf = login(gateway.url, "alice")
    assert session.post(f"{gateway.url}/console/logout", headers={"X-CSRF-Token": csrf}).ok
    assert session.get(f"{gateway.url}/api/v1/console/queue").status_code == 401


def test_the_console_socket_needs_a_login_and_pushes_the_queue(gateway: Gateway) -> None:
    ws_url = gateway.url.replace("http", "ws") + "/ws/console"

    async def scenario() -> None:
        with pytest.raises(InvalidStatusCode):
            async with websockets.connect(ws_url):
                pass
        session, _ = login(gateway.url, "alice")
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies if c.name == "gw_session")
        async with websockets.connect(ws_url, extra_headers={"Cookie": cookie}, origin=gateway.url) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first == {"type": "queue", "items": []}
            await asyncio.get_running_loop().run_in_executor(None, send, gateway.url, "web-live-1", "转人工")
            events = []
            while not any(e["type"] == "conversation" and e["conversation"]["state"] == "waiting" for e in events):
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            assert any(e["type"] == "message" and e["message"]["text"] == "转人工" for e in events)

    run(scenario())


def test_a_session_ends_after_its_absolute_lifetime_however_busy(start_gateway) -> None:
    gateway = start_gateway(GATEWAY_SESSION_HOURS="0.001")  # 3.6 seconds
    session, _ = login(gateway.url, "alice")
    # Sent by hand: the browser would drop the cookie itself at its Max-Age; the server must too.
    cookie = {"Cookie": f"gw_session={session.cookies['gw_session']}"}
    queue = f"{gateway.url}/api/v1/console/queue"
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert requests.get(queue, headers=cookie).status_code == 200
        time.sleep(0.5)
    time.sleep(1.5)
    assert requests.get(queue, headers=cookie).status_code == 401


# Login throttling, logout, idle time and the Secure flag: tests/security/.


def test_an_oversized_body_is_refused_before_it_is_read(gateway: Gateway) -> None:
    huge = '{"username": "' + "a" * (2 << 20) + '", "password": "x"}'
    for path in ("/console/login", "/department/login"):
        response = requests.post(f"{gateway.url}{path}", data=huge, headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.json()["code"] == "body_too_large", path
        assert response.json()["detail"].startswith("提交的内容过大")  # the gateway's shape, shown by its pages
    assert requests.get(f"{gateway.url}/api/v1/health").status_code == 200  # and the gateway is fine


def test_an_oversized_chunked_body_gets_the_same_structured_refusal(gateway: Gateway) -> None:
    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: counted while it streams
        yield b'{"username": "'
        for _ in range(200):
            yield b"a" * 1024
        yield b'", "password": "x"}'

    response = requests.post(f"{gateway.url}/console/login", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_a_body_that_is_not_json_gets_a_chinese_structured_answer(gateway: Gateway) -> None:
    nested = "[" * 5000 + "]" * 5000
    for body in (nested, "{not json", "\xff\xfe"):
        response = requests.post(f"{gateway.url}/console/login", data=body.encode("utf-8", "surrogatepass"),
                                 headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 422), body[:10]
        assert "请求格式不正确" in response.json()["detail"]
    missing = requests.get(f"{gateway.url}/no-such-page")
    assert missing.status_code == 404 and missing.json()["detail"] == "页面不存在"


def test_no_redirect_names_a_host_from_the_request(gateway: Gateway) -> None:
    response = requests.get(f"{gateway.url}/console/", headers={"Host": "evil.example"}, allow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/console"
    assert requests.get(f"{gateway.url}/console/").url == f"{gateway.url}/console"
    assert requests.get(f"{gateway.url}/openapi.json").status_code == 404  # no API documents on the public side



def test_odd_unicode_in_a_login_or_a_body_is_a_polite_refusal_not_a_server_error(gateway: Gateway) -> None:
    page = requests.Session()
    token = _csrf(page.get(f"{gateway.url}/console").text)
    body = '{"username": "alice", "password": "\\ud800"}'  # a lone surrogate, valid JSON
    response = page.post(f"{gateway.url}/console/login", data=body,
                         headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    assert response.status_code == 401, response.text  # a wrong password, not a server error
    invalid = requests.post(f"{gateway.url}/api/v1/console/tickets/1/review", data='{"decision": "\\ud800"}',
                            headers={"Content-Type": "application/json"})
    assert invalid.status_code in (401, 403, 422) and "\\ud800" not in invalid.text
    echoed = requests.post(f"{gateway.url}/api/v1/console/tickets/1/review", json={"decision": "secret-input-xyz"})
    assert "secret-input-xyz" not in echoed.text  # where and what was wrong, never the input itself


def test_a_csrf_token_that_is_not_ascii_is_a_refusal_not_a_server_error(gateway: Gateway) -> None:
    page = requests.Session()
    token = _csrf(page.get(f"{gateway.url}/console").text)
    for sent in (b"\xe9", "é".encode("utf-8")):  # a header is read as Latin-1
        login = page.post(f"{gateway.url}/console/login", json={"username": "alice", "password": "x"},
                          headers={"X-CSRF-Token": sent})
        assert login.status_code == 403, login.text
    assert token  # (the real token would have passed)
