"""The department loop in real Chromium: a department user accepts, notes and resolves on the workbench;
an extension request is rejected, asked again and approved on the console; a misrouted ticket is
returned and reassigned to the department the console suggests.

An issue API of its own with two scoped department accounts, and a gateway in front of it (no Rasa:
nobody chats here). The gateway reads review requests every 10 minutes only, so that a request
seen on the console within seconds was pushed by the workbench's gateway, not polled.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import fresh_page
from tests.support.servers import ServerProcess, free_port, python_cmd
from tests.support.stack import start_issue_api

pytestmark = [pytest.mark.browser]

OWN, OTHER = "城市管理和综合执法局", "生态环境局"
TOKENS = f"operator:loop-op,bot:loop-bot,admin:loop-admin,department/{OWN}:loop-own,department/{OTHER}:loop-other"
OPERATOR = ("zhao", "zhao-pass-1")
DEPARTMENT_USERS = {"chen": ("chen-pass-1", OWN), "sun": ("sun-pass-2", OTHER)}
AS_OPERATOR = {"Authorization": "Bearer loop-op"}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(issue API url, gateway url)."""
    tmp = Path(tmp_path_factory.mktemp("department_loop"))
    api, api_url, _ = start_issue_api(tmp / "api", extra_env={"ISSUE_API_TOKENS": TOKENS})
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    gateway = ServerProcess(python_cmd("-m", "bot", "gateway"), health_url=f"{gateway_url}/api/v1/health", env={
        "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "GATEWAY_DB": str(tmp / "gateway.db"),
        "RASA_URL": "http://127.0.0.1:9", "ISSUE_API_URL": api_url, "ISSUE_API_TOKENS": TOKENS,
        "ISSUE_API_TOKEN": "", "ISSUE_API_OPERATOR_TOKEN": "",  # derived from ISSUE_API_TOKENS
        "GATEWAY_OPERATORS": ":".join(OPERATOR), "GATEWAY_SECRET": "loop-secret",
        "GATEWAY_DEPARTMENTS": ",".join(f"{u}:{p}:{d}" for u, (p, d) in DEPARTMENT_USERS.items()),
        "GATEWAY_REVIEW_POLL_SECONDS": "600",
    }, log_path=tmp / "gateway.log")
    with gateway:
        yield api_url, gateway_url
    api.stop()


@pytest.fixture
def department_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser, timeout_ms=15_000) as page:
        yield page


@pytest.fixture
def console_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser, timeout_ms=15_000) as page:
        yield page


def file_ticket(api_url: str, category: str, department: str, description: str) -> dict:
    body = {"company": "西安高新示例科技有限公司", "contact_name": "刘洋", "phone": "13991234567",
            "category": category, "description": description}
    ticket = requests.post(f"{api_url}/api/v1/tickets", json=body, headers=AS_OPERATOR, timeout=10).json()
    assigned = requests.post(f"{api_url}/api/v1/tickets/{ticket['id']}/assign", json={"department": department},
                             headers=AS_OPERATOR, timeout=10)
    assigned.raise_for_status()
    return assigned.json()


def ticket_of(api_url: str, ticket_id: str) -> dict:
    return requests.get(f"{api_url}/api/v1/tickets/{ticket_id}", headers=AS_OPERATOR, timeout=10).json()


def log_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_test_id("login-user").fill(name)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def open_workbench(page: Page, gateway_url: str, user: str = "chen") -> None:
    log_in(page, f"{gateway_url}/department", user, DEPARTMENT_USERS[user][0])
    expect(page.get_by_test_id("dept-name")).to_have_text(DEPARTMENT_USERS[user][1])


def open_console(page: Page, gateway_url: str) -> None:
    log_in(page, f"{gateway_url}/console", *OPERATOR)
    expect(page.get_by_test_id("console-live")).to_have_text("实时连接正常")


def row(page: Page, ticket_id: str):
    return page.locator(f'[data-testid="dept-ticket"][data-ticket-id="{ticket_id}"]')


