"""The console's ticket panel, statistics and end-of-chat ratings through the real issue API: a rating
given before the ticket was resolved is left to its 回访; one the issue API could not take is kept and
passed on when it is back."""
from __future__ import annotations

import asyncio
import json
import time

import requests
import websockets

from bot.gateway.chat_ws import web_conversation_id
from tests.bot.gateway.conftest import Gateway, login
from tests.support.aio import run

SENDER = "web-rating-0123456789"  # a widget's access key
CONVERSATION = web_conversation_id(SENDER)
TICKET = {"company": "西安示例科技有限公司", "contact_name": "李四", "phone": "13912345678",
          "category": "供水供电供气", "description": "园区B座停电", "kind": "help"}


async def ask_for_a_person(gateway: Gateway, key: str) -> None:
    """A widget (access key `key`) asks for a person and waits until it is in the queue."""
    async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={key}") as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": "转人工"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("state") != "waiting":
            pass


def resolve(issue_api, ticket_id: str, department: str, result: str) -> None:  # type: ignore[no-untyped-def]
    """The department's side: the ticket dispatched to `department` and resolved with `result`."""
    auth = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    for action, body in (("assign", {"department": department}), ("resolve", {"result": result})):
        done = requests.post(f"{issue_api.url}/api/v1/tickets/{ticket_id}/{action}", json=body, headers=auth)
        assert done.ok, done.text


def chat_with_a_ticket(start_gateway, issue_api, sender: str, **fields: str):  # type: ignore[no-untyped-def]
    """A gateway retrying kept ratings twice a second, and a widget chat with a ticket an operator filed
    for it."""
    gateway: Gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"],
                                     GATEWAY_RATING_RETRY_SECONDS="0.5")
    run(ask_for_a_person(gateway, sender))
    session, csrf = login(gateway.url, "alice")
    ticket = session.post(f"{gateway.url}/api/v1/console/tickets", headers={"X-CSRF-Token": csrf},
                          json={**TICKET, **fields, "conversation_id": web_conversation_id(sender)}).json()
    return gateway, ticket


def test_operator_files_finds_and_the_chat_rating_reaches_the_resolved_ticket(start_gateway, issue_api) -> None:
    gateway: Gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"])
    run(ask_for_a_person(gateway, SENDER))
    session, csrf = login(gateway.url, "alice")
    console = f"{gateway.url}/api/v1/console"

    filed = session.post(f"{console}/tickets", json={**TICKET, "conversation_id": CONVERSATION},
                         headers={"X-CSRF-Token": csrf})
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["status"] == "received" and ticket["id"].isdigit()

    linked = session.get(f"{console}/conversations/{CONVERSATION}/tickets").json()["items"]
    assert [t["id"] for t in linked] == [ticket["id"]]
    by_phone = session.get(f"{console}/tickets", params={"phone": "13912345678"}).json()["items"]
    assert ticket["id"] in [t["id"] for t in by_phone]
    one = session.get(f"{console}/tickets/{ticket['id']}").json()
    assert one["history"] and one["category"] == "供水供电供气"
    stats = session.get(f"{console}/stats").json()
    assert stats["total"] >= 1 and "by_category" in stats

    # The department resolves it; the user then rates the chat, and the rating lands on the ticket.
    auth = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    resolve(issue_api, ticket["id"], "高新区供电所", "已恢复供电")

    async def rate() -> list[dict]:
        async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={SENDER}") as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "rating", "score": 5, "comment": "处理很快"}))
            frames = []
            while not any(ticket["id"] in f.get("message", {}).get("text", "") for f in frames):
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return frames

    run(rate())
    rated = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket['id']}", headers=auth).json()
    assert rated["rating"]["score"] == 5 and rated["rating"]["comment"] == "处理很快"
    assert rated["status"] == "closed"
    # The history names the reporter and the widget, not the operator account that carried it.
    event = next(e for e in rated["history"] if e["action"] == "rated")
    assert event["actor"] == "reporter" and event["note"] == "5 分 非常满意(网页对话中评价):处理很快"


