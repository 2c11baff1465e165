"""The console's and the workbench's audit log, in the gateway's SQLite file: who logged in (or failed
to) and who opened, claimed, answered, handed back and closed which conversation, filed, accepted,
noted, resolved or reviewed which ticket, exported which tickets.

A row says who did what, when, to which conversation, with a short detail (an address, a length, a
ticket number); never a message's text. Details pass through the log masking, so that a phone
number cannot reach the table in clear even by mistake. Light on imports: `python -m bot audit`
reads it without loading the web stack.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from contract.log_masking import mask_text

ACTIONS = ("login", "login_failed", "logout", "opened", "claimed", "replied", "handed_back", "closed",
           "ticket_filed",
           # the department workbench (kind "department"), on tickets: the detail names the ticket
           "ticket_accepted", "ticket_noted", "ticket_resolved", "extension_requested", "return_requested",
           # operators on tickets: review decisions, a rating taken by phone, exports
           "review_approved", "review_rejected", "ticket_rated", "tickets_exported")
MAX_DETAIL_CHARS = 200
MAX_LIMIT = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              REAL NOT NULL,
    kind            TEXT NOT NULL,
    account         TEXT,
    action          TEXT NOT NULL,
    conversation_id TEXT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_conversation ON audit_log(conversation_id, id);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
"""

_FIELDS = ("id", "at", "kind", "account", "action", "conversation_id", "detail")


class AuditLog:
    """Append-only rows (but for `purge_older_than`); safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def record(self, action: str, account: str | None = None, conversation_id: str | None = None,
               detail: str = "", kind: str = "operator", at: float | None = None) -> dict[str, Any]:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        row = {"at": time.time() if at is None else at, "kind": kind, "account": account, "action": action,
               "conversation_id": conversation_id, "detail": mask_text(detail)[:MAX_DETAIL_CHARS]}
        with self._lock:
            row["id"] = self._db.execute(
                "INSERT INTO audit_log (at, kind, account, action, conversation_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (row["at"], kind, account, action, conversation_id, row["detail"]),
            ).lastrowid
        return row

    def entries(self, conversation_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` rows, newest first; only one conversation's with `conversation_id`."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        where, params = ("WHERE conversation_id = ? ", [conversation_id]) if conversation_id else ("", [])
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_FIELDS)} FROM audit_log {where}ORDER BY id DESC LIMIT ?", (*params, limit)
            ).fetchall()
        return [dict(zip(_FIELDS, row)) for row in rows]

    def purge_older_than(self, seconds: float) -> int:
        """Delete the rows older than `seconds`; how many went. (A retention command calls this.)"""
        with self._lock:
            return self._db.execute("DELETE FROM audit_log WHERE at < ?", (time.time() - seconds,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