def test_a_department_logs_in_accepts_notes_and_resolves(department_page: Page, loop: tuple[str, str]) -> None:
    api_url, gateway_url = loop
    ticket = file_ticket(api_url, "市政设施", OWN, "园区东门路灯不亮已经三天")
    elsewhere = file_ticket(api_url, "环境噪音", OTHER, "隔壁工地夜间施工噪音")
    page = department_page
    log_in(page, f"{gateway_url}/department", "chen", "wrong-password")
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
    open_workbench(page, gateway_url)

    # Only the department's own tickets; a new one is marked, with its deadline.
    expect(row(page, ticket["id"])).to_contain_text("新派单")
    expect(row(page, ticket["id"]).get_by_test_id("dept-deadline")).to_contain_text(ticket["deadline"][:10])
    expect(row(page, elsewhere["id"])).to_have_count(0)

    row(page, ticket["id"]).click()
    expect(page.get_by_test_id("dept-detail-title")).to_contain_text(ticket["id"])
    page.get_by_test_id("dept-accept").click()
    expect(page.get_by_test_id("dept-status")).to_have_text("办理中")
    expect(page.get_by_test_id("dept-accept")).to_be_disabled()

    page.get_by_test_id("dept-note-input").fill("已联系供电所，明天上午更换灯具")
    page.get_by_test_id("dept-note-send").click()
    expect(page.get_by_test_id("progress-notes")).to_contain_text("已联系供电所，明天上午更换灯具")
    notes = ticket_of(api_url, ticket["id"])["progress_notes"]
    assert notes[-1]["text"] == "已联系供电所，明天上午更换灯具" and notes[-1]["actor"] == f"department/{OWN}"

    page.get_by_test_id("dept-resolve").click()  # no result yet: refused on the page
    expect(page.get_by_test_id("dept-error")).to_have_text("请填写办理结果")
    page.get_by_test_id("dept-result-input").fill("已更换东门全部路灯灯具，恢复照明")
    page.get_by_test_id("dept-resolve").click()
    expect(page.get_by_test_id("dept-status")).to_have_text("已办结")
    done = ticket_of(api_url, ticket["id"])
    assert done["status"] == "resolved" and done["result"] == "已更换东门全部路灯灯具，恢复照明"
    assert [h["action"] for h in done["history"]][-3:] == ["started", "noted", "resolved"]
    assert {h["actor"] for h in done["history"][-3:]} == {f"department/{OWN}"}


def test_an_extension_is_rejected_then_approved_on_the_console(department_page: Page, console_page: Page,
                                                               loop: tuple[str, str]) -> None:
    api_url, gateway_url = loop
    ticket = file_ticket(api_url, "市政设施", OWN, "园区主干道井盖破损")
    open_console(console_page, gateway_url)
    page = department_page
    open_workbench(page, gateway_url)
    row(page, ticket["id"]).click()
    old_deadline = dt.date.fromisoformat(ticket["deadline"][:10])
    wanted = (old_deadline + dt.timedelta(days=7)).isoformat()

    page.get_by_test_id("dept-extend-date").fill(wanted)
    page.get_by_test_id("dept-extend").click()
    expect(page.get_by_test_id("dept-error")).to_have_text("请填写延期理由")
    page.get_by_test_id("dept-extend-reason").fill("需要订购专用井盖，到货约需一周")
    page.get_by_test_id("dept-extend").click()
    expect(page.get_by_test_id("dept-pending-review")).to_contain_text("等待坐席审核")
    expect(page.get_by_test_id("dept-extend")).to_be_disabled()

    # Pushed to the open console at once (the gateway polls only every 10 minutes here).
    item = console_page.locator(f'[data-testid="review-item"][data-ticket-id="{ticket["id"]}"]')
    expect(item).to_contain_text("延期申请", timeout=5_000)
    expect(item).to_contain_text("需要订购专用井盖")
    expect(item.get_by_test_id("review-deadline")).to_have_value(wanted)
    item.get_by_test_id("review-reject").click()
    expect(item).to_contain_text("驳回时请填写理由")
    item.get_by_test_id("review-reason").fill("请先临时围挡，两天内完成")
    item.get_by_test_id("review-reject").click()
    expect(item).to_have_count(0)
    rejected = ticket_of(api_url, ticket["id"])
    assert rejected["pending_review"] is None and rejected["deadline"] == ticket["deadline"]
    assert rejected["history"][-1]["action"] == "extension_rejected"
    assert "请先临时围挡" in rejected["history"][-1]["note"] and rejected["history"][-1]["actor"] == "operator"

    # Asked again, this time approved with the requested date.
    page.reload()
    row(page, ticket["id"]).click()
    page.get_by_test_id("dept-extend-date").fill(wanted)
    page.get_by_test_id("dept-extend-reason").fill("围挡已完成，专用井盖仍需一周到货")
    page.get_by_test_id("dept-extend").click()
    expect(page.get_by_test_id("dept-pending-review")).to_be_visible()
    expect(item).to_contain_text("围挡已完成", timeout=5_000)
    item.get_by_test_id("review-approve").click()
    expect(console_page.get_by_test_id("review-result")).to_contain_text(f"已批准工单 {ticket['id']} 延期至 {wanted}")
    expect(item).to_have_count(0)
    approved = ticket_of(api_url, ticket["id"])
    assert approved["deadline"][:10] == wanted and approved["pending_review"] is None
    assert approved["history"][-1]["action"] == "extension_approved"

    page.reload()
    row(page, ticket["id"]).click()
    expect(page.get_by_test_id("dept-detail-deadline")).to_contain_text(wanted)
    expect(page.get_by_test_id("ticket-history")).to_contain_text("围挡已完成")