def test_issue_api_refusals_and_outages_come_back_as_clear_messages(start_gateway, issue_api) -> None:
    gateway: Gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"])
    session, csrf = login(gateway.url, "alice")
    invalid = session.post(f"{gateway.url}/api/v1/console/tickets", json={**TICKET, "category": "不存在的类别"},
                           headers={"X-CSRF-Token": csrf})
    # The field by the name operators know it by, never the API's.
    assert invalid.status_code == 422 and "问题类别" in invalid.json()["detail"]
    assert "category" not in invalid.json()["detail"]
    missing = session.get(f"{gateway.url}/api/v1/console/tickets/99999999")
    assert missing.status_code == 404 and "工单" in missing.json()["detail"]
    for odd in ("²", "١٢٣٤٥٦٧٨"):  # digits to str.isdigit, no ticket number
        assert session.get(f"{gateway.url}/api/v1/console/tickets/{odd}").status_code == 422
    assert session.post(f"{gateway.url}/api/v1/console/tickets", json=TICKET).status_code == 403  # no CSRF token

    down: Gateway = start_gateway()  # its issue API address answers nothing
    session, _ = login(down.url, "alice")
    outage = session.get(f"{down.url}/api/v1/console/stats")
    assert outage.status_code == 502 and "工单系统暂时无法访问" in outage.json()["detail"]


def test_a_chat_rating_given_before_resolution_is_left_to_the_ticket_s_callback(start_gateway, issue_api) -> None:
    sender = "web-rating-later-0123456789"
    gateway, ticket = chat_with_a_ticket(start_gateway, issue_api, sender, description="园区C座路灯不亮")
    assert ticket["status"] == "received"
    widget = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={sender}"

    async def rate() -> list[str]:
        async with websockets.connect(widget) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "rating", "score": 5, "comment": "态度很好"}))
            notices: list[str] = []
            while not any("办结后" in n for n in notices):
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                notices.append(frame.get("message", {}).get("text", ""))
            return notices

    async def hello() -> dict:
        async with websockets.connect(widget) as ws:
            return json.loads(await ws.recv())

    # Rated before the department did anything: the user is told the ticket will be asked about later.
    assert f"工单{ticket['id']}还没有办结，办结后会请您对办理结果进行评价。" in run(rate())
    auth = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    ticket_url = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    resolve(issue_api, ticket["id"], "高新区市政所", "已修复")
    time.sleep(1.5)  # three of the gateway's retry passes: none hands the early score to the ticket
    resolved = requests.get(ticket_url, headers=auth).json()
    assert (resolved["status"], resolved["rating"]) == ("resolved", None)
    # The reporter rates the result itself, through the 回访 form the widget now offers.
    assert [t["ticket_id"] for t in run(hello())["pending_ratings"]] == [ticket["id"]]


def test_the_rating_form_on_the_public_page_shows_no_ones_mobile(start_gateway, issue_api) -> None:
    sender = "web-rating-masked-0123456789"
    gateway, ticket = chat_with_a_ticket(start_gateway, issue_api, sender, description="我是王五，电话13700001111，路灯坏了")
    resolve(issue_api, ticket["id"], "高新区市政所", "系邻居张三（13911112222）反映，已修复；如有疑问请致电029-88881234")
    widget = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={sender}"

    async def hello() -> dict:
        async with websockets.connect(widget) as ws:
            return json.loads(await ws.recv())

    [offered] = run(hello())["pending_ratings"]
    assert offered["result"] == "系邻居张三（139****2222）反映，已修复；如有疑问请致电029-88881234"
    assert "13700001111" not in offered["description"] and "137****1111" in offered["description"]


def test_a_rating_the_issue_api_could_not_take_waits_and_outlives_a_restart(start_gateway, issue_api) -> None:
    sender = "web-rating-outage-0123456789"
    gateway, ticket = chat_with_a_ticket(start_gateway, issue_api, sender)
    auth = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    ticket_url = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    resolve(issue_api, ticket["id"], "高新区供电所", "已恢复供电")

    # The issue API cannot be reached when the reporter rates in the 回访 form: the rating is kept.
    gateway.stop()
    gateway.env["ISSUE_API_URL"] = "http://127.0.0.1:9"
    gateway.start()

    async def rate() -> str:
        async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={sender}") as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "ticket_rating", "ticket_id": ticket["id"], "score": 4, "comment": "很好"}))
            while True:
                text = json.loads(await asyncio.wait_for(ws.recv(), 15)).get("message", {}).get("text", "")
                if ticket["id"] in text:
                    return text

    assert run(rate()) == f"您对工单{ticket['id']}的评价已保存，工单系统恢复后自动记入（工单办结后才能记入评价）。"
    # Back with the issue API: the kept rating reaches the ticket, after a restart too.
    gateway.stop()
    gateway.env["ISSUE_API_URL"] = issue_api.url
    gateway.start()
    deadline = time.monotonic() + 10
    while (rated := requests.get(ticket_url, headers=auth).json())["rating"] is None:
        assert time.monotonic() < deadline, "the kept rating never reached the ticket"
        time.sleep(0.3)
    assert (rated["status"], rated["rating"]["score"], rated["rating"]["comment"]) == ("closed", 4, "很好")
