"""回访 on the web: when a conversation opens again, the widget's hello names the conversation's tickets
that are resolved and wait for a rating, and a rating goes to one of those tickets only; a low score
sends the ticket back for rework and shows up on the consoles as an alert."""
from __future__ import annotations

import asyncio
import json
import time

import requests
import websockets

from tests.bot.gateway.conftest import fake_rasa, start_gateway  # noqa: F401 - fixtures
from tests.security.conftest import console_socket, logged_in, session_cookie
from tests.support.aio import run

REPORT = {"company": "西安某某新材料有限公司", "contact_name": "郑", "phone": "13912340021", "category": "市政设施",
          "description": "园区南门积水严重"}


def _ticket(issue_api, resolve: bool) -> str:
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    ticket = requests.post(f"{issue_api.url}/api/v1/tickets", json=REPORT, headers=operator, timeout=10).json()
    steps = [("assign", {"department": "城市管理和综合执法局"})]
    steps += [("resolve", {"result": "已疏通排水管"})] if resolve else []
    for action, body in steps:
        requests.post(f"{issue_api.url}/api/v1/tickets/{ticket['id']}/{action}", json=body, headers=operator,
                      timeout=10).raise_for_status()
    return ticket["id"]


async def _frames_until(ws, done, timeout: float = 10) -> list[dict]:
    frames: list[dict] = []
    while not frames or not done(frames[-1]):
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return frames


def test_the_hello_offers_the_conversation_s_resolved_tickets_and_a_rating_reaches_only_those(
        start_gateway, issue_api) -> None:  # noqa: F811
    own, still_open, stranger = _ticket(issue_api, True), _ticket(issue_api, False), _ticket(issue_api, True)
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"],
                            GATEWAY_REVIEW_POLL_SECONDS="600")
    chat = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender=reporter-0123456789"
    operator, _ = logged_in(gateway.url, "alice")

    async def scenario() -> dict:
        async with websockets.connect(chat) as ws:
            first = json.loads(await ws.recv())
            for ticket_id in (own, still_open):  # the bot proved both to be this reporter's
                await ws.send(json.dumps({"type": "message", "text": f"核实工单 {ticket_id}"}))
                await _frames_until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
        async with websockets.connect(chat) as ws:
            hello = json.loads(await ws.recv())
            # Not this conversation's ticket: refused, nothing rated.
            await ws.send(json.dumps({"type": "ticket_rating", "ticket_id": stranger, "score": 1}))
            refused = await _frames_until(ws, lambda f: f["type"] == "notice")
            async with console_socket(gateway, session_cookie(operator)) as console:
                await _frames_until(console, lambda f: f["type"] == "alerts")
                await ws.send(json.dumps({"type": "ticket_rating", "ticket_id": own, "score": 2, "comment": "还在积水"}))
                rated = await _frames_until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "system")
                alerts = await _frames_until(console, timeout=15, done=lambda f: f["type"] == "alerts" and any(
                    a["ticket_id"] == own for a in f["items"]))
        async with websockets.connect(chat) as ws:
            again = json.loads(await ws.recv())
        async with websockets.connect(chat.replace("reporter-", "somebody-")) as ws:
            other = json.loads(await ws.recv())
        return {"first": first, "hello": hello, "refused": refused[-1], "rated": rated[-1], "alerts": alerts[-1],
                "again": again, "other": other}

    got = run(scenario())
    assert got["first"]["pending_ratings"] == []
    [offered] = got["hello"]["pending_ratings"]  # the resolved one, not the one still being handled
    assert offered["ticket_id"] == own and offered["result"] == "已疏通排水管" and offered["category"] == "市政设施"
    # The score was fine: the notice says why nothing was rated instead of asking for 1 to 5 stars.
    assert "没有找到该工单" in got["refused"]["text"] and "1到5星" not in got["refused"]["text"]
    assert own in got["rated"]["message"]["text"] and "重新办理" in got["rated"]["message"]["text"]
    assert got["again"]["pending_ratings"] == [] and got["other"]["pending_ratings"] == []
    [alert] = [a for a in got["alerts"]["items"] if a["ticket_id"] == own]
    assert alert["type"] == "low_rating" and alert["score"] == 2 and alert["comment"] == "还在积水"

    operator_token = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    rated = requests.get(f"{issue_api.url}/api/v1/tickets/{own}", headers=operator_token, timeout=10).json()
    assert rated["status"] == "in_progress" and rated["rework_count"] == 1 and rated["rating"]["score"] == 2
    untouched = requests.get(f"{issue_api.url}/api/v1/tickets/{stranger}", headers=operator_token, timeout=10).json()
    assert untouched["status"] == "resolved" and untouched["rating"] is None


