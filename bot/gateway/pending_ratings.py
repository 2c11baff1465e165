"""End-of-chat ratings that wait for their ticket to be resolved, kept in the gateway's SQLite file.

Users rate when the chat ends, often days before the department resolves the ticket, and the issue
API accepts a rating only once a ticket is resolved. The rating is therefore kept on disk, beside
the conversations, so that a gateway restart in between does not lose it.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_ratings (
    ticket_id       TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    score           INTEGER NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    created_at      REAL NOT NULL
);
"""


@dataclass(frozen=True)
class PendingRating:
    ticket_id: str
    conversation_id: str
    score: int
    comment: str = ""
    created_at: float = 0.0


class PendingRatings:
    """One pending rating per ticket: a later rating of the same ticket replaces the earlier one."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # A second connection to the conversation store's file: WAL mode lets both write, and the
        # timeout rides out the other one's short write transactions.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def keep(self, conversation_id: str, ticket_id: str, score: int, comment: str = "") -> PendingRating:
        rating = PendingRating(ticket_id, conversation_id, int(score), comment or "", time.time())
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending_ratings (ticket_id, conversation_id, score, comment, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (rating.ticket_id, rating.conversation_id, rating.score, rating.comment, rating.created_at),
            )
        return rating

    def all(self) -> list[PendingRating]:
        """Oldest first, so that a long backlog is worked through in the order users rated."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ticket_id, conversation_id, score, comment, created_at FROM pending_ratings "
                "ORDER BY created_at"
            ).fetchall()
        return [PendingRating(*row) for row in rows]

    def drop(self, rating: PendingRating) -> None:
        """Forget `rating`, unless the user rated the ticket again meanwhile (that one stays)."""
        with self._lock:
            self._db.execute("DELETE FROM pending_ratings WHERE ticket_id = ? AND created_at = ?",
                             (rating.ticket_id, rating.created_at))

    def close(self) -> None:
        with self._lock:
            self._db.close()
