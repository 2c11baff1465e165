"""The channel API (what the voice path uses) against a live gateway process."""
from __future__ import annotations

import threading
import time

import requests

from tests.bot.gateway.conftest import CHANNEL_HEADERS, Gateway, login, poll as channel_poll, send


def test_the_bot_answers_through_the_gateway(gateway: Gateway) -> None:
    body = send(gateway.url, "call-1", "你好", channel="voice", phone="13812345678").json()
    assert body["state"] == "bot"
    assert [(m["role"], m["text"]) for m in body["messages"]] == [("bot", "收到：你好")]
    assert isinstance(body["messages"][0]["seq"], int)


def test_quick_reply_buttons_and_custom_payloads_are_relayed(gateway: Gateway) -> None:
    [reply] = send(gateway.url, "call-2", "给我按钮").json()["messages"]
    assert [b["title"] for b in reply["buttons"]] == ["查询工单", "转人工"]


def test_an_operator_takes_over_a_phone_call_and_hands_it_back(gateway: Gateway) -> None:
    body = send(gateway.url, "call-3", "我要转人工", channel="voice", phone="13812345678").json()
    assert body["state"] == "waiting"
    assert body["messages"][-1]["role"] == "system"
    last_seq = body["messages"][-1]["seq"]

    # The caller's long poll waits for what the operator will write.
    polled: dict = {}

    def poll() -> None:
        polled.update(channel_poll(gateway.url, sender="call-3", after=last_seq, wait=20).json())

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    session, csrf = login(gateway.url, "alice")
    [item] = session.get(f"{gateway.url}/api/v1/console/queue").json()["items"]
    assert (item["id"], item["channel"], item["phone"]) == ("call-3", "voice", "13812345678")
    assert item["handoff_summary"] == "用户说：我要转人工"
    assert session.post(f"{gateway.url}/api/v1/console/conversations/call-3/claim", headers={"X-CSRF-Token": csrf}).ok
    started = time.monotonic()
    poller.join(25)
    assert time.monotonic() - started < 5, "the long poll should return as soon as something is written"
    assert polled["state"] == "operator"
    assert polled["messages"][0]["role"] == "system"

    reply = session.post(f"{gateway.url}/api/v1/console/conversations/call-3/reply", json={"text": "您好，我是人工客服"},
                         headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 200
    assert send(gateway.url, "call-3", "水还没来").json() == {"state": "operator", "messages": []}
    got = channel_poll(gateway.url, sender="call-3", after=last_seq).json()
    assert [(m["role"], m["text"]) for m in got["messages"][1:]] == [("operator", "您好，我是人工客服"), ("user", "水还没来")]

    assert session.post(f"{gateway.url}/api/v1/console/conversations/call-3/handback", headers={"X-CSRF-Token": csrf}).ok
    body = send(gateway.url, "call-3", "谢谢").json()
    assert body["state"] == "bot" and body["messages"][0]["text"] == "收到：谢谢"


def test_a_gateway_restart_loses_no_conversation(start_gateway) -> None:
    gateway = start_gateway()
    send(gateway.url, "web-restart-1", "转人工")
    gateway.kill()  # no clean shutdown
    gateway.start()
    session, _ = login(gateway.url, "bob")
    assert [i["id"] for i in session.get(f"{gateway.url}/api/v1/console/queue").json()["items"]] == ["web-restart-1"]
    history = session.get(f"{gateway.url}/api/v1/console/conversations/web-restart-1").json()["messages"]
    assert [m["role"] for m in history] == ["user", "bot", "system"]


def test_limits_give_clear_chinese_notices(start_gateway) -> None:
    gateway = start_gateway(GATEWAY_MAX_MESSAGE_CHARS="20", GATEWAY_MESSAGES_PER_MINUTE="3")
    [notice] = send(gateway.url, "web-limits", "长" * 21).json()["messages"]
    assert notice["role"] == "system" and "最多20个字" in notice["text"]
    for text in ("一", "二", "三"):
        assert send(gateway.url, "web-limits", text).json()["messages"][0]["role"] == "bot"
    [notice] = send(gateway.url, "web-limits", "四").json()["messages"]
    assert "太频繁" in notice["text"]


def test_bad_requests_get_structured_errors_not_crashes(gateway: Gateway) -> None:
    url = f"{gateway.url}/api/v1/channel/messages"
    form = {**CHANNEL_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
    assert requests.post(url, data="sender=x&message=y", headers=form).status_code in (415, 422)
    bad_sender = requests.post(url, json={"sender": "<script>", "message": "hi"}, headers=CHANNEL_HEADERS)
    assert bad_sender.status_code == 422 and bad_sender.json()["detail"]
    json_type = {**CHANNEL_HEADERS, "Content-Type": "application/json"}
    assert requests.post(url, data="{not json", headers=json_type).status_code == 422
    assert channel_poll(gateway.url, sender="nobody", after="x").status_code == 422
    assert channel_poll(gateway.url, sender="nobody").json() == {"state": "bot", "messages": []}


def test_phone_numbers_never_appear_in_full_in_the_log(gateway: Gateway) -> None:
    send(gateway.url, "call-log-1", "你好", channel="voice", phone="13812345678")
    session, _ = login(gateway.url, "alice")
    session.get(f"{gateway.url}/api/v1/console/tickets", params={"phone": "13812345678"})  # issue API is down: 502
    log = gateway.log.read_text(encoding="utf-8")
    assert "138****5678" in log
    assert "13812345678" not in log
