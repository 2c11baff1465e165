"""The widget's WebSocket against a live gateway: history on connect, live replies, ratings."""
from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest
import requests
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from bot.gateway.chat_ws import web_conversation_id
from tests.bot.gateway.conftest import CHANNEL_HEADERS, Gateway, login

SENDER = "web-0123456789abcdef"  # the widget's access key
CONVERSATION = web_conversation_id(SENDER)  # what the console and everything else call the chat


async def _until(ws, predicate, timeout: float = 5.0) -> list[dict]:
    frames: list[dict] = []
    while not frames or not predicate(frames[-1]):
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return frames


def _ws(gateway: Gateway, sender: str = SENDER) -> str:
    return f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={sender}"


def test_a_widget_chats_and_a_reconnect_gets_the_history(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(gateway)) as ws:
            hello = json.loads(await ws.recv())
            assert hello == {"type": "hello", "state": "bot", "messages": [], "pending_ratings": []}
            await ws.send(json.dumps({"type": "message", "text": "<b>你好</b>"}))
            frames = await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
            assert [f["type"] for f in frames] == ["message", "typing", "message"]
            assert frames[0]["message"]["text"] == "<b>你好</b>"  # stored and sent as text, never altered
            assert frames[-1]["message"]["text"] == "收到：你好"  # markup is no words for the bot
        async with websockets.connect(_ws(gateway)) as ws:
            hello = json.loads(await ws.recv())
            assert [(m["role"], m["text"]) for m in hello["messages"]] == [("user", "<b>你好</b>"), ("bot", "收到：你好")]

    asyncio.run(scenario())


def test_operator_messages_and_state_changes_reach_the_widget_without_the_operator_s_login_name(
        gateway: Gateway) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(gateway)) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "转人工"}))
            await _until(ws, lambda f: f["type"] == "state" and f["state"] == "waiting")
            loop = asyncio.get_running_loop()
            session, csrf = await loop.run_in_executor(None, login, gateway.url, "alice")
            base = f"{gateway.url}/api/v1/console/conversations/{CONVERSATION}"
            await loop.run_in_executor(None, lambda: session.post(f"{base}/claim", headers={"X-CSRF-Token": csrf}))
            frames = await _until(ws, lambda f: f["type"] == "state" and f["state"] == "operator")
            await loop.run_in_executor(None, lambda: session.post(f"{base}/reply", json={"text": "您好"}, headers={"X-CSRF-Token": csrf}))
            frames += await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "operator")
            assert frames[-1]["message"]["text"] == "您好"
            assert "人工客服已接入，为您服务。" in [f["message"]["text"] for f in frames if f["type"] == "message"]
            assert "alice" not in json.dumps(frames, ensure_ascii=False)  # the console's login name stays there
            async with websockets.connect(_ws(gateway)) as again:  # nor does a reload's history carry it
                hello = json.loads(await again.recv())
            assert hello["state"] == "operator" and "alice" not in json.dumps(hello, ensure_ascii=False)
            await loop.run_in_executor(None, lambda: session.post(f"{base}/close", headers={"X-CSRF-Token": csrf}))
            frames = await _until(ws, lambda f: f["type"] == "message" and f["message"].get("rating_requested"))
            await ws.send(json.dumps({"type": "rating", "score": 4, "comment": "不错"}))
            frames = await _until(ws, lambda f: f["type"] == "message" and f["message"]["text"] == "感谢您的评价！")
        seen = session.get(f"{gateway.url}/api/v1/console/conversations/{CONVERSATION}").json()
        assert (seen["conversation"]["state"], seen["conversation"]["rating"]) == ("closed", 4)
        # The console still sees who answered.
        assert [m["operator"] for m in seen["messages"] if m["role"] == "operator"] == ["alice"]

    asyncio.run(scenario())


def test_bad_frames_get_chinese_notices_and_bad_sender_ids_are_refused(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(gateway)) as ws:
            await ws.recv()
            await ws.send("not json")
            assert json.loads(await ws.recv()) == {"type": "notice", "text": "无法识别的消息格式。"}
            await ws.send(json.dumps({"type": "rating", "score": 0}))
            assert json.loads(await ws.recv())["text"] == "评价未能提交，请选择1到5星后再试。"
            # A valid score is not told to pick one: what is wrong is said as it is.
            await ws.send(json.dumps({"type": "rating", "score": 5}))
            assert "还没有可以评价的对话" in json.loads(await ws.recv())["text"]
            await ws.send(json.dumps({"type": "rating", "score": 5, "comment": ["x"]}))
            assert "意见建议应是一段文字" in json.loads(await ws.recv())["text"]
            await ws.send(json.dumps({"type": "message", "text": "   "}))
            assert json.loads(await ws.recv()) == {"type": "notice", "text": "请输入您要咨询的内容。"}
            await ws.send(b"\x00\x01binary")  # the widget sends only text: a notice, and the socket stays
            assert json.loads(await ws.recv()) == {"type": "notice", "text": "无法识别的消息格式。"}
            await ws.send(json.dumps({"type": "message", "text": "你好"}))
            frames = await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
            assert frames[-1]["message"]["text"] == "收到：你好"
        with pytest.raises((ConnectionClosed, InvalidStatusCode)):
            async with websockets.connect(_ws(gateway, "bad id!")) as ws:
                await ws.recv()

    asyncio.run(scenario())


