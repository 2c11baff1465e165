"""Tickets for one conversation stay unique when several Rasa servers issue them at once."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import redis
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.lock_store import AtomicRedisLockStore

SERVERS = 8
TICKETS_EACH = 15


@pytest.fixture(autouse=True)
def redis_running():
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not running on 127.0.0.1:6379 ({exc}); start it and rerun")


def _issue_from_many_servers(make_store) -> list[int]:
    """Each thread is one Rasa server with its own connection, all taking tickets together."""
    conversation = f"race-{uuid.uuid4().hex}"
    stores = [make_store() for _ in range(SERVERS)]
    start = Barrier(SERVERS)

    def server(store):
        start.wait()
        return [store.issue_ticket(conversation, 60) for _ in range(TICKETS_EACH)]

    with ThreadPoolExecutor(SERVERS) as pool:
        tickets = [t for batch in pool.map(server, stores) for t in batch]
    stores[0].delete_lock(conversation)
    return tickets


def test_concurrent_servers_never_get_the_same_ticket():
    tickets = _issue_from_many_servers(lambda: AtomicRedisLockStore(host="127.0.0.1", db=1, key_prefix="test"))
    assert len(tickets) == SERVERS * TICKETS_EACH
    assert len(set(tickets)) == len(tickets)


def test_rasa_stock_store_can_hand_out_one_ticket_twice():
    """Why the atomic store exists: the stock one races (checked, not assumed)."""
    duplicates = 0
    for _ in range(5):
        tickets = _issue_from_many_servers(lambda: RedisLockStore(host="127.0.0.1", db=1, key_prefix="test"))
        duplicates += len(tickets) - len(set(tickets))
        if duplicates:
            break
    assert duplicates > 0


def test_built_from_the_endpoint_config_as_rasa_does():
    config = EndpointConfig(url="127.0.0.1", type="bot.rasa_plugins.lock_store.AtomicRedisLockStore", port=6379, db=1,
                            key_prefix="hotline")
    store = AtomicRedisLockStore(endpoint_config=config)
    conversation = f"cfg-{uuid.uuid4().hex}"
    first = store.issue_ticket(conversation, 60)
    assert store.issue_ticket(conversation, 60) == first + 1
    store.cleanup(conversation, first)
    store.cleanup(conversation, first + 1)
    assert store.get_lock(conversation) is None
    assert store.key_prefix.startswith("hotline:")
