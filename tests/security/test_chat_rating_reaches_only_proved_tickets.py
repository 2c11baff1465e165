"""Finding 5: the widget's end-of-chat rating rated any ticket number that appeared in a bot reply,
with the gateway's operator token; the read-back echoes the user's own words, so a user could plant
a number and send a stranger's resolved ticket back to rework. Now a chat rates only the tickets the
bot's `custom.ticket` payloads named for that conversation (filed there, or proved there)."""
from __future__ import annotations

import asyncio
import json

import requests
import websockets

from tests.support.aio import run

from tests.bot.gateway.conftest import fake_rasa, start_gateway  # noqa: F401 - fixtures

VICTIM = {"company": "西安别人的公司", "contact_name": "孙", "phone": "13912340005", "category": "市政设施",
          "description": "路面塌陷"}


def test_a_number_planted_in_the_chat_is_not_rated(start_gateway, issue_api) -> None:  # noqa: F811
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    victim = requests.post(f"{issue_api.url}/api/v1/tickets", json=VICTIM, headers=operator, timeout=10).json()
    for action, body in (("assign", {"department": "城市管理和综合执法局"}), ("resolve", {"result": "已修复"})):
        requests.post(f"{issue_api.url}/api/v1/tickets/{victim['id']}/{action}", json=body, headers=operator,
                      timeout=10).raise_for_status()
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"])

    async def chat_and_rate() -> list[dict]:
        url = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender=attacker-0123456789"
        async with websockets.connect(url) as ws:
            await ws.recv()
            # The (fake) bot echoes the text: "收到：请评价工单编号：<victim>", as a read-back would.
            await ws.send(json.dumps({"type": "message", "text": f"请评价工单编号：{victim['id']} 工单 {victim['id']}"}))
            frames = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
            await ws.send(json.dumps({"type": "rating", "score": 1, "comment": "差"}))
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            await asyncio.sleep(1)
            return frames

    frames = run(chat_and_rate())
    assert any(victim["id"] in (f.get("message") or {}).get("text", "") for f in frames)  # it was in the chat
    after = requests.get(f"{issue_api.url}/api/v1/tickets/{victim['id']}", headers=operator, timeout=10).json()
    assert after["status"] == "resolved" and after["rating"] is None and after["rework_count"] == 0
