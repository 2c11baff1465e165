"""The per-chat message limit (and the per-address new-chat limit) counted in Redis, for several
gateways behind one proxy.

`MessageLimiter` counts in this process. A chat whose sockets the proxy spreads over N gateways
would get N times the limit, and an address opening new chats N times as many. Here every gateway
counts in one Redis sorted set per key (a sliding window, one atomic script per message), so the
limit holds across gateways.

Redis is a guard here, not a dependency of the chat: when it does not answer within a short timeout
the gateway falls back to its own count (the limit then holds per gateway, as before) and tries Redis
again a few seconds later, so an outage adds no delay to each message. Keys are keyed hashes of the
sender or address (with GATEWAY_SECRET): Redis holds no conversation id and no client address.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any, Callable

from bot.router import NOTICE_TOO_FAST, MessageLimiter

log = logging.getLogger(__name__)

# Drop what fell out of the window, refuse when full, else count this one. Redis' own clock, so
# gateways on machines whose clocks differ still share one window.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""
REDIS_TIMEOUT_S = 0.5  # a message waits at most this long for the shared count
RETRY_AFTER_S = 5.0  # after a failure, count locally this long before asking Redis again


class SharedMessageLimiter(MessageLimiter):
    """`MessageLimiter` whose per-minute count lives in Redis; `check` (sync) still counts locally."""

    def __init__(self, redis_url: str, secret: str, space: str, max_chars: int = 500, per_minute: int = 20,
                 window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(max_chars=max_chars, per_minute=per_minute, clock=clock, window=window)
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(redis_url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                                socket_timeout=REDIS_TIMEOUT_S)
        self._script = self._redis.register_script(_ADMIT)
        self._key = hashlib.sha256(b"hotline-message-limit\0" + secret.encode()).digest()
        self._space = space
        self._local_until = 0.0  # after a Redis failure: count locally until then

    async def admit(self, sender: str, text: str) -> str | None:
        if (too_long := self.too_long(text)) is not None:
            return too_long
        if self._clock() < self._local_until:
            return self.check(sender, text)
        try:
            admitted = await self._script(keys=[self._redis_key(sender)],
                                          args=[int(self.window * 1000), self.per_minute, secrets.token_hex(8)])
        except Exception as exc:  # noqa: BLE001 - any Redis or network error: count here for a while
            log.warning("shared %s limit unavailable (%s); counting in this gateway for %gs", self._space,
                        exc, RETRY_AFTER_S)
            self._local_until = self._clock() + RETRY_AFTER_S
            return self.check(sender, text)
        return None if admitted else NOTICE_TOO_FAST

    async def close(self) -> None:
        await self._redis.close()

    def _redis_key(self, sender: str) -> str:
        digest = hmac.new(self._key, sender.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
        return f"hotline:limit:{self._space}:{digest}"
