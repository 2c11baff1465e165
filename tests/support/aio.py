"""Run a coroutine from a synchronous test, whatever else runs in this thread.

Playwright's sync API keeps an event loop running in the main thread for the whole session (the
browser fixture is session-scoped), and asyncio.run refuses to start inside a running loop; a
thread of its own always has none.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
