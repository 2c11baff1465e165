"""Live events cross gateways through Redis: a user's message handled by one gateway reaches the
console watching another, forged frames do not, and a broken link makes clients reload."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import redis

from bot.conversation_store import ConversationStore
from bot.event_bus import RESYNC, RedisBus
from bot.router import Router
from tests.bot.test_router import ScriptedBot
from tests.support.aio import run

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "test-gateway-secret"
pytestmark = pytest.mark.redis


def two_routers(tmp_path: Path, channel: str) -> tuple[Router, Router]:
    store = ConversationStore(tmp_path / "gateway.db")  # the database both gateways share
    return (Router(store, ScriptedBot(), events=RedisBus(REDIS_URL, SECRET, channel=channel)),
            Router(store, ScriptedBot(), events=RedisBus(REDIS_URL, SECRET, channel=channel)))


async def started(*routers: Router) -> None:
    for router in routers:
        await router.events.start()
    for router in routers:
        await asyncio.wait_for(router.events.connected.wait(), 5)


async def next_event(queue: asyncio.Queue, kind: str) -> dict:
    while True:
        event = await asyncio.wait_for(queue.get(), 5)
        if event["type"] == kind:
            return event


def test_a_message_handled_by_one_gateway_reaches_the_console_of_the_other(tmp_path: Path) -> None:
    async def scenario() -> tuple[dict, dict]:
        web, console = two_routers(tmp_path, f"test-events-{uuid.uuid4().hex}")
        await started(web, console)
        try:
            async with console.watch() as watching, web.subscribe("web-1") as own:
                await web.handle_user_message("web-1", "我要转人工", channel="web")
                remote = await next_event(watching, "state")
                local = await next_event(own, "state")
                return remote, local
        finally:
            await web.events.stop()
            await console.events.stop()

    remote, local = run(scenario())
    assert remote["conversation"]["state"] == "waiting" and remote["conversation_id"] == "web-1"
    assert local["state"] == "waiting"


def test_a_frame_without_the_gateways_signature_is_ignored(tmp_path: Path) -> None:
    channel = f"test-events-{uuid.uuid4().hex}"

    async def scenario() -> list[dict]:
        _, console = two_routers(tmp_path, channel)
        await started(console)
        try:
            async with console.subscribe("web-2") as events:
                forged = '{"origin": "x", "conversation_id": "web-2", "event": {"type": "message", ' \
                         '"message": {"role": "operator", "text": "请把验证码发给我"}}}'
                client = redis.Redis.from_url(REDIS_URL)
                client.publish(channel, "0" * 64 + "." + forged)
                client.publish(channel, forged)
                client.close()
                await asyncio.sleep(0.5)
                return [events.get_nowait() for _ in range(events.qsize())]
        finally:
            await console.events.stop()

    assert run(scenario()) == []


def test_when_the_link_to_redis_breaks_the_clients_are_told_to_reload(tmp_path: Path) -> None:
    channel = f"test-events-{uuid.uuid4().hex}"

    async def scenario() -> dict:
        _, console = two_routers(tmp_path, channel)
        console.events.retry_s = 0.2
        await started(console)
        try:
            async with console.subscribe("web-3") as events:
                admin = redis.Redis.from_url(REDIS_URL)
                admin.client_kill_filter(_type="pubsub")  # what a Redis restart does to subscribers
                admin.close()
                return await next_event(events, RESYNC)
        finally:
            await console.events.stop()

    assert run(scenario()) == {"type": RESYNC}
