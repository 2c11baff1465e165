"""The widget rides out a gateway crash: it reconnects by itself and the conversation goes on."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_takeover import chat, messages

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_widget_reconnects_after_a_gateway_crash_and_keeps_the_history(user_page: Page, own_gateway) -> None:
    process, url = own_gateway
    user_page.goto(f"{url}/")
    user_page.get_by_test_id("chat-open").click()
    chat(user_page, "你好")
    expect(messages(user_page, "bot").first).to_be_visible()
    bot_turns = messages(user_page, "bot").count()

    process.kill()
    expect(user_page.get_by_test_id("chat-status")).to_contain_text("连接已断开")
    process.start()
    expect(user_page.get_by_test_id("chat-status")).to_be_hidden()

    expect(messages(user_page, "user")).to_have_count(1)  # history re-read from the restarted gateway
    chat(user_page, "谢谢")
    expect(messages(user_page, "bot").nth(bot_turns)).to_be_visible()
