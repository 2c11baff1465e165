"""Finding 3: the channel API (`/api/v1/channel/...`) is for the project's own voice adapters.

Every request needs `Authorization: Bearer <GATEWAY_CHANNEL_TOKEN>`, compared in constant time;
without it (or with it wrong, or with the gateway's token unset) the answer is 401
`{"error": {"code": "unauthorized", "message"}}`, nothing is read and nothing is stored. The public
widget and the console never need the token.
"""
from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets

from tests.bot.gateway.conftest import CHANNEL_HEADERS, CHANNEL_TOKEN, Gateway, login, poll, send
from tests.support.aio import run as run_async

PHONE = "13812345678"
WRONG = [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {CHANNEL_TOKEN}x"},
    {"Authorization": f"Bearer {CHANNEL_TOKEN[:-1]}"},
    {"Authorization": f"Basic {CHANNEL_TOKEN}"},
    {"Authorization": CHANNEL_TOKEN},
    {"Authorization": "Bearer "},
]


def channel_url(gateway: Gateway) -> str:
    return f"{gateway.url}/api/v1/channel/messages"


def assert_unauthorized(response: requests.Response) -> str:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "unauthorized" and error["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    return error["message"]


def console_view(gateway: Gateway, sender: str) -> requests.Response:
    session, _ = login(gateway.url, "alice")
    return session.get(f"{gateway.url}/api/v1/console/conversations/{sender}")


@pytest.mark.parametrize("headers", WRONG, ids=["none", "wrong", "longer", "shorter", "basic", "no-scheme", "empty"])
def test_without_the_right_token_no_transcript_is_read(gateway: Gateway, headers: dict) -> None:
    send(gateway.url, "call-sec-read", "你好", channel="voice", phone=PHONE).raise_for_status()
    response = requests.get(channel_url(gateway), params={"sender": "call-sec-read", "after": 0}, headers=headers)
    assert_unauthorized(response)
    assert PHONE not in response.text and "你好" not in response.text and "messages" not in response.json()
    # With the token the same request reads the transcript.
    assert [m["text"] for m in poll(gateway.url, sender="call-sec-read").json()["messages"]][:1] == ["你好"]


@pytest.mark.parametrize("headers", WRONG, ids=["none", "wrong", "longer", "shorter", "basic", "no-scheme", "empty"])
def test_without_the_right_token_nothing_is_written(gateway: Gateway, headers: dict) -> None:
    sender = "call-sec-write"
    send(gateway.url, sender, "你好", channel="voice", phone=PHONE).raise_for_status()
    before = poll(gateway.url, sender=sender).json()["messages"]

    # Into an existing conversation, with a new phone number: refused, nothing changes.
    body = {"sender": sender, "message": "我要转人工", "metadata": {"channel": "voice", "phone": "13900000000"}}
    assert_unauthorized(requests.post(channel_url(gateway), json=body, headers=headers))
    assert poll(gateway.url, sender=sender).json()["messages"] == before
    conversation = console_view(gateway, sender).json()["conversation"]
    assert conversation["phone"] == PHONE and conversation["state"] == "bot"

    # A new conversation: refused, none is created.
    new = {"sender": "call-sec-new", "message": "你好", "metadata": {"phone": PHONE}}
    assert_unauthorized(requests.post(channel_url(gateway), json=new, headers=headers))
    assert poll(gateway.url, sender="call-sec-new").json() == {"state": "bot", "messages": []}
    assert console_view(gateway, "call-sec-new").status_code == 404


def test_the_token_is_checked_before_the_request_is_read(gateway: Gateway) -> None:
    """Malformed requests without the token are 401 too, not a validation error telling what to fix."""
    url = channel_url(gateway)
    assert_unauthorized(requests.post(url, data="{not json", headers={"Content-Type": "application/json"}))
    assert_unauthorized(requests.post(url, data="sender=x&message=y",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert_unauthorized(requests.post(url, json={"sender": "<script>", "message": "hi"}))
    assert_unauthorized(requests.get(url, params={"sender": "<script>", "after": "x"}))
    assert_unauthorized(requests.get(url))
    # The long poll does not wait for anyone without the token.
    response = requests.get(url, params={"sender": "call-sec-wait", "wait": 30}, timeout=5)
    assert_unauthorized(response)
    # With the token (the scheme's case does not matter) the same kind of request is served.
    body = {"sender": "call-sec-case", "message": "你好", "metadata": {}}
    headers = {"Authorization": f"bearer {CHANNEL_TOKEN}"}
    assert requests.post(url, json=body, headers=headers).json()["messages"][0]["text"] == "收到：你好"


def test_with_the_token_unset_the_channel_refuses_everything_and_says_what_to_set(start_gateway) -> None:
    gateway = start_gateway(GATEWAY_CHANNEL_TOKEN="")
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}, CHANNEL_HEADERS):
        message = assert_unauthorized(requests.post(channel_url(gateway), headers=headers,
                                                    json={"sender": "call-unset", "message": "你好"}))
        assert "GATEWAY_CHANNEL_TOKEN" in message
        assert_unauthorized(requests.get(channel_url(gateway), params={"sender": "call-unset"}, headers=headers))
    assert console_view(gateway, "call-unset").status_code == 404

    async def audio() -> tuple[dict, int | None]:
        url = f"{gateway.url.replace('http', 'ws')}/ws/audio"
        async with websockets.connect(url, extra_headers={"Authorization": "Bearer "}) as ws:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.wait_closed()
            return frame, ws.close_code

    frame, code = run_async(audio())
    assert frame["error"]["code"] == "unauthorized" and "GATEWAY_CHANNEL_TOKEN" in frame["error"]["message"]
    assert code == 4401
    assert "GATEWAY_CHANNEL_TOKEN is not set" in gateway.log.read_text(encoding="utf-8")

    # The public widget and the console never need the token, set or not.
    async def widget() -> dict:
        url = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender=web-sec-0123456789"
        async with websockets.connect(url) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({"type": "message", "text": "你好"}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["type"] == "message" and frame["message"]["role"] == "bot":
                    return {"hello": hello, "reply": frame["message"]}

    got = run_async(widget())
    assert got["hello"]["type"] == "hello" and got["reply"]["text"] == "收到：你好"
    assert requests.get(f"{gateway.url}/").ok and requests.get(f"{gateway.url}/widget.js").ok
    session, _ = login(gateway.url, "alice")
    assert session.get(f"{gateway.url}/api/v1/console/queue").ok


def test_the_channel_token_neither_reads_nor_speaks_in_a_widget_chat(gateway: Gateway) -> None:
    """A widget chat holds a web user's transcript (query codes too) and the proof it gathered: the
    voice adapters' token is no key to it."""
    from bot.gateway.chat_ws import web_conversation_id

    access_key = "web-0123456789abcdef-widget-secret"
    conversation = web_conversation_id(access_key)

    async def chat() -> None:
        async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={access_key}") as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "查询码是361510"}))
            while json.loads(await ws.recv()).get("type") != "message":
                pass

    run_async(chat())
    read = poll(gateway.url, sender=conversation, after=0)
    assert read.status_code == 403 and "361510" not in read.text
    spoken = send(gateway.url, conversation, "对，确认撤销", channel="web")
    assert spoken.status_code == 403
    seen = console_view(gateway, conversation).json()["messages"]
    assert [m["text"] for m in seen if m["role"] == "user"] == ["查询码是******"]  # nothing was said in its name
