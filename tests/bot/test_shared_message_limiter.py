"""The message limit holds across gateways that share Redis, keeps no ids there, and falls back to
each gateway's own count when Redis is away."""
from __future__ import annotations

import asyncio
import socket
import time
import uuid

import pytest
import redis

from bot.router import NOTICE_TOO_FAST, NOTICE_TOO_LONG
from bot.shared_message_limiter import SharedMessageLimiter
from tests.support.aio import run

REDIS_URL = "redis://127.0.0.1:6379/0"
pytestmark = pytest.mark.redis


def two_gateways(per_minute: int = 3, window: float = 60.0, space: str = "messages") -> list[SharedMessageLimiter]:
    secret = f"test-secret-{uuid.uuid4().hex}"  # a deployment of its own: no other test's counts
    return [SharedMessageLimiter(REDIS_URL, secret, space, max_chars=10, per_minute=per_minute, window=window)
            for _ in range(2)]


async def closed(*limiters: SharedMessageLimiter) -> None:
    for limiter in limiters:
        await limiter.close()


def test_a_chat_spread_over_two_gateways_gets_the_limit_once() -> None:
    async def scenario() -> list:
        first, second = two_gateways(per_minute=3)
        try:
            return [await (first if i % 2 else second).admit("web-chat-1", "你好") for i in range(5)]
        finally:
            await closed(first, second)

    assert run(scenario()) == [None, None, None, NOTICE_TOO_FAST, NOTICE_TOO_FAST]


def test_each_chat_has_its_own_count_and_the_window_slides() -> None:
    async def scenario() -> tuple:
        first, second = two_gateways(per_minute=2, window=0.5)
        try:
            filled = [await first.admit("chat-a", "x") for _ in range(3)]
            other = await second.admit("chat-b", "x")
            await asyncio.sleep(0.6)
            later = await second.admit("chat-a", "x")
            return filled, other, later
        finally:
            await closed(first, second)

    filled, other, later = run(scenario())
    assert filled == [None, None, NOTICE_TOO_FAST]
    assert other is None and later is None


def test_too_long_a_message_is_refused_without_counting() -> None:
    async def scenario() -> tuple:
        (limiter, _) = two_gateways(per_minute=1)
        try:
            return await limiter.admit("chat-long", "字" * 11), await limiter.admit("chat-long", "短")
        finally:
            await closed(limiter, _)

    too_long, then = run(scenario())
    assert too_long == NOTICE_TOO_LONG.format(limit=10) and then is None


def test_redis_holds_neither_the_chat_id_nor_the_address() -> None:
    space = f"test-{uuid.uuid4().hex[:8]}"
    sender = "web-0123456789abcdef-secret-id"

    async def scenario() -> None:
        limiters = two_gateways(space=space)
        try:
            await limiters[0].admit(sender, "x")
            await limiters[0].admit("203.0.113.9", "x")
        finally:
            await closed(*limiters)

    run(scenario())
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).keys(f"hotline:limit:{space}:*")]
    assert len(keys) == 2
    assert not any(sender in k or "203.0.113.9" in k for k in keys)
    assert all(redis.Redis.from_url(REDIS_URL).pttl(k) > 0 for k in keys)  # nothing outlives its window


def test_without_redis_each_gateway_still_counts_and_does_not_wait_for_it_every_message() -> None:
    # A Redis that hangs: the port accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]

        async def scenario() -> tuple:
            limiter = SharedMessageLimiter(f"redis://127.0.0.1:{port}/0", "s", "messages", per_minute=2)
            try:
                started = time.monotonic()
                first = await limiter.admit("chat-c", "x")  # waits out the short timeout once
                waited = time.monotonic() - started
                started = time.monotonic()
                rest = [await limiter.admit("chat-c", "x") for _ in range(2)]
                return first, waited, rest, time.monotonic() - started
            finally:
                await limiter.close()

        first, waited, rest, took = run(scenario())
    assert first is None and rest == [None, NOTICE_TOO_FAST]
    assert waited >= 0.4  # it did wait for Redis the first time...
    assert took < 0.4  # ...and then counted here, not after another timeout for each message
