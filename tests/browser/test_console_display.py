"""What operators and users read in real Chromium, in front of the fake Rasa (tests/bot/gateway): the
console's live socket under its same-origin CSP, Chinese words instead of codes, dates as dates, no empty
bubbles, no rate of nothing, and never an operator's login name in the widget."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.bot.gateway.conftest import OPERATORS, fake_rasa, start_gateway  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

REPORT = {"company": "西安某某电子有限公司", "contact_name": "周", "phone": "13912340077", "category": "市政设施",
          "description": "厂区门口路灯不亮"}


def _ticket(issue_api) -> dict:
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    response = requests.post(f"{issue_api.url}/api/v1/tickets", json=REPORT, headers=operator, timeout=10)
    response.raise_for_status()
    return response.json()


def _log_in(page: Page, base_url: str, name: str = "alice") -> None:
    page.goto(f"{base_url}/console")
    page.get_by_test_id("login-user").fill(name)
    page.get_by_test_id("login-password").fill(OPERATORS[name])
    page.get_by_test_id("login-submit").click()


def _chat(page: Page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def test_a_takeover_reads_in_chinese_and_the_widget_never_learns_the_login_name(
        start_gateway, issue_api, user_page: Page, operator_page: Page) -> None:  # noqa: F811
    ticket = _ticket(issue_api)
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"])
    blocked: list[str] = []
    operator_page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    operator = operator_page
    _log_in(operator, gateway.url)
    # The console's WebSocket goes to its own origin, which connect-src 'self' allows.
    expect(operator.get_by_test_id("console-live")).to_have_text("实时连接正常")

    user = user_page
    user.goto(f"{gateway.url}/")
    user.get_by_test_id("chat-open").click()
    _chat(user, f"查到工单 {ticket['id']}")  # the bot's payload-only message and then its text
    expect(user.locator('[data-testid="chat-message"][data-role="bot"]')).to_have_text([re.compile("已为您查到该工单")])
    _chat(user, "转人工")

    item = operator.get_by_test_id("queue-item")
    expect(item).to_have_count(1)  # pushed over the socket
    expect(item.get_by_test_id("queue-reason")).to_have_text("用户要求转人工")
    expect(item).not_to_contain_text("caller_request")
    item.click()
    expect(operator.get_by_test_id("conversation-meta")).to_contain_text("转人工原因：用户要求转人工")
    # The payload-only bot message is not an empty 智能助手 bubble.
    bot_lines = operator.locator('[data-testid="transcript-message"][data-role="bot"] .text')
    expect(bot_lines).to_have_text(["已为您查到该工单。", "好的，正在为您转接人工客服。"])
    # The ticket's deadline reads like every other date.
    card = operator.get_by_test_id("ticket-card").filter(has_text=ticket["id"])
    deadline = ticket["deadline"]
    expect(card).to_contain_text(f"时限：{deadline[:10]} {deadline[11:16]}")
    expect(card).not_to_contain_text(deadline)

    operator.get_by_test_id("claim").click()
    operator.get_by_test_id("reply-input").fill("您好，请讲。")
    operator.get_by_test_id("reply-send").click()
    bubble = user.locator('[data-testid="chat-message"][data-role="operator"]')
    expect(bubble).to_have_count(1)
    expect(bubble.locator(".hl-who")).to_have_text("人工客服")
    expect(user.get_by_test_id("chat-status")).to_have_text("人工客服正在为您服务")
    expect(user.get_by_role("dialog")).to_contain_text("人工客服已接入")
    assert "alice" not in user.get_by_role("dialog").inner_text()
    user.reload()  # the history the widget gets on connect names nobody either
    user.get_by_test_id("chat-open").click()
    expect(user.locator('[data-testid="chat-message"][data-role="operator"]')).to_have_count(1)
    assert "alice" not in user.get_by_role("dialog").inner_text()
    assert blocked == []


def test_a_rate_of_nothing_reads_as_none_not_zero_percent(start_gateway, operator_page: Page) -> None:  # noqa: F811
    gateway = start_gateway()
    nothing_resolved = {"total": 3, "resolved": 0, "cancelled": 0, "resolution_rate": 0.0, "on_time_rate": 0.0,
                        "overdue": 0, "avg_rating": None, "by_category": {"市政设施": 3}, "by_status": {"received": 3}}
    operator_page.route("**/api/v1/console/stats", lambda route: route.fulfill(json=nothing_resolved))
    _log_in(operator_page, gateway.url)
    expect(operator_page.get_by_test_id("console-live")).to_have_text("实时连接正常")
    operator_page.goto(f"{gateway.url}/console/stats")
    expect(operator_page.locator("#kpi-total")).to_have_text("3")
    expect(operator_page.locator("#kpi-ontime")).to_have_text("—")
    expect(operator_page.locator("#kpi-resolution")).to_have_text("0.0%")  # 3 tickets counted, none resolved


def test_a_wrong_address_shows_a_chinese_page(start_gateway, user_page: Page) -> None:  # noqa: F811
    gateway = start_gateway()
    response = user_page.goto(f"{gateway.url}/no-such-page")
    assert response is not None and response.status == 404
    expect(user_page.get_by_role("heading")).to_have_text("页面不存在")
    expect(user_page.get_by_role("link", name="返回首页")).to_be_visible()
