"""Process-wide objects of the action server: settings, the issue client, the outbox, the thread pool.

`blocking()` is how every action calls the issue API: the call runs in a worker thread so that the
action server's single event loop keeps serving other conversations while the API is slow.
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from actions.deliverer import Deliverer
from actions.outbox import Outbox
from actions.settings import Settings
from contract.issue_client import IssueClient
from contract.settings import load_or_exit

T = TypeVar("T")


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return load_or_exit(Settings, "action server")


@functools.lru_cache(maxsize=1)
def client() -> IssueClient:
    s = settings()
    return IssueClient(s.issue_api_url, s.issue_api_token, s.request_timeout, s.max_attempts, s.backoff,
                       budget=s.call_budget)


@functools.lru_cache(maxsize=1)
def outbox() -> Outbox:
    return Outbox(settings().outbox_db)


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings().thread_pool_size, thread_name_prefix="issue-api")


async def blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in the worker pool and await it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), functools.partial(func, *args, **kwargs))


@functools.lru_cache(maxsize=1)
def start_deliverer() -> Deliverer | None:
    """Start the outbox deliverer once per process (unless ACTIONS_OUTBOX_WORKER=0)."""
    s = settings()
    if not s.outbox_worker:
        return None
    return Deliverer(outbox(), client(), s.outbox_interval).start()
