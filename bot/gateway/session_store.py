"""Login sessions, kept in the gateway's SQLite file so that logout, idle time and a removed account
end them, and a gateway restart keeps them.

The browser's cookie carries only a random session id; the table keeps its SHA-256, so that someone
who reads the database (or a backup of it) cannot use what they read as a cookie. A session ends:

- at logout (its row is deleted),
- after `idle_s` without a request (`get` with `touch`; pushed WebSocket events do not count),
- `max_age_s` after login, however busy,
- when its account no longer exists (`end_other_accounts`, and `Auth` at each lookup).

Expired rows are deleted when they are looked up and whenever a session starts.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    account    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions(kind, account);
"""


@dataclass(frozen=True)
class Session:
    kind: str
    account: str
    csrf: str
    created_at: float
    last_seen: float


class SessionStore:
    """Sessions in one SQLite table; safe to share between threads."""

    def __init__(self, path: str | Path, idle_s: float, max_age_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.idle_s, self.max_age_s = float(idle_s), float(max_age_s)
        self._clock = clock
        # last_seen is written at most this often per session: a busy console is not a write per request.
        self._touch_every_s = min(60.0, self.idle_s / 10)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # A connection of its own to the conversation store's file (WAL: both write; the timeout rides
        # out the other one's short transactions).
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def start(self, kind: str, account: str) -> tuple[str, Session]:
        """A new session: the id for the cookie (never stored) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(kind, account, secrets.token_urlsafe(24), now, now)
        with self._lock:
            self._delete_expired(now)
            self._db.execute(
                "INSERT INTO sessions (id_hash, kind, account, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(session_id), kind, account, session.csrf, now, now),
            )
        return session_id, session

    def get(self, session_id: str, touch: bool = True) -> Session | None:
        """The live session with this id, or None; with `touch`, the lookup counts as activity."""
        if not session_id:
            return None
        key, now = _hash(session_id), self._clock()
        with self._lock:
            row = self._db.execute(
                "SELECT kind, account, csrf, created_at, last_seen FROM sessions WHERE id_hash = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            session = Session(*row)
            if self._expired(session, now):
                self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))
                return None
            if touch and now - session.last_seen >= self._touch_every_s:
                self._db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, key))
                session = Session(session.kind, session.account, session.csrf, session.created_at, now)
        return session

    def end(self, session_id: str) -> bool:
        if not session_id:
            return False
        with self._lock:
            return self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(session_id),)).rowcount > 0

    def end_other_accounts(self, kind: str, keep: Iterable[str]) -> int:
        """End the sessions of `kind` whose account is not in `keep` (removed from the settings)."""
        keep = list(keep)
        marks = ",".join("?" for _ in keep)
        sql = "DELETE FROM sessions WHERE kind = ?" + (f" AND account NOT IN ({marks})" if keep else "")
        with self._lock:
            return self._db.execute(sql, (kind, *keep)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen >= self.idle_s or now - session.created_at >= self.max_age_s

    def _delete_expired(self, now: float) -> None:
        self._db.execute("DELETE FROM sessions WHERE last_seen <= ? OR created_at <= ?",
                         (now - self.idle_s, now - self.max_age_s))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
