"""Rasa's conversation lock in an SQLite file, so that several Rasa processes on one machine (Sanic
workers, `RASA_WORKERS`) take the turns of one conversation one at a time.

Rasa's in-memory lock store is per process, and Rasa refuses more than one Sanic worker with it;
the Redis one needs a Redis server, which the embedded default does not. This keeps Rasa's
ticket-lock semantics (`TicketLock`: tickets issued in order, served in order, expiring after their
lifetime) and stores each conversation's lock as the same JSON the Redis store writes. Every
read-modify-write (issue a ticket, drop expired ones, finish serving) is one `BEGIN IMMEDIATE`
transaction, which SQLite runs one at a time across processes: no two workers can be issued the
same ticket, which is the race Rasa's own read-then-write code has (see lock_store.py).

endpoints.yml:  lock_store: {type: bot.rasa_plugins.sqlite_lock_store.SQLiteLockStore, db: ...}
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from contract.sqlite_wal import enable_wal

BUSY_TIMEOUT_SECONDS = 30.0
# How often a turn that waits for the one before it looks again (Rasa's default is a whole second:
# a second message typed quickly would wait that long for nothing).
WAIT_STEP_SECONDS = 0.02


class SQLiteLockStore(LockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, db: str | None = None,
                 **_ignored: Any) -> None:
        if endpoint_config is not None:
            db = db or endpoint_config.kwargs.get("db") or endpoint_config.url
        if not db:
            raise ValueError("lock_store: the SQLite lock store needs `db:` (a file path)")
        self.path = Path(db)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._guard = threading.Lock()

    # -- storage --------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """One connection per process (a forked Sanic worker opens its own)."""
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                         check_same_thread=False)
            enable_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)")
            try:
                os.chmod(self.path, 0o600)
            except OSError:
                pass
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: other processes' writers wait until it ends."""
        with self._guard:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @staticmethod
    def _read(connection: sqlite3.Connection, conversation_id: str) -> Optional[TicketLock]:
        row = connection.execute("SELECT lock FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    @staticmethod
    def _write(connection: sqlite3.Connection, lock: TicketLock) -> None:
        connection.execute("INSERT INTO locks (conversation_id, lock) VALUES (?, ?) "
                           "ON CONFLICT(conversation_id) DO UPDATE SET lock = excluded.lock",
                           (lock.conversation_id, lock.dumps()))

    # -- LockStore's storage methods --------------------------------------------------------------
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        with self._guard:
            return self._read(self._connect(), conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))

    def save_lock(self, lock: TicketLock) -> None:
        with self._transaction() as connection:
            self._write(connection, lock)

    # -- each read-modify-write in one transaction ----------------------------------------------------
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            with self._transaction() as connection:
                lock = self._read(connection, conversation_id) or self.create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self._write(connection, lock)
                return ticket
        except sqlite3.Error as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets. A waiting turn calls this every WAIT_STEP_SECONDS: it only reads,
        unless a ticket did expire (a worker died mid-turn), so waiters do not queue for the write lock."""
        lock = self.get_lock(conversation_id)
        if lock is None or not any(ticket.has_expired() for ticket in lock.tickets):
            return
        with self._transaction() as connection:
            lock = self._read(connection, conversation_id)
            if lock:
                lock.remove_expired_tickets()
                self._write(connection, lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish serving the ticket; drop the lock when nobody else waits for it."""
        with self._transaction() as connection:
            lock = self._read(connection, conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self._write(connection, lock)
            else:
                connection.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        return await super()._acquire_lock(conversation_id, ticket, min(wait_time_in_seconds, WAIT_STEP_SECONDS))