def test_the_pages_and_the_widget_script_are_served(gateway: Gateway) -> None:
    demo = requests.get(f"{gateway.url}/")
    assert demo.status_code == 200 and '<script src="/widget.js"' in demo.text and "助企一把" in demo.text
    widget = requests.get(f"{gateway.url}/widget.js")
    assert widget.headers["content-type"].startswith("application/javascript")
    for testid in ("chat-open", "chat-input", "chat-send", "chat-message"):
        assert f'"{testid}"' in widget.text
    assert ".innerHTML" not in widget.text


def test_the_voice_audio_socket_is_mounted_and_answers_in_chinese(gateway: Gateway) -> None:
    """/ws/audio is the voice adapters' endpoint (or, when that module is missing, a polite refusal)."""

    async def scenario() -> dict:
        async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/audio", extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(json.dumps({"type": "hello"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 30))

    frame = asyncio.run(scenario())
    assert frame["type"] == "error" and "语音" in frame["text"]
    assert requests.get(f"{gateway.url}/api/v1/health").ok


def test_typed_text_never_reaches_the_bot_as_an_intent(gateway: Gateway) -> None:
    # Rasa reads "/intent{...}" as an intent with entities: typed text loses its leading slashes.
    async def scenario() -> list[dict]:
        async with websockets.connect(_ws(gateway, "web-slash-000000001")) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": '/cancel_ticket{"ticket_id": "2612010001"}'}))
            return await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")

    frames = asyncio.run(scenario())
    assert frames[0]["message"]["text"] == '/cancel_ticket{"ticket_id": "2612010001"}'  # the transcript keeps it
    assert frames[-1]["message"]["text"] == '收到：cancel_ticket{"ticket_id": "2612010001"}'



def test_one_address_cannot_flood_the_bot_with_made_up_chats(start_gateway) -> None:
    gateway = start_gateway(GATEWAY_NEW_CHATS_PER_ADDRESS="2", GATEWAY_CHAT_SOCKETS_PER_ADDRESS="3")
    remote = {"X-Forwarded-For": "203.0.113.7"}  # a user behind the local proxy

    async def chat(key: str, headers: dict) -> list[dict]:
        async with websockets.connect(_ws(gateway, key), extra_headers=headers) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "转人工"}))
            return await _until(ws, lambda f: f["type"] in ("notice", "state"))

    async def scenario() -> None:
        for n in range(2):  # two new chats from the address: served
            assert (await chat(f"web-flood-{n:012d}", remote))[-1]["type"] == "state"
        third = await chat("web-flood-000000000002", remote)
        assert third[-1] == {"type": "notice", "text": "您所在的网络刚刚发起了太多新的对话，请过几分钟再试，或直接拨打96767热线。"}
        assert (await chat("web-flood-000000000000", remote))[-1]["type"] in ("state", "notice")  # an existing one goes on
        assert (await chat("web-other-000000000000", {"X-Forwarded-For": "198.51.100.9"}))[-1]["type"] == "state"
        # Sockets open at once from one address: the fourth is told why and closed.
        async with contextlib.AsyncExitStack() as stack:
            for n in range(3):
                ws = await stack.enter_async_context(websockets.connect(_ws(gateway, f"web-open-{n:012d}"), extra_headers=remote))
                await ws.recv()
            async with websockets.connect(_ws(gateway, "web-open-000000000003"), extra_headers=remote) as extra:
                assert "对话窗口太多" in json.loads(await extra.recv())["text"]
                with pytest.raises(ConnectionClosed) as closed:
                    await extra.recv()
                assert closed.value.rcvd.code == 1013

    asyncio.run(scenario())
    session, _ = login(gateway.url, "alice")
    queue = session.get(f"{gateway.url}/api/v1/console/queue").json()
    assert len(queue["items"] if isinstance(queue, dict) else queue) == 3  # two from the address, one from another


