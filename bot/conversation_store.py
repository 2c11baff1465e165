"""SQLite persistence of conversations, their handoff state and their transcripts.

The gateway keeps no conversation only in memory: the queue an operator sees after a restart, and the
history a reconnecting browser receives, are read back from this file. Writes are small single-row
statements in WAL mode (tens of microseconds), so the router calls them directly instead of paying a
thread hop per message.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

STATES = ("bot", "waiting", "operator", "closed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    phone           TEXT,
    state           TEXT NOT NULL,
    operator        TEXT,
    handoff_reason  TEXT,
    handoff_summary TEXT,
    ticket_ids      TEXT NOT NULL DEFAULT '[]',
    waiting_since   REAL,
    rating          INTEGER,
    rating_comment  TEXT,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_state ON conversations(state);
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    role            TEXT NOT NULL,
    text            TEXT NOT NULL,
    extra           TEXT NOT NULL DEFAULT '{}',
    at              REAL NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
"""

_CONVERSATION_FIELDS = (
    "id", "channel", "phone", "state", "operator", "handoff_reason", "handoff_summary", "ticket_ids",
    "waiting_since", "rating", "rating_comment", "last_seq", "created_at", "updated_at",
)


@dataclass
class Conversation:
    """One sender's conversation: who answers it now (state/operator) and what the handoff said."""

    id: str
    channel: str
    phone: str | None = None
    state: str = "bot"
    operator: str | None = None
    handoff_reason: str | None = None
    handoff_summary: str | None = None
    ticket_ids: list[str] = field(default_factory=list)
    waiting_since: float | None = None
    rating: int | None = None
    rating_comment: str | None = None
    last_seq: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0


class ConversationStore:
    """Conversations and messages in one SQLite file; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a crash of the gateway process (only a power cut may lose the
        # last commits), at a fraction of FULL's fsync cost.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # conversations ------------------------------------------------------------------------------

    def get(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return _conversation(row) if row else None

    def create(self, conversation_id: str, channel: str, phone: str | None = None) -> Conversation:
        now = time.time()
        conv = Conversation(id=conversation_id, channel=channel, phone=phone, created_at=now, updated_at=now)
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO conversations (id, channel, phone, state, created_at, updated_at) "
                "VALUES (?, ?, ?, 'bot', ?, ?)",
                (conv.id, conv.channel, conv.phone, now, now),
            )
        return self.get(conversation_id) or conv

    def save(self, conv: Conversation) -> None:
        """Write every field but the message counter, which only `append` moves."""
        if conv.state not in STATES:
            raise ValueError(f"unknown state {conv.state!r}")
        conv.updated_at = time.time()
        with self._lock:
            self._db.execute(
                "UPDATE conversations SET channel=?, phone=?, state=?, operator=?, handoff_reason=?, "
                "handoff_summary=?, ticket_ids=?, waiting_since=?, rating=?, rating_comment=?, updated_at=? "
                "WHERE id=?",
                (
                    conv.channel, conv.phone, conv.state, conv.operator, conv.handoff_reason,
                    conv.handoff_summary, json.dumps(conv.ticket_ids), conv.waiting_since, conv.rating,
                    conv.rating_comment, conv.updated_at, conv.id,
                ),
            )

    def in_states(self, states: Iterable[str]) -> list[Conversation]:
        states = list(states)
        marks = ",".join("?" for _ in states)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM conversations WHERE state IN ({marks}) ORDER BY COALESCE(waiting_since, created_at)",
                states,
            ).fetchall()
        return [_conversation(row) for row in rows]

    # messages -----------------------------------------------------------------------------------

    def append(self, conversation_id: str, role: str, text: str, extra: dict[str, Any] | None = None) -> dict:
        """Store one message under the next sequence number and return it as the API shows it."""
        now = time.time()
        extra = {k: v for k, v in (extra or {}).items() if v is not None}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq",
                    (now, conversation_id),
                ).fetchone()
                if row is None:
                    raise KeyError(conversation_id)
                seq = row[0]
                self._db.execute(
                    "INSERT INTO messages (conversation_id, seq, role, text, extra, at) VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation_id, seq, role, text, json.dumps(extra, ensure_ascii=False), now),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return {"seq": seq, "role": role, "text": text, "at": now, **extra}

    def messages(self, conversation_id: str, after: int = 0, limit: int | None = None) -> list[dict]:
        sql = "SELECT seq, role, text, extra, at FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq"
        params: list[Any] = [conversation_id, after]
        if limit is not None:
            sql = (
                "SELECT * FROM (SELECT seq, role, text, extra, at FROM messages WHERE conversation_id = ? "
                "AND seq > ? ORDER BY seq DESC LIMIT ?) ORDER BY seq"
            )
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            {"seq": r["seq"], "role": r["role"], "text": r["text"], "at": r["at"], **json.loads(r["extra"])}
            for r in rows
        ]


    def purge_older_than(self, seconds: float) -> int:
        """Forget conversations untouched for `seconds` (transcripts included); a conversation an
        operator still has open stays. Returns how many conversations went."""
        cutoff = time.time() - seconds
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = [row[0] for row in self._db.execute(
                    "SELECT id FROM conversations WHERE updated_at < ? AND state IN ('bot', 'closed')", (cutoff,))]
                self._db.executemany("DELETE FROM messages WHERE conversation_id = ?", [(i,) for i in ids])
                self._db.executemany("DELETE FROM conversations WHERE id = ?", [(i,) for i in ids])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(ids)


def _conversation(row: sqlite3.Row) -> Conversation:
    data = {name: row[name] for name in _CONVERSATION_FIELDS}
    data["ticket_ids"] = json.loads(data["ticket_ids"] or "[]")
    return Conversation(**data)
