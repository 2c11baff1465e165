"""Operators never read a query code: the console's transcript masks them, the user's own view does not."""
from __future__ import annotations

import requests

from bot.gateway.operator_view import masked_for_operator
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


def test_the_console_transcript_masks_codes_that_the_users_own_history_keeps(gateway: Gateway) -> None:
    send(gateway.url, "web-code-1", "查询码是361510")
    send(gateway.url, "web-code-1", "转人工")
    session, _ = login(gateway.url, "alice")
    seen = session.get(f"{gateway.url}/api/v1/console/conversations/web-code-1").json()["messages"]
    assert not any("361510" in m["text"] for m in seen)
    assert any(m["text"] == "查询码是******" for m in seen if m["role"] == "user")
    own = poll(gateway.url, sender="web-code-1").json()["messages"]
    assert any(m["text"] == "查询码是361510" for m in own)