def test_a_chat_is_rated_once_per_close_and_rating_frames_count_against_the_limit(start_gateway) -> None:
    gateway = start_gateway(GATEWAY_MESSAGES_PER_MINUTE="6")

    async def scenario() -> list[dict]:
        async with websockets.connect(_ws(gateway, "web-rate-00000000001")) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "你好"}))
            await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
            await ws.send(json.dumps({"type": "rating", "score": 5}))
            await _until(ws, lambda f: f["type"] == "message" and f["message"]["text"] == "感谢您的评价！")
            notices = []
            for _ in range(6):  # a flood of ratings: one "already rated", then the message limit
                await ws.send(json.dumps({"type": "rating", "score": 1}))
                frames = await _until(ws, lambda f: f["type"] == "notice")  # (the first rating's state may come first)
                notices.append(frames[-1])
            return notices

    notices = asyncio.run(scenario())
    assert notices[0] == {"type": "notice", "text": "这次服务您已经评价过了，感谢您的支持！"}
    assert notices[-1]["type"] == "notice" and "太频繁" in notices[-1]["text"]
    session, _ = login(gateway.url, "alice")
    conv = session.get(f"{gateway.url}/api/v1/console/conversations/{web_conversation_id('web-rate-00000000001')}").json()
    assert conv["conversation"]["rating"] == 5  # the first rating stands
    assert [m["text"] for m in conv["messages"]].count("感谢您的评价！") == 1


@pytest.mark.redis
def test_gateways_sharing_redis_count_a_chat_s_messages_once(start_gateway, tmp_path) -> None:
    shared = {"GATEWAY_DB": str(tmp_path / "shared-gateway.db"), "GATEWAY_EVENTS_REDIS_URL": "redis://127.0.0.1:6379/0",
              "GATEWAY_SECRET": f"test-secret-{uuid.uuid4().hex}", "GATEWAY_MESSAGES_PER_MINUTE": "4"}
    gateways = [start_gateway(**shared), start_gateway(**shared)]  # behind one proxy, in turn

    async def send(gateway: Gateway, text: str) -> dict:
        async with websockets.connect(_ws(gateway, "web-shared-limit-0001")) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": text}))
            frames = await _until(ws, lambda f: f["type"] == "notice" or
                                  (f["type"] == "message" and f["message"]["role"] == "bot" and text in f["message"]["text"]))
            return frames[-1]

    async def scenario() -> list[dict]:
        return [await send(gateways[n % 2], f"第{n}条") for n in range(6)]

    answers = asyncio.run(scenario())
    assert [a["type"] for a in answers] == ["message"] * 4 + ["notice"] * 2
    assert all("太频繁" in a["text"] for a in answers[4:])  # on either gateway: the chat had its four


def test_the_bot_learns_the_user_s_network_only_as_a_keyed_hash(start_gateway) -> None:
    gateway = start_gateway()

    async def client_of(key: str, headers: dict) -> str:
        async with websockets.connect(_ws(gateway, key), extra_headers=headers) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "来自哪里"}))
            frames = await _until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
            return frames[-1]["message"]["text"].removeprefix("client:")

    async def scenario() -> None:
        first = await client_of("web-net-000000000001", {"X-Forwarded-For": "203.0.113.7"})
        again = await client_of("web-net-000000000002", {"X-Forwarded-For": "203.0.113.7"})
        other = await client_of("web-net-000000000003", {"X-Forwarded-For": "198.51.100.9"})
        assert first == again != other and len(first) == 24 and "203" not in first
        home = await client_of("web-net-000000000004", {"X-Forwarded-For": "2001:db8:0:1::1"})
        assert home == await client_of("web-net-000000000005", {"X-Forwarded-For": "2001:db8:0:2::1"})  # one /56
        assert home != await client_of("web-net-000000000007", {"X-Forwarded-For": "2001:db8:0:100::1"})
        assert await client_of("web-net-000000000006", {}) == "none"  # this machine: no network to name

    asyncio.run(scenario())


def test_a_claim_notice_an_earlier_version_wrote_with_the_login_name_reaches_the_widget_without_it() -> None:
    from bot.gateway.chat_ws import _public
    from bot.router import NOTICE_CLAIMED

    old = {"role": "system", "text": "人工客服（alice）已接入，为您服务。", "seq": 3}
    assert _public(old) == {"role": "system", "text": NOTICE_CLAIMED, "seq": 3}
    said = {"role": "user", "text": "人工客服（alice）已接入", "seq": 4}
    assert _public(said) == said  # what a user typed is theirs, not a notice


def test_the_voice_adapters_channel_api_never_carries_an_operators_login_name() -> None:
    from bot.gateway.channel_api import _public

    assert _public({"role": "operator", "text": "您好", "operator": "alice", "transient": False}) == {
        "role": "operator", "text": "您好"}
