"""Finding 11: a chat frame with deeply nested JSON or a score of 1e400 killed that socket with a
traceback. Every bad frame now gets a clear notice and the connection is kept."""
from __future__ import annotations

import asyncio
import json

import websockets

from tests.support.aio import run

from tests.bot.gateway.conftest import Gateway, fake_rasa, gateway, start_gateway  # noqa: F401 - fixtures


def test_bad_frames_get_a_notice_and_the_socket_keeps_working(gateway: Gateway) -> None:  # noqa: F811
    bad_frames = [
        "[" * 100_000 + "]" * 100_000,                          # deeper than the JSON parser's stack
        '{"type": "message", "payload": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"type": "rating", "score": 1e400}',                   # infinity
        '{"type": "rating", "score": 1' + "0" * 5000 + "}",      # an integer too long to read
        '{"type": "rating", "score": true}',
        '{"type": "rating", "score": "5"}',
        '{"type": "rating", "score": 5, "comment": {"x": 1}}',
        '{"type": "message", "text": ["列表"]}',
        '{"type": ["message"]}',
        '"just a string"',
        "null",
    ]

    async def scenario() -> list[dict]:
        url = f"{gateway.url.replace('http', 'ws')}/ws/chat?sender=fuzz-0123456789abcdef"
        async with websockets.connect(url, max_size=None) as ws:
            await ws.recv()
            notices = []
            for frame in bad_frames:
                await ws.send(frame[:60_000])
                notices.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            await ws.send(json.dumps({"type": "message", "text": "你好"}))
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if reply["type"] == "message" and reply["message"]["role"] == "bot":
                    notices.append(reply)
                    return notices

    frames = run(scenario())
    assert all(f["type"] == "notice" and f["text"] for f in frames[:-1]), frames
    assert frames[-1]["message"]["text"] == "收到：你好"  # the same socket still chats
    log = gateway.log.read_text(encoding="utf-8")
    assert "Traceback" not in log
