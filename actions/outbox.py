"""A durable outbox (SQLite) so that no report is lost while the issue API is unreachable.

Every submission is written here first, with its Idempotency-Key, and only then sent. The
deliverer (actions/deliverer.py) resends whatever is still pending until the API takes it; the key
makes a resend after a crash or timeout land on the same ticket, so each report is filed once.

Operators see what waits with:  python -m actions.outbox list [--all]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from contract.phones import mask_phone

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    created_at      REAL NOT NULL,
    delivered_at    REAL,
    ticket_id       TEXT,
    last_error      TEXT
)
"""


@dataclass
class Entry:
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: float
    ticket_id: Optional[str]
    last_error: Optional[str]


class Outbox:
    """Thread-safe: one SQLite connection kept open (WAL, synchronous=NORMAL), one operation at a time.

    Kept open because in WAL mode the last connection to close checkpoints the log with an fsync:
    a connection per operation made filing a ticket wait for three of them. NORMAL keeps every
    recorded submission across a crash of the process (only a power cut can lose the last ones), as
    the issue API's own database does.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._connect() as db:
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The connection, inside a transaction (committed on success), for this thread alone."""
        with self._lock, self._db:
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, key: str, payload: dict[str, Any], hold_seconds: float = 0.0) -> None:
        """Record a submission; `hold_seconds` keeps the deliverer away while the caller's own
        attempt is in flight. Adding the same key twice keeps the first record."""
        now = time.time()
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (idempotency_key, payload, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?)",
                (key, json.dumps(payload, ensure_ascii=False), now + hold_seconds, now),
            )

    def due(self, limit: int = 20) -> list[Entry]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE status='pending' AND next_attempt_at <= ?"
                " ORDER BY created_at LIMIT ?",
                (time.time(), limit),
            ).fetchall()
        return [self._entry(row) for row in rows]

    def delivered(self, key: str, ticket_id: str) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE outbox SET status='delivered', ticket_id=?, delivered_at=?, attempts=attempts+1,"
                " last_error=NULL WHERE idempotency_key=?",
                (ticket_id, time.time(), key),
            )

    def retry_later(self, key: str, error: str, max_delay: float = 300.0) -> None:
        with self._lock, self._connect() as db:
            (attempts,) = db.execute(
                "SELECT attempts FROM outbox WHERE idempotency_key=?", (key,)
            ).fetchone() or (0,)
            delay = min(max_delay, 2 ** min(attempts, 8))
            db.execute(
                "UPDATE outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?"
                " WHERE idempotency_key=?",
                (error, time.time() + delay, key),
            )

    def failed(self, key: str, error: str) -> None:
        """The API rejected the content (422): a person must look at it; never resent."""
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE outbox SET status='failed', attempts=attempts+1, last_error=?"
                " WHERE idempotency_key=?",
                (error, key),
            )

    def purge_delivered_older_than(self, seconds: float) -> int:
        """Drop delivered submissions (their payload holds names and phones) once the issue API has
        had them for `seconds`; pending and failed ones stay until someone has dealt with them."""
        with self._lock, self._connect() as db:
            cursor = db.execute("DELETE FROM outbox WHERE status='delivered' AND delivered_at < ?",
                                (time.time() - seconds,))
        return cursor.rowcount

    def get(self, key: str) -> Optional[Entry]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM outbox WHERE idempotency_key=?", (key,)).fetchone()
        return self._entry(row) if row else None

    def entries(self, include_delivered: bool = False) -> list[Entry]:
        query = "SELECT * FROM outbox"
        if not include_delivered:
            query += " WHERE status != 'delivered'"
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY created_at").fetchall()
        return [self._entry(row) for row in rows]

    @staticmethod
    def _entry(row: tuple) -> Entry:
        key, payload, status, attempts, _next, created, _delivered, ticket_id, error = row
        return Entry(key, json.loads(payload), status, attempts, created, ticket_id, error)


def _print_entries(outbox: Outbox, include_delivered: bool) -> None:
    entries = outbox.entries(include_delivered)
    if not entries:
        print("outbox is empty" if include_delivered else "nothing waits in the outbox")
        return
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created_at))
        payload = entry.payload
        print(
            f"{when}  {entry.status:<9} attempts={entry.attempts:<3} ticket={entry.ticket_id or '-':<12} "
            f"{payload.get('company', '')} / {payload.get('contact_name', '')} / "
            f"{mask_phone(payload.get('phone'))} / {payload.get('category', '')}: "
            f"{str(payload.get('description', ''))[:40]}"
            + (f"  [{entry.last_error}]" if entry.last_error else "")
        )


def main(argv: list[str] | None = None) -> int:
    from actions.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m actions.outbox",
                                     description="Show submissions waiting for the issue API.")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="pending and failed submissions")
    listing.add_argument("--all", action="store_true", help="include delivered ones")
    parser.add_argument("--db", help="outbox file (default: env ACTIONS_OUTBOX_DB)")
    args = parser.parse_args(argv)
    outbox = Outbox(Path(args.db) if args.db else Settings.from_env().outbox_db)
    _print_entries(outbox, include_delivered=args.all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
