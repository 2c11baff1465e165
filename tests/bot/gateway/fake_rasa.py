"""A stand-in for Rasa's REST channel, for gateway tests of limits/CSRF/HTTP details and the bench.

Browser tests use the real Rasa stack; this only answers predictably:
  text with 人工       -> a handoff payload (as the real bot's request_human does)
  text with 按钮       -> a reply with quick-reply buttons
  text 核实工单 N      -> a lookup reply for ticket N, with the contract's ticket payload ("checked"), as
                         the real bot sends once the conversation proved the ticket is the reporter's
  text 查到工单 N      -> like 核实工单 N, but the ticket payload comes in a message of its own, without
                         text (as a bot turn may send it), before the reply's text
  text with 工单       -> a filing reply for ticket 20261127001, with the contract's ticket payload
  text with 慢         -> answers after 2 seconds
  text 来自哪里        -> "client:<the message metadata's client, or none>"
  anything else        -> "收到：<text>"
Run: python -m tests.bot.gateway.fake_rasa --port N
"""
from __future__ import annotations

import argparse
import asyncio
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

FAKE_TICKET_ID = "20261127001"


async def webhook(request: Request) -> JSONResponse:
    body = await request.json()
    text = str(body.get("message", ""))
    sender = body.get("sender")
    if "人工" in text:
        return JSONResponse([{
            "recipient_id": sender, "text": "好的，正在为您转接人工客服。",
        }, {
            "recipient_id": sender,
            "custom": {"handoff": {"reason": "caller_request", "summary": f"用户说：{text}", "ticket_id": None}},
        }])
    if "按钮" in text:
        return JSONResponse([{"recipient_id": sender, "text": "请选择：", "buttons": [
            {"title": "查询工单", "payload": "/check_ticket"}, {"title": "转人工", "payload": "/request_human"}]}])
    proved = re.fullmatch(r"核实工单 (\d{8,12})", text.strip())
    if proved:
        return JSONResponse([{"recipient_id": sender, "text": "已为您查到该工单。",
                              "custom": {"ticket": {"id": proved.group(1), "action": "checked"}}}])
    found = re.fullmatch(r"查到工单 (\d{8,12})", text.strip())
    if found:
        return JSONResponse([{"recipient_id": sender, "custom": {"ticket": {"id": found.group(1), "action": "checked"}}},
                             {"recipient_id": sender, "text": "已为您查到该工单。"}])
    if "工单" in text:
        return JSONResponse([{"recipient_id": sender, "text": "已为您登记，工单编号：2026 1127 001。",
                              "custom": {"ticket": {"id": FAKE_TICKET_ID, "action": "filed"}}}])
    if text.strip() == "来自哪里":
        client = (body.get("metadata") or {}).get("client")
        return JSONResponse([{"recipient_id": sender, "text": f"client:{client or 'none'}"}])
    if "慢" in text:
        await asyncio.sleep(2)
    return JSONResponse([{"recipient_id": sender, "text": f"收到：{text}"}])


async def status(request: Request) -> JSONResponse:
    return JSONResponse({"model_id": "fake", "model_file": "fake.tar.gz"})


app = Starlette(routes=[Route("/webhooks/rest/webhook", webhook, methods=["POST"]), Route("/status", status)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
