"""Several Rasa processes on one machine take the turns of one conversation one at a time."""
from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.sqlite_lock_store import SQLiteLockStore

PROCESSES = 4
TICKETS_EACH = 25


def _take_tickets(db: str, conversation: str, start, out) -> None:  # type: ignore[no-untyped-def]
    store = SQLiteLockStore(db=db)
    start.wait()
    out.put([store.issue_ticket(conversation, 60) for _ in range(TICKETS_EACH)])


def test_workers_taking_tickets_at_once_never_get_the_same_one(tmp_path):
    # Fresh interpreters: forking this test process, which runs other tests' threads, can hang the child.
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_take_tickets, args=(str(tmp_path / "locks.db"), "c1", start, out))
               for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    tickets = [ticket for _ in workers for ticket in out.get(timeout=120)]
    for worker in workers:
        worker.join(10)
    assert sorted(tickets) == list(range(PROCESSES * TICKETS_EACH))


def test_turns_of_one_conversation_run_one_after_the_other_in_order(tmp_path):
    stores = [SQLiteLockStore(db=str(tmp_path / "locks.db")) for _ in range(3)]  # three workers
    inside: list[str] = []
    overlaps = []

    async def turn(store: SQLiteLockStore, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("c1"):
            if inside:
                overlaps.append((inside[-1], name))
            inside.append(name)
            await asyncio.sleep(0.05)
            inside.remove(name)
            done.append(name)

    done: list[str] = []

    async def scenario() -> None:
        await asyncio.gather(*(turn(stores[i % 3], f"turn{i}", i * 0.005) for i in range(6)))

    asyncio.run(scenario())
    assert overlaps == []
    assert done == [f"turn{i}" for i in range(6)]


def test_other_conversations_do_not_wait(tmp_path):
    store = SQLiteLockStore(db=str(tmp_path / "locks.db"))

    async def scenario() -> float:
        async with store.lock("c1"):
            started = time.perf_counter()
            async with store.lock("c2"):
                return time.perf_counter() - started

    assert asyncio.run(scenario()) < 0.5


def test_a_worker_killed_mid_turn_holds_the_conversation_only_until_its_ticket_expires(tmp_path):
    db = str(tmp_path / "locks.db")
    SQLiteLockStore(db=db).issue_ticket("c1", lock_lifetime=0.3)  # taken, never returned: the worker died
    other = SQLiteLockStore(db=db)

    async def scenario() -> float:
        started = time.perf_counter()
        async with other.lock("c1"):
            return time.perf_counter() - started

    waited = asyncio.run(scenario())
    assert 0.2 < waited < 3


def test_nothing_is_left_behind_after_the_last_turn(tmp_path):
    store = SQLiteLockStore(db=str(tmp_path / "locks.db"))

    async def scenario() -> None:
        async with store.lock("c1"):
            assert store.get_lock("c1") is not None

    asyncio.run(scenario())
    assert store.get_lock("c1") is None
    with sqlite3.connect(tmp_path / "locks.db") as connection:
        assert connection.execute("SELECT count(*) FROM locks").fetchone() == (0,)


def test_an_unusable_file_is_a_lock_error(tmp_path):
    (tmp_path / "locks.db").write_text("this is not a database")
    with pytest.raises(LockError):
        SQLiteLockStore(db=str(tmp_path / "locks.db")).issue_ticket("c1")


def test_rasa_builds_it_from_endpoints_and_allows_several_workers_with_it(tmp_path, monkeypatch):
    config = EndpointConfig(type="bot.rasa_plugins.sqlite_lock_store.SQLiteLockStore", db=str(tmp_path / "l.db"))
    assert isinstance(LockStore.create(config), SQLiteLockStore)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2


def test_a_waiting_turn_only_reads_until_its_turn_comes(tmp_path):
    db = str(tmp_path / "locks.db")
    holder, waiter = SQLiteLockStore(db=db), SQLiteLockStore(db=db)
    writes = []
    original = waiter._transaction

    def counted():  # type: ignore[no-untyped-def]
        writes.append(time.perf_counter())
        return original()

    waiter._transaction = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        async def hold() -> None:
            async with holder.lock("c1"):
                await asyncio.sleep(0.4)

        async def wait() -> None:
            await asyncio.sleep(0.05)
            async with waiter.lock("c1"):
                pass

        await asyncio.gather(hold(), wait())

    asyncio.run(scenario())
    assert len(writes) == 2  # its ticket and its clean-up, none while it waited ~0.35 s
