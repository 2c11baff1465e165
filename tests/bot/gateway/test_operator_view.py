"""Operators never read a query code: the console's transcript masks them, the user's own view does not."""
from __future__ import annotations

import asyncio
import json

import websockets

from bot.gateway.operator_view import LiveViews, masked_for_operator
from tests.bot.gateway.conftest import Gateway, login, poll, send


def _turns(*said: tuple[str, str]) -> list[dict]:
    return [{"seq": seq, "role": role, "text": text} for seq, (role, text) in enumerate(said, 1)]


def test_the_code_the_bot_told_and_every_later_mention_of_it_are_masked() -> None:
    shown = masked_for_operator(_turns(
        ("bot", "已经为您登记好了，工单编号是 2612 0200 01，查询码 361510，请记好。"),
        ("user", "好的 361510 记下了"),
        ("user", "我家门牌2501，电话13900001111"),
    ))
    assert [m["text"] for m in shown] == ["已经为您登记好了，工单编号是 2612 0200 01，查询码 ******，请记好。",
                                         "好的 ****** 记下了", "我家门牌2501，电话13900001111"]


def test_an_answer_to_the_bots_question_for_the_code_is_masked_and_other_numbers_are_kept() -> None:
    shown = masked_for_operator(_turns(
        ("user", "帮我查一下工单2612010006"),
        ("bot", "为了保护您的信息，请告诉我这件工单的查询码，登记时和工单编号一起告诉过您，是6位数字。"),
        ("user", "3615 10"),
        ("bot", "工单 2612 0100 06 已受理。"),
        ("user", "查询码是四七一五三四，另外门牌2501"),
        ("user", "1234"),
    ))
    assert [m["text"] for m in shown] == ["帮我查一下工单2612010006", shown[1]["text"], "******", "工单 2612 0100 06 已受理。",
                                         "查询码是******，另外门牌2501", "1234"]


def test_a_ticket_number_given_at_the_question_for_the_code_stays_readable_and_a_code_beside_it_does_not() -> None:
    asked = ("bot", "为了保护您的信息，请告诉我这件工单的查询码，登记时和工单编号一起告诉过您，是6位数字。")
    shown = masked_for_operator(_turns(
        asked, ("user", "不是这件，是工单 2612 0200 03"), ("user", "2612020003 361510"),
        asked, ("user", "3615 10，工单号2612 0200 03"), ("user", "13900001111 四七一五三四"),
    ))
    assert [m["text"] for m in shown[1:3]] == ["不是这件，是工单 2612 0200 03", "2612020003 ******"]
    assert [m["text"] for m in shown[4:]] == ["******，工单号2612 0200 03", "13900001111 ******"]


def test_a_live_console_reads_a_conversations_history_once_and_again_only_after_a_gap() -> None:
    stored = _turns(
        ("user", "帮我查一下工单2612010006"),
        ("bot", "为了保护您的信息，请告诉我这件工单的查询码，登记时和工单编号一起告诉过您，是6位数字。"),
        ("user", "361510"),
        ("bot", "已经为您登记好了，工单编号是 2612 0200 02，查询码 471534，请记好。"),
        ("user", "471534 记下了"),
        ("user", "门牌2501"),
    )
    reads: list[tuple[str, int]] = []

    def history(conversation_id: str, after: int) -> list[dict]:
        reads.append((conversation_id, after))
        return [m for m in stored if m["seq"] > after]

    views = LiveViews(history)
    assert views.shown("c1", stored[2])["text"] == "******"  # the answer to the question read before it
    assert views.shown("c1", stored[3])["text"].count("******") == 1
    assert views.shown("c1", stored[4])["text"] == "****** 记下了"
    assert reads == [("c1", 0)]
    assert views.shown("c1", stored[5])["text"] == "门牌2501" and reads == [("c1", 0)]
    views.shown("c2", {"seq": 1, "role": "user", "text": "你好"})
    assert reads == [("c1", 0)]  # a conversation's first message has nothing before it to read
    # A repeat, a late one or one without its place is read in the whole conversation, as the transcript.
    assert views.shown("c1", stored[2])["text"] == "******"
    assert views.shown("c1", {"role": "user", "text": "471534"})["text"] == "******"
    assert reads[1:] == [("c1", 0), ("c1", 0)]


def test_a_code_corrected_in_the_next_message_is_masked_too() -> None:
    shown = masked_for_operator(_turns(
        ("bot", "好的，请告诉我这件工单的查询码。"),
        ("user", "361519"),
        ("user", "打错了 361510"),
        ("bot", "工单 2612 0100 06 已受理。"),
        ("user", "门牌2501"),
    ))
    assert [m["text"] for m in shown][1:3] == ["******", "打错了 ******"] and shown[-1]["text"] == "门牌2501"


def test_the_console_transcript_masks_codes_that_the_users_own_history_keeps(gateway: Gateway) -> None:
    send(gateway.url, "web-code-1", "查询码是361510")
    send(gateway.url, "web-code-1", "转人工")
    session, _ = login(gateway.url, "alice")
    seen = session.get(f"{gateway.url}/api/v1/console/conversations/web-code-1").json()["messages"]
    assert not any("361510" in m["text"] for m in seen)
    assert any(m["text"] == "查询码是******" for m in seen if m["role"] == "user")
    own = poll(gateway.url, sender="web-code-1").json()["messages"]
    assert any(m["text"] == "查询码是361510" for m in own)


def test_the_live_console_masks_a_code_given_in_answer_to_a_question_asked_before_it_connected(
        gateway: Gateway) -> None:
    send(gateway.url, "web-code-live", "转人工")
    session, csrf = login(gateway.url, "alice")
    base = f"{gateway.url}/api/v1/console/conversations/web-code-live"
    assert session.post(f"{base}/claim", headers={"X-CSRF-Token": csrf}).ok
    asked = session.post(f"{base}/reply", json={"text": "请告诉我这件工单的查询码，登记时和工单编号一起告诉过您"},
                         headers={"X-CSRF-Token": csrf})
    assert asked.ok, asked.text
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies if c.name == "gw_session")
    ws_url = gateway.url.replace("http", "ws") + "/ws/console"

    async def scenario() -> list[str]:
        async with websockets.connect(ws_url, extra_headers={"Cookie": cookie}, origin=gateway.url) as ws:
            await asyncio.get_running_loop().run_in_executor(None, send, gateway.url, "web-code-live", "361510")
            await asyncio.get_running_loop().run_in_executor(None, send, gateway.url, "web-code-live", "好的 谢谢")
            texts: list[str] = []
            while len(texts) < 2:
                event = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if event["type"] == "message" and event["message"]["role"] == "user":
                    texts.append(event["message"]["text"])
            return texts

    assert asyncio.run(scenario()) == ["******", "好的 谢谢"]