def test_a_score_given_in_another_chat_before_resolution_never_decides_the_ticket(
        start_gateway, issue_api) -> None:  # noqa: F811
    ticket = _ticket(issue_api, resolve=False)
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"],
                            GATEWAY_REVIEW_POLL_SECONDS="600", GATEWAY_RATING_RETRY_SECONDS="0.5")
    chat = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender="
    reporter, other = chat + "reporter-0123456789", chat + "somebody-0123456789"

    async def prove(url: str, rate: bool) -> None:
        async with websockets.connect(url) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": f"核实工单 {ticket}"}))
            await _frames_until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
            if rate:  # the ticket is still being handled: the end-of-chat score is not kept for it
                await ws.send(json.dumps({"type": "rating", "score": 5}))
                await _frames_until(ws, lambda f: f["type"] == "message" and "办结后" in f["message"]["text"])

    async def hello(url: str) -> dict:
        async with websockets.connect(url) as ws:
            return json.loads(await ws.recv())

    async def rate_in_form(url: str) -> str:
        async with websockets.connect(url) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "ticket_rating", "ticket_id": ticket, "score": 2, "comment": "还在积水"}))
            frames = await _frames_until(ws, lambda f: f["type"] == "message" and ticket in f["message"]["text"])
            return frames[-1]["message"]["text"]

    run(prove(reporter, rate=False))
    run(prove(other, rate=True))
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    ticket_url = f"{issue_api.url}/api/v1/tickets/{ticket}"
    requests.post(f"{ticket_url}/resolve", json={"result": "已疏通排水管"}, headers=operator,
                  timeout=10).raise_for_status()
    time.sleep(1.5)  # the gateway's retry passes run meanwhile: nothing rates the resolved ticket
    assert requests.get(ticket_url, headers=operator, timeout=10).json()["rating"] is None

    assert [t["ticket_id"] for t in run(hello(reporter))["pending_ratings"]] == [ticket]
    assert "重新办理" in run(rate_in_form(reporter))  # the reporter's own judgement of the result
    rated = requests.get(ticket_url, headers=operator, timeout=10).json()
    assert (rated["status"], rated["rating"]["score"]) == ("in_progress", 2)
    assert run(hello(other))["pending_ratings"] == []  # rated: nobody is offered the form any more


def test_reconnecting_in_a_loop_cannot_multiply_into_ticket_lookups(start_gateway, issue_api) -> None:  # noqa: F811
    """Each greeting looks the chat's tickets up for the rating form: one address gets so many such
    greetings a minute, then is greeted without the form, and other addresses are not affected."""
    resolved = _ticket(issue_api, True)
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"],
                            GATEWAY_REVIEW_POLL_SECONDS="600", GATEWAY_RATING_LOOKUPS_PER_ADDRESS="2")
    chat = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender=reconnect-0123456789"
    remote = {"X-Forwarded-For": "203.0.113.7"}  # a user behind the local proxy

    async def offered(headers: dict) -> list[str]:
        async with websockets.connect(chat, extra_headers=headers) as ws:
            return [r["ticket_id"] for r in json.loads(await ws.recv())["pending_ratings"]]

    async def scenario() -> list[list[str]]:
        async with websockets.connect(chat, extra_headers=remote) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": f"核实工单 {resolved}"}))
            await _frames_until(ws, lambda f: f["type"] == "message" and f["message"]["role"] == "bot")
        return [await offered(remote) for _ in range(4)] + [await offered({"X-Forwarded-For": "198.51.100.9"})]

    assert run(scenario()) == [[resolved], [resolved], [], [], [resolved]]
    assert "no pending ratings looked up" in gateway.log.read_text(encoding="utf-8")
