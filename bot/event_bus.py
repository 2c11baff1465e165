"""Live conversation events between gateways: what one gateway's router publishes reaches the browsers
and consoles connected to every other gateway.

With one gateway, `LocalBus` hands each event straight to this process's subscribers. With several
(`make run-scaled`), `RedisBus` does the same and also publishes the event on a Redis channel; each
gateway delivers what the others published. The database stays the truth: an event is only a hint
that something changed, so when the link to Redis breaks and comes back, the bus tells this process's
subscribers to `resync` (their sockets close and the clients reconnect, which reloads their state
from the database) instead of pretending nothing was missed.

Frames on the Redis channel carry an HMAC made with the gateways' shared secret (GATEWAY_SECRET): a
process that can reach Redis but does not know the secret cannot push messages into browsers.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any, Callable, Optional

log = logging.getLogger(__name__)

Deliver = Callable[[str, dict], None]
RESYNC = "resync"
CHANNEL = "hotline:conversation-events"


class LocalBus:
    """Events stay in this process."""

    def __init__(self) -> None:
        self._deliver: Optional[Deliver] = None

    def attach(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, conversation_id: str, event: dict) -> None:
        if self._deliver is not None:
            self._deliver(conversation_id, event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus(LocalBus):
    """Events for this process at once, and through Redis pub/sub for the other gateways."""

    def __init__(self, url: str, secret: str, channel: str = CHANNEL, max_backlog: int = 10_000,
                 retry_s: float = 1.0) -> None:
        super().__init__()
        if not secret:
            raise ValueError("the event bus needs the gateways' shared secret")
        self.url, self.channel, self.retry_s = url, channel, retry_s
        self._key = hashlib.sha256(b"hotline-event-bus\0" + secret.encode()).digest()
        self.origin = secrets.token_hex(8)  # this process: its own events come back and are skipped
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(maxsize=max_backlog)
        self._tasks: list[asyncio.Task] = []
        self.connected = asyncio.Event()

    def publish(self, conversation_id: str, event: dict) -> None:
        super().publish(conversation_id, event)
        body = json.dumps({"origin": self.origin, "conversation_id": conversation_id, "event": event},
                          ensure_ascii=False)
        frame = self._sign(body) + "." + body
        try:
            self._outgoing.put_nowait(frame)
        except asyncio.QueueFull:  # Redis is away for long: the other gateways resync when it is back
            log.warning("event backlog for Redis is full; dropping an event of %s", conversation_id)

    async def start(self) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=15)
        self._tasks = [asyncio.create_task(self._send(), name="event-bus-send"),
                       asyncio.create_task(self._receive(), name="event-bus-receive")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._redis.close()

    async def _send(self) -> None:
        frame: Optional[str] = None
        while True:
            frame = frame or await self._outgoing.get()
            try:
                await self._redis.publish(self.channel, frame)
                frame = None
            except Exception as exc:  # noqa: BLE001 - any Redis or network error: wait and retry
                log.warning("cannot publish an event to Redis (%s); retrying in %gs", exc, self.retry_s)
                await asyncio.sleep(self.retry_s)

    async def _receive(self) -> None:
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    log.info("event bus: subscribed to Redis again; clients reload their state")
                    self._resync()
                first = False
                self.connected.set()
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is not None:
                        self._deliver_remote(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - lost Redis: keep serving locally, reconnect
                if self.connected.is_set():
                    log.warning("event bus lost Redis (%s); live events from other gateways wait", exc)
                self.connected.clear()
                await asyncio.sleep(self.retry_s)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def _deliver_remote(self, data: Any) -> None:
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        signature, _, body = str(data).partition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            log.warning("ignoring an event on the Redis channel without a valid signature")
            return
        try:
            frame = json.loads(body)
            if frame.get("origin") == self.origin:
                return
            conversation_id, event = str(frame["conversation_id"]), frame["event"]
            if not isinstance(event, dict) or "type" not in event:
                raise ValueError("no event type")
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("ignoring a malformed event from Redis: %s", exc)
            return
        if self._deliver is not None:
            self._deliver(conversation_id, event)

    def _resync(self) -> None:
        if self._deliver is not None:
            self._deliver("*", {"type": RESYNC})


def bus_for(redis_url: str, secret: str) -> LocalBus:
    """Redis pub/sub when a URL is configured, else this process only."""
    return RedisBus(redis_url, secret) if redis_url else LocalBus()
