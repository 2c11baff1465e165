"""Switching an SQLite database to WAL when several processes open it at once.

Every SQLite store here (issue API, tracker and lock stores, outbox, gateway state) runs in WAL mode
so that readers never wait for writers. The switch happens once per file, but every new connection
asks for it, and when several processes open a new file at the same moment (two Sanic workers at
start, the tests' four lock-store workers) the switch of one can fail with "database is locked"
without waiting for the busy timeout. A database already in WAL needs no switch; otherwise the
switch is retried for a while.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

ATTEMPTS = 100
PAUSE_SECONDS = 0.05


def enable_wal(cursor: Any) -> None:
    """Put the database behind `cursor` (a DB-API sqlite3 cursor or connection) in WAL mode."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(PAUSE_SECONDS)