def test_a_misrouted_ticket_is_returned_and_reassigned_to_the_suggested_department(
        department_page: Page, console_page: Page, browser: Browser, loop: tuple[str, str]) -> None:
    api_url, gateway_url = loop
    # Noise is the environment bureau's; dispatched to the city management bureau by mistake.
    ticket = file_ticket(api_url, "环境噪音", OWN, "园区内餐馆油烟和夜间噪音扰民")
    open_console(console_page, gateway_url)
    page = department_page
    open_workbench(page, gateway_url)
    row(page, ticket["id"]).click()
    page.get_by_test_id("dept-return-reason").fill("噪音和油烟属生态环境局职责，不属本局")
    page.get_by_test_id("dept-return").click()
    expect(page.get_by_test_id("dept-pending-review")).to_contain_text("退回申请")

    item = console_page.locator(f'[data-testid="review-item"][data-ticket-id="{ticket["id"]}"]')
    expect(item).to_contain_text("退回申请", timeout=5_000)
    expect(item.get_by_test_id("review-department")).to_have_value(OTHER)  # the category's usual department
    item.get_by_test_id("review-approve").click()
    expect(console_page.get_by_test_id("review-result")).to_contain_text(f"已改派至 {OTHER}")
    moved = ticket_of(api_url, ticket["id"])
    assert moved["department"] == OTHER and moved["status"] == "assigned"
    assert moved["history"][-1]["action"] == "return_approved" and OTHER in moved["history"][-1]["note"]

    page.reload()
    expect(page.get_by_test_id("dept-name")).to_have_text(OWN)
    expect(row(page, ticket["id"])).to_have_count(0)
    other = browser.new_context(locale="zh-CN").new_page()
    try:
        open_workbench(other, gateway_url, "sun")
        expect(row(other, ticket["id"])).to_contain_text("新派单")
        row(other, ticket["id"]).click()
        expect(other.get_by_test_id("ticket-history")).to_contain_text("噪音和油烟属生态环境局职责")
    finally:
        other.context.close()


def test_the_supervisor_view_shows_each_department_and_exports_tickets(console_page: Page,
                                                                       loop: tuple[str, str]) -> None:
    api_url, gateway_url = loop
    file_ticket(api_url, "市政设施", OWN, "园区西门人行道地砖松动")
    open_console(console_page, gateway_url)
    console_page.get_by_test_id("supervisor-link").click()
    own = console_page.locator(f'[data-testid="supervisor-row"][data-department="{OWN}"]')
    expect(own).to_be_visible()
    expect(own.locator("th")).to_have_text(OWN)
    expect(console_page.get_by_test_id("supervisor-overdue")).to_be_visible()

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    console_page.get_by_test_id("export-from").fill(today)
    console_page.get_by_test_id("export-to").fill(today)
    with console_page.expect_download() as download:
        console_page.get_by_test_id("export-submit").click()
    assert download.value.suggested_filename == f"tickets-{today}-{today}.xlsx"
    with open(download.value.path(), "rb") as xlsx:
        assert xlsx.read(2) == b"PK"
    expect(console_page.get_by_test_id("export-status")).to_have_text(f"已导出 tickets-{today}-{today}.xlsx")
