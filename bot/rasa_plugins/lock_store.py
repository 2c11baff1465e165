"""A Redis lock store that is safe when several Rasa servers share one conversation.

Rasa 3.6's RedisLockStore issues and returns tickets by reading the conversation's lock from Redis,
changing it in memory and writing it back. Inside one server that is atomic (one event loop, a
synchronous client), but two servers taking turns of the same conversation at the same moment can
both read the same lock, both believe they are first, and process the turns in parallel: the SQL
tracker store then keeps only one of them (tests/test_scale_out.py lost 2 of 6 turns that way).
Each read-modify-write here runs under a short Redis mutex (redis-py's `Lock`: SET NX with a
timeout, released by a Lua script), so tickets are issued and returned one at a time.

Used by endpoints.scale.yml:  lock_store: {type: bot.rasa_plugins.lock_store.AtomicRedisLockStore, ...}
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# The critical sections are three Redis round trips; these bounds only matter if a server dies
# inside one (the mutex then expires) or Redis is overloaded.
MUTEX_TIMEOUT_SECONDS = 10.0
MUTEX_WAIT_SECONDS = 30.0


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        with self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_TIMEOUT_SECONDS,
            blocking_timeout=MUTEX_WAIT_SECONDS,
            sleep=0.005,
        ):
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)
