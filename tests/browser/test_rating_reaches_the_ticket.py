"""The end-of-chat rating lands on the ticket the chat filed (issue 8's bug: the filing reply reads
the number in groups, and the gateway used to look for it in the text).

A web user files a report in the widget, the department's answer arrives (the ticket is resolved),
the user rates the chat, and the rating is on that ticket in the issue API.
"""
from __future__ import annotations

import random

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.test_chat_takeover import chat, messages

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def say(page: Page, text: str) -> str:
    """Send one message and wait for the bot's answer; returns its text."""
    before = messages(page, "bot").count()
    chat(page, text)
    expect(messages(page, "bot").nth(before)).to_be_visible()
    page.wait_for_timeout(300)  # a turn may carry several bubbles
    return "\n".join(messages(page, "bot").nth(i).inner_text() for i in range(before, messages(page, "bot").count()))


def test_a_chat_rating_lands_on_the_ticket_the_chat_filed(user_page: Page, live_gateway: str, issue_api) -> None:
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    phone = f"139{random.randint(10_000_000, 99_999_999)}"
    user_page.goto(f"{live_gateway}/")
    user_page.get_by_test_id("chat-open").click()
    assert "单位" in say(user_page, "我们园区门口的路灯坏了好几天了 晚上特别黑")
    assert "称呼" in say(user_page, "西安华清智能科技有限公司")
    assert "电话" in say(user_page, "我叫张伟")
    assert "核对" in say(user_page, phone)
    filed = say(user_page, "对的 提交吧")

    [ticket] = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": phone}, headers=operator,
                            timeout=10).json()["items"]
    grouped = " ".join(ticket["id"][i:i + 4] for i in range(0, len(ticket["id"]), 4))
    assert grouped in filed  # read out in groups, as callers hear it

    # Dispatched, then answered by the department: the ticket is resolved, so it can take the rating.
    requests.post(f"{issue_api.url}/api/v1/tickets/{ticket['id']}/assign", json={"department": ticket["department"]},
                  headers=operator, timeout=10).raise_for_status()
    requests.post(f"{issue_api.url}/api/v1/tickets/{ticket['id']}/resolve", json={"result": "路灯已修复"},
                  headers=operator, timeout=10).raise_for_status()

    user_page.get_by_test_id("chat-end").click()
    rating = user_page.get_by_test_id("chat-rating")
    rating.get_by_label("非常满意").check()
    rating.get_by_test_id("chat-rating-submit").click()
    expect(user_page.get_by_test_id("chat-system").filter(has_text=ticket["id"])).to_have_count(1)

    rated = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket['id']}", headers=operator, timeout=10).json()
    assert rated["rating"]["score"] == 5
    assert rated["status"] == "closed"
