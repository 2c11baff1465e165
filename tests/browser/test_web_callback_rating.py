"""回访 on the web: a web report is resolved by its department; the next time the reporter opens the
chat, the widget asks for a rating of that ticket, naming it and its result. A low score sends the
ticket back for rework and alerts the console."""
from __future__ import annotations

import random

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.test_chat_takeover import log_in
from tests.browser.test_rating_reaches_the_ticket import say

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_widget_asks_for_the_rating_of_a_resolved_report_and_a_low_score_alerts_the_console(
        user_page: Page, operator_page: Page, live_gateway: str, issue_api) -> None:
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    phone = f"138{random.randint(10_000_000, 99_999_999)}"
    user_page.goto(f"{live_gateway}/")
    user_page.get_by_test_id("chat-open").click()
    assert "单位" in say(user_page, "我们园区南门的下水道堵了 一下雨就积水")
    assert "称呼" in say(user_page, "西安秦川精密制造有限公司")
    assert "电话" in say(user_page, "我姓李")
    assert "核对" in say(user_page, phone)
    say(user_page, "对的 提交吧")
    [ticket] = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": phone}, headers=operator,
                            timeout=10).json()["items"]
    expect(user_page.get_by_test_id("chat-ticket-rating")).to_have_count(0)  # not resolved yet

    log_in(operator_page, live_gateway)
    expect(operator_page.get_by_test_id("console-live")).to_have_text("实时连接正常")

    for action, body in (("assign", {"department": ticket["department"]}), ("resolve", {"result": "已疏通南门排水管道"})):
        requests.post(f"{issue_api.url}/api/v1/tickets/{ticket['id']}/{action}", json=body, headers=operator,
                      timeout=10).raise_for_status()

    # The reporter comes back: the widget names the ticket and its result, and asks for a rating.
    user_page.reload()
    expect(user_page.get_by_test_id("chat-open")).to_contain_text("1件工单待评价")
    user_page.get_by_test_id("chat-open").click()
    form = user_page.locator(f'[data-testid="chat-ticket-rating"][data-ticket-id="{ticket["id"]}"]')
    expect(form).to_contain_text(ticket["id"])
    expect(form.get_by_test_id("chat-ticket-result")).to_have_text("办理结果：已疏通南门排水管道")
    form.get_by_label("不满意", exact=True).check()
    form.get_by_role("textbox").fill("下雨还是积水")
    form.get_by_test_id("chat-ticket-rating-submit").click()
    expect(form).to_have_count(0)
    expect(user_page.get_by_test_id("chat-system").filter(has_text=ticket["id"]).last).to_contain_text("重新办理")

    reworked = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket['id']}", headers=operator, timeout=10).json()
    assert reworked["status"] == "in_progress" and reworked["rework_count"] == 1
    assert reworked["rating"]["score"] == 2 and reworked["rating"]["comment"] == "下雨还是积水"

    alert = operator_page.locator(f'[data-testid="alert-item"][data-ticket-id="{ticket["id"]}"]')
    expect(alert).to_have_attribute("data-alert", "low_rating")
    expect(alert).to_contain_text("不满意")
    expect(alert).to_contain_text("下雨还是积水")

    user_page.reload()
    user_page.get_by_test_id("chat-open").click()
    expect(user_page.get_by_test_id("chat-system").filter(has_text=ticket["id"]).first).to_be_visible()
    expect(user_page.get_by_test_id("chat-ticket-rating")).to_have_count(0)
