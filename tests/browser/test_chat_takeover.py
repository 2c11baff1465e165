"""A person chats in the widget, an operator takes over in the console and hands back to the bot."""
from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHANNEL_HEADERS, OPERATOR
from tests.support.stack import RASA_API_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKUP = '<img src=x onerror="window.__pwned=1"><b>粗体</b>'


def chat(page: Page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def messages(page: Page, role: str):
    return page.locator(f'[data-testid="chat-message"][data-role="{role}"]')


def log_in(page: Page, base_url: str, name: str = OPERATOR[0], password: str = OPERATOR[1]) -> None:
    page.goto(f"{base_url}/console")
    page.get_by_test_id("login-user").fill(name)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_the_console_requires_a_login(operator_page: Page, live_gateway: str) -> None:
    log_in(operator_page, live_gateway, password="wrong-password")
    expect(operator_page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
    expect(operator_page.get_by_test_id("ticket-panel")).to_have_count(0)
    expect(operator_page.get_by_test_id("queue-item")).to_have_count(0)
    operator_page.goto(f"{live_gateway}/console/stats")
    expect(operator_page.get_by_test_id("login-user")).to_be_visible()

    log_in(operator_page, live_gateway)
    expect(operator_page.get_by_test_id("ticket-panel")).to_be_visible()
    expect(operator_page.get_by_test_id("console-live")).to_have_text("实时连接正常")


def test_chat_escalate_take_over_reply_hand_back_and_reload(user_page: Page, operator_page: Page, live_gateway: str) -> None:
    user = user_page
    user.goto(f"{live_gateway}/")
    user.get_by_test_id("chat-open").click()
    expect(user.get_by_role("dialog")).to_be_visible()

    chat(user, "你好")
    expect(messages(user, "bot").first).to_be_visible()
    expect(messages(user, "user").last).to_have_text(re.compile("你好"))

    # Markup typed by a user stays text: shown literally, never parsed into elements.
    chat(user, MARKUP)
    expect(messages(user, "user").last.locator(".hl-text")).to_have_text(MARKUP)
    assert user.locator('[data-testid="chat-message"] b, [data-testid="chat-message"] img').count() == 0

    bot_turns = messages(user, "bot").count()
    chat(user, "转人工")
    expect(user.get_by_test_id("chat-status")).to_contain_text("转接人工客服")
    assert messages(user, "bot").count() >= bot_turns

    # The operator sees the escalation live, with the whole transcript including the bot's turns.
    operator = operator_page
    log_in(operator, live_gateway)
    item = operator.get_by_test_id("queue-item").filter(has_text="网页")
    expect(item).to_have_count(1)
    item.click()
    transcript = operator.get_by_test_id("transcript-message")
    expect(transcript.filter(has_text="你好").first).to_be_visible()
    expect(operator.locator('[data-testid="transcript-message"][data-role="bot"]').first).to_be_visible()
    user_turns = operator.locator('[data-testid="transcript-message"][data-role="user"]')
    expect(user_turns.filter(has_text=MARKUP).locator(".text")).to_have_text(MARKUP)
    assert operator.locator('[data-testid="transcript-message"] b, [data-testid="transcript-message"] img').count() == 0
    assert operator.evaluate("window.__pwned") is None and user.evaluate("window.__pwned") is None

    # Operator -> user.
    operator.get_by_test_id("reply-input").fill("您好，我是人工客服小王，请讲。")
    operator.get_by_test_id("reply-send").click()
    expect(messages(user, "operator")).to_have_text([re.compile("您好，我是人工客服小王，请讲。")])
    expect(user.get_by_test_id("chat-status")).to_contain_text("正在为您服务")

    # User -> operator, not to the bot.
    bot_turns = messages(user, "bot").count()
    chat(user, "我们园区今天停水了")
    expect(user_turns.filter(has_text="我们园区今天停水了")).to_have_count(1)
    user.wait_for_timeout(500)
    assert messages(user, "bot").count() == bot_turns

    # Hand back: the bot answers again and the conversation leaves the queue.
    operator.get_by_test_id("handback").click()
    expect(operator.get_by_test_id("queue-item")).to_have_count(0)
    expect(user.get_by_test_id("chat-system").last).to_contain_text("智能助手继续为您服务")
    chat(user, "谢谢")
    expect(messages(user, "bot").nth(bot_turns)).to_be_visible()

    # A reload keeps the conversation: same sender, history from the server.
    user.reload()
    user.get_by_test_id("chat-open").click()
    expect(messages(user, "operator")).to_have_count(1)
    expect(messages(user, "user").filter(has_text="我们园区今天停水了")).to_have_count(1)
    expect(messages(user, "user").filter(has_text=MARKUP)).to_have_count(1)
    assert user.locator('[data-testid="chat-message"] b').count() == 0


def test_the_widget_is_keyboard_accessible_and_has_a_larger_text_switch(user_page: Page, live_gateway: str) -> None:
    user_page.set_viewport_size({"width": 390, "height": 800})  # a phone
    user_page.goto(f"{live_gateway}/")
    launcher = user_page.get_by_test_id("chat-open")
    launcher.focus()
    user_page.keyboard.press("Enter")
    expect(user_page.get_by_test_id("chat-input")).to_be_focused()
    panel = user_page.get_by_role("dialog")
    box = panel.bounding_box()
    assert box and box["width"] <= 390
    user_page.keyboard.type("你好")
    user_page.keyboard.press("Enter")
    expect(messages(user_page, "user")).to_have_count(1)
    before = user_page.get_by_test_id("chat-input").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    user_page.get_by_test_id("chat-large-text").click()
    expect(user_page.get_by_test_id("chat-large-text")).to_have_attribute("aria-pressed", "true")
    after = user_page.get_by_test_id("chat-input").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert after > before
    user_page.get_by_test_id("chat-input").focus()
    user_page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


def test_ticket_panel_files_and_finds_tickets_and_statistics_show_them(operator_page: Page, live_gateway: str) -> None:
    page = operator_page
    log_in(page, live_gateway)
    panel = page.get_by_test_id("ticket-panel")
    panel.get_by_text("代客户登记工单").click()
    form = panel.locator("#ticket-form")
    form.locator("[name=company]").fill("西安示例科技有限公司")
    form.locator("[name=contact_name]").fill("张三")
    form.locator("[name=phone]").fill("13812345678")
    form.locator("[name=category]").select_option("供水供电供气")
    form.locator("[name=description]").fill("园区A座停水，影响生产")
    page.get_by_test_id("ticket-submit").click()
    expect(form.locator("#ticket-form-result")).to_have_text(re.compile(r"已登记工单 \d{8,12}"))
    ticket_id = form.locator("#ticket-form-result").inner_text().split()[-1]

    page.get_by_test_id("ticket-lookup").fill("13812345678")
    page.get_by_test_id("ticket-lookup").press("Enter")
    expect(panel.get_by_test_id("ticket-card").filter(has_text=ticket_id)).to_be_visible()
    page.get_by_test_id("ticket-lookup").fill(ticket_id)
    page.get_by_test_id("ticket-lookup").press("Enter")
    expect(panel.get_by_test_id("ticket-card")).to_contain_text("已受理")

    page.goto(f"{live_gateway}/console/stats")
    expect(page.locator("#kpi-total")).to_have_text(re.compile(r"^[1-9]\d*$"))
    if page.evaluate("typeof window.Chart") == "undefined":
        pytest.fail("Chart.js is not vendored: run `make vendor`")
    assert page.evaluate("Object.keys(Chart.instances).length") >= 2


def test_a_phone_call_escalates_live_into_the_console_and_hears_the_operator(
        operator_page: Page, live_gateway: str, browser_rasa_url: str) -> None:
    log_in(operator_page, live_gateway)
    expect(operator_page.get_by_test_id("console-live")).to_have_text("实时连接正常")
    channel = f"{live_gateway}/api/v1/channel/messages"
    call = {"sender": "call-browser-1", "metadata": {"channel": "voice", "phone": "13700001111"}}
    # The channel API is the voice adapters': it needs their token, the pages never do.
    assert requests.post(channel, json={**call, "message": "你好"}, timeout=30).status_code == 401
    requests.post(channel, json={**call, "message": "你好"}, headers=CHANNEL_HEADERS, timeout=30).raise_for_status()
    escalated = requests.post(channel, json={**call, "message": "我要转人工"}, headers=CHANNEL_HEADERS, timeout=30).json()
    assert escalated["state"] == "waiting"

    item = operator_page.get_by_test_id("queue-item").filter(has_text="13700001111")
    expect(item).to_contain_text("电话")  # arrived over the console's WebSocket, no reload
    item.click()
    expect(operator_page.locator('[data-testid="transcript-message"][data-role="bot"]').first).to_be_visible()
    operator_page.get_by_test_id("reply-input").fill("您好，这里是人工坐席。")
    operator_page.get_by_test_id("reply-send").click()

    # The phone side long-polls, as the voice channel does, until the operator's words arrive.
    after, heard = max(m.get("seq", 0) for m in escalated["messages"]), []
    for _ in range(5):
        polled = requests.get(channel, params={"sender": "call-browser-1", "after": after, "wait": 10},
                              headers=CHANNEL_HEADERS, timeout=30).json()
        heard += polled["messages"]
        after = max([after] + [m["seq"] for m in polled["messages"]])
        if any(m["role"] == "operator" for m in heard):
            break
    assert polled["state"] == "operator"
    assert [m["text"] for m in heard if m["role"] == "operator"] == ["您好，这里是人工坐席。"]

    # Handed back, the bot's own record of the call holds what the operator said.
    operator_page.get_by_test_id("handback").click()
    expect(operator_page.get_by_test_id("queue-item").filter(has_text="13700001111")).to_have_count(0)
    # (The queue shows the hand-back a moment before the gateway has told the bot.)
    for _ in range(20):
        tracker = requests.get(f"{browser_rasa_url}/conversations/call-browser-1/tracker",
                               params={"token": RASA_API_TOKEN}, timeout=30).json()
        said = [e["text"] for e in tracker["events"] if e["event"] == "bot" and (e.get("metadata") or {}).get("operator")]
        if said:
            break
        time.sleep(0.5)
    assert said == ["您好，这里是人工坐席。"]


def test_the_user_rates_the_chat_at_the_end(user_page: Page, live_gateway: str) -> None:
    user_page.goto(f"{live_gateway}/")
    user_page.get_by_test_id("chat-open").click()
    chat(user_page, "你好")
    expect(messages(user_page, "bot").first).to_be_visible()
    user_page.get_by_test_id("chat-end").click()
    rating = user_page.get_by_test_id("chat-rating")
    expect(rating).to_be_visible()
    rating.get_by_test_id("chat-rating-submit").click()
    expect(user_page.get_by_test_id("chat-status")).to_have_text("请先选择满意程度。")
    rating.get_by_label("非常满意").check()
    rating.get_by_test_id("chat-rating-submit").click()
    expect(rating).to_be_hidden()
    expect(user_page.get_by_test_id("chat-system").last).to_have_text("感谢您的评价！")
    expect(user_page.get_by_test_id("chat-status")).to_contain_text("本次对话已结束")
