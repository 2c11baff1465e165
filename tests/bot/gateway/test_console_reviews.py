"""The console's side of the department loop through a live gateway and a live issue API: requests
made elsewhere reach the console by polling, decisions go through the gateway, failed 回访 become
alerts an operator closes with a rating taken by phone, and the supervisor's figures and export."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from tests.bot.gateway.conftest import Gateway
from tests.security.conftest import console_socket, logged_in, session_cookie
from tests.support.aio import run
from tests.support.stack import start_issue_api

OWN, OTHER = "城市管理和综合执法局", "生态环境局"
TOKENS = f"operator:cr-op,bot:cr-bot,admin:cr-admin,department/{OWN}:cr-own,department/{OTHER}:cr-other"
AS_OPERATOR, AS_OWN = {"Authorization": "Bearer cr-op"}, {"Authorization": "Bearer cr-own"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Callbacks due at any hour of today and tomorrow (made working days), given up after one attempt.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    server, url, _ = start_issue_api(Path(tmp_path_factory.mktemp("reviews_api")), extra_env={
        "ISSUE_API_TOKENS": TOKENS, "ISSUE_API_CALLBACK_MAX_ATTEMPTS": "1", "ISSUE_API_CALLBACK_HOURS": "00:00-23:59",
        "ISSUE_API_WORKDAYS": f"{today},{today + dt.timedelta(days=1)}"})
    yield url
    server.stop()


@pytest.fixture
def console(start_gateway: Callable[..., Gateway], api: str) -> Gateway:
    return start_gateway(ISSUE_API_URL=api, ISSUE_API_TOKEN="", ISSUE_API_TOKENS=TOKENS,
                         GATEWAY_DEPARTMENTS=f"chen:chen-pass:{OWN}", GATEWAY_REVIEW_POLL_SECONDS="1")


def filed(api: str, category: str = "市政设施", department: str = OWN, resolve: bool = False) -> dict:
    body = {"company": "西安某某电子有限公司", "contact_name": "冯", "phone": "13912340031", "category": category,
            "description": "园区道路破损"}
    ticket = requests.post(f"{api}/api/v1/tickets", json=body, headers=AS_OPERATOR, timeout=10).json()
    steps = [("assign", {"department": department})] + ([("resolve", {"result": "已修补路面"})] if resolve else [])
    for action, step in steps:
        done = requests.post(f"{api}/api/v1/tickets/{ticket['id']}/{action}", json=step, headers=AS_OPERATOR,
                             timeout=10)
        done.raise_for_status()
    return done.json()


async def _event(ws, done, timeout: float = 10) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if done(event):
            return event


def test_a_request_made_elsewhere_reaches_an_open_console_by_polling(console: Gateway, api: str) -> None:
    ticket = filed(api)
    operator, _ = logged_in(console.url, "alice")
    new_date = (dt.date.fromisoformat(ticket["deadline"][:10]) + dt.timedelta(days=5)).isoformat()

    async def scenario() -> dict:
        async with console_socket(console, session_cookie(operator)) as ws:
            await _event(ws, lambda e: e["type"] == "reviews")
            # Straight to the issue API with the department's token: not through this gateway.
            made = await asyncio.to_thread(
                requests.post, f"{api}/api/v1/tickets/{ticket['id']}/extension-requests",
                json={"reason": "材料未到", "new_deadline": new_date}, headers=AS_OWN, timeout=10)
            assert made.status_code in (200, 201), made.text
            return await _event(ws, lambda e: e["type"] == "reviews"
                                and any(r["ticket_id"] == ticket["id"] for r in e["items"]))

    event = run(scenario())
    [review] = [r for r in event["items"] if r["ticket_id"] == ticket["id"]]
    assert review["type"] == "extension" and review["new_deadline"] == new_date and review["reason"] == "材料未到"
    listed = operator.get("/api/v1/console/reviews").json()["items"]
    assert ticket["id"] in {r["ticket_id"] for r in listed}


def test_review_decisions_go_through_the_gateway_and_are_audited(console: Gateway, api: str) -> None:
    ticket = filed(api, category="环境噪音")  # the environment bureau's, dispatched to city management
    requests.post(f"{api}/api/v1/tickets/{ticket['id']}/return-requests", json={"reason": "不属本局职责"},
                  headers=AS_OWN, timeout=10).raise_for_status()
    operator, csrf = logged_in(console.url, "alice")
    [review] = [r for r in operator.get("/api/v1/console/reviews").json()["items"] if r["ticket_id"] == ticket["id"]]
    assert review["type"] == "return" and review["suggested_department"] == OTHER

    path = f"/api/v1/console/tickets/{ticket['id']}/review"
    assert operator.post(path, json={"decision": "approve", "department": OTHER}).status_code == 403  # no CSRF
    refused = operator.post(path, json={"decision": "reject"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422 and refused.json()["detail"] == "驳回时请填写理由"
    approved = operator.post(path, json={"decision": "approve", "department": OTHER}, headers={"X-CSRF-Token": csrf})
    assert approved.status_code == 200, approved.text
    assert approved.json()["department"] == OTHER and approved.json()["status"] == "assigned"
    again = operator.post(path, json={"decision": "approve", "department": OTHER}, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409  # nothing pending any more
    audit = operator.get("/api/v1/console/audit").json()["items"]
    assert any(r["action"] == "review_approved" and r["account"] == "alice" and ticket["id"] in r["detail"]
               and OTHER in r["detail"] for r in audit)


def test_a_failed_callback_is_an_alert_until_an_operator_enters_the_rating_taken_by_phone(console: Gateway,
                                                                                          api: str) -> None:
    ticket = filed(api, resolve=True)
    claimed = requests.post(f"{api}/api/v1/callbacks/{ticket['id']}/claim", headers=AS_OPERATOR, timeout=10)
    assert claimed.ok, claimed.text
    failed = requests.post(f"{api}/api/v1/callbacks/{ticket['id']}/attempts", json={"outcome": "no_answer"},
                           headers=AS_OPERATOR, timeout=10)
    assert failed.ok and failed.json()["status"] == "failed", failed.text
    operator, csrf = logged_in(console.url, "alice")
    alerts = operator.get("/api/v1/console/alerts").json()["items"]
    [alert] = [a for a in alerts if a["ticket_id"] == ticket["id"]]
    assert alert["type"] == "callback_failed" and alert["attempts"] == 1 and alert["ticket"]["phone"] == "13912340031"

    rated = operator.post(f"/api/v1/console/tickets/{ticket['id']}/rating", json={"score": 4, "comment": "电话回访"},
                          headers={"X-CSRF-Token": csrf})
    assert rated.status_code == 200 and rated.json()["status"] == "closed"
    assert ticket["id"] not in {a["ticket_id"] for a in operator.get("/api/v1/console/alerts").json()["items"]}


def test_the_supervisor_figures_and_the_export_come_through_the_gateway(console: Gateway, api: str) -> None:
    filed(api)
    operator, _ = logged_in(console.url, "alice")
    figures = operator.get("/api/v1/console/supervisor").json()
    assert OWN in {d["department"] for d in figures["departments"]}
    assert isinstance(figures["overdue"], list)

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    week = {"from": (today - dt.timedelta(days=7)).isoformat(), "to": today.isoformat()}
    csv = operator.get("/api/v1/console/export", params={**week, "format": "csv"})
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-disposition"] == f'attachment; filename="tickets-{week["from"]}-{week["to"]}.csv"'
    assert csv.content.startswith(b"\xef\xbb\xbf") and "工单".encode() in csv.content  # BOM, Chinese headers
    xlsx = operator.get("/api/v1/console/export", params={**week, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert operator.get("/api/v1/console/export", params={"from": week["to"], "to": week["from"]}).status_code == 422
    assert operator.get("/api/v1/console/export", params={**week, "format": "pdf"}).status_code == 422
    audit = operator.get("/api/v1/console/audit").json()["items"]
    assert any(r["action"] == "tickets_exported" and r["account"] == "alice" for r in audit)


def test_a_stale_screen_cannot_decide_a_newer_request(console: Gateway, api: str) -> None:
    ticket = filed(api)
    requests.post(f"{api}/api/v1/tickets/{ticket['id']}/return-requests", json={"reason": "不属本局职责"},
                  headers=AS_OWN, timeout=10).raise_for_status()
    operator, csrf = logged_in(console.url, "alice")
    [seen] = [r for r in operator.get("/api/v1/console/reviews").json()["items"] if r["ticket_id"] == ticket["id"]]
    path = f"/api/v1/console/tickets/{ticket['id']}/review"
    rejected = operator.post(path, json={"decision": "reject", "reason": "职责范围内", "review_id": seen["id"],
                                         "type": seen["type"]}, headers={"X-CSRF-Token": csrf})
    assert rejected.status_code == 200, rejected.text
    new_date = (dt.date.fromisoformat(ticket["deadline"][:10]) + dt.timedelta(days=5)).isoformat()
    requests.post(f"{api}/api/v1/tickets/{ticket['id']}/extension-requests",
                  json={"reason": "材料未到", "new_deadline": new_date}, headers=AS_OWN, timeout=10).raise_for_status()
    # A second console still shows the return request and approves it.
    stale = operator.post(path, json={"decision": "approve", "department": OTHER, "review_id": seen["id"],
                                      "type": "return"}, headers={"X-CSRF-Token": csrf})
    assert stale.status_code == 409 and "刷新" in stale.json()["detail"]
    now = requests.get(f"{api}/api/v1/tickets/{ticket['id']}", headers=AS_OPERATOR, timeout=10).json()
    assert now["department"] == OWN and now["deadline"] == ticket["deadline"] and now["pending_review"]["type"] == "extension"


def test_a_rating_taken_by_phone_must_be_a_whole_number(console: Gateway, api: str) -> None:
    ticket = filed(api, resolve=True)
    operator, csrf = logged_in(console.url, "alice")
    for score in (True, "5", 4.5, 0, 6):
        response = operator.post(f"/api/v1/console/tickets/{ticket['id']}/rating", json={"score": score},
                                 headers={"X-CSRF-Token": csrf})
        assert response.status_code == 422, score
    assert requests.get(f"{api}/api/v1/tickets/{ticket['id']}", headers=AS_OPERATOR, timeout=10).json()["status"] == "resolved"


def test_a_department_with_workbench_users_can_be_chosen_for_a_returned_ticket(
        start_gateway: Callable[..., Gateway], api: str) -> None:
    gateway = start_gateway(ISSUE_API_URL=api, ISSUE_API_TOKEN="", ISSUE_API_TOKENS=f"{TOKENS},department/高新区供电所:cr-gd",
                            GATEWAY_DEPARTMENTS="gd:gd-pass:高新区供电所")
    operator, _ = logged_in(gateway.url, "alice")
    page = operator.get("/console").text
    embedded = page.split('<script type="application/json" id="vocabulary">', 1)[1].split("</script>", 1)[0]
    departments = json.loads(embedded)["departments"]
    assert "高新区供电所" in departments and OTHER in departments  # besides the usual ones of the categories
