"""A durable outbox so that no report is lost while the issue API is unreachable.

Every submission is written here first, with its Idempotency-Key, and only then sent. The
deliverer (actions/deliverer.py) resends whatever is still pending until the API takes it; the key
makes a resend after a crash or timeout land on the same ticket, so each report is filed once.

One table, on SQLite (the embedded default, a file in the state directory) or PostgreSQL (when
several action servers share one outbox: ACTIONS_OUTBOX_DB=postgresql+psycopg2://...). Deliverers
claim due rows with `FOR UPDATE SKIP LOCKED` (on SQLite the write lock does the same) and push them
out of reach for a lease, so two deliverers never send the same submission at once; the
Idempotency-Key would make it harmless anyway.

Operators see what waits with:  python -m actions.outbox list [--all]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from contract.phones import mask_phone
from contract.sqlite_wal import enable_wal

metadata = sa.MetaData()
outbox_table = sa.Table(
    "outbox",
    metadata,
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),  # pending|delivered|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.Column("ticket_id", sa.String(12)),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
)
CLAIM_LEASE_SECONDS = 60.0


@dataclass
class Entry:
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: float
    ticket_id: Optional[str]
    last_error: Optional[str]


def outbox_url(location: Union[str, Path]) -> str:
    """A file path means SQLite; a URL is used as it is."""
    text = str(location)
    return text if "://" in text else f"sqlite:///{Path(text)}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL + NORMAL: every recorded submission survives a crash of the process (only a power cut can
    # lose the last ones), as the issue API's own database does. Connections stay open (QueuePool):
    # in WAL mode the last one to close checkpoints with an fsync.
    cursor = dbapi_connection.cursor()
    enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Outbox:
    """Thread-safe (a pool of connections); safe to share between processes on PostgreSQL."""

    def __init__(self, location: Union[str, Path]) -> None:
        url = sa.engine.make_url(outbox_url(location))
        self.is_sqlite = url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if url.database:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, future=True, poolclass=QueuePool, pool_size=4, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
            sa.event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        else:
            self.engine = sa.create_engine(url, future=True, pool_size=4, max_overflow=8, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def add(self, key: str, payload: dict[str, Any], hold_seconds: float = 0.0) -> None:
        """Record a submission; `hold_seconds` keeps the deliverers away while the caller's own
        attempt is in flight. Adding the same key twice keeps the first record."""
        now = time.time()
        row = {"idempotency_key": key, "payload": json.dumps(payload, ensure_ascii=False),
               "status": "pending", "attempts": 0, "next_attempt_at": now + hold_seconds, "created_at": now}
        with self.engine.begin() as conn:
            if conn.execute(sa.select(outbox_table.c.idempotency_key)
                            .where(outbox_table.c.idempotency_key == key)).first() is None:
                try:
                    conn.execute(outbox_table.insert().values(**row))
                except sa.exc.IntegrityError:  # another process recorded the same key just now
                    pass

    def claim_due(self, limit: int = 20, lease_seconds: float = CLAIM_LEASE_SECONDS) -> list[Entry]:
        """Due pending submissions, each now out of other deliverers' reach for `lease_seconds`."""
        now = time.time()
        query = (sa.select(outbox_table)
                 .where(outbox_table.c.status == "pending", outbox_table.c.next_attempt_at <= now)
                 .order_by(outbox_table.c.created_at).limit(limit))
        if not self.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(outbox_table.update()
                             .where(outbox_table.c.idempotency_key.in_([r.idempotency_key for r in rows]))
                             .values(next_attempt_at=now + lease_seconds))
        return [self._entry(row) for row in rows]

    def due(self, limit: int = 20) -> list[Entry]:
        """What is due now, without claiming it (for display)."""
        query = (sa.select(outbox_table)
                 .where(outbox_table.c.status == "pending", outbox_table.c.next_attempt_at <= time.time())
                 .order_by(outbox_table.c.created_at).limit(limit))
        with self.engine.connect() as conn:
            return [self._entry(row) for row in conn.execute(query).all()]

    def delivered(self, key: str, ticket_id: str) -> None:
        self._update(key, status="delivered", ticket_id=ticket_id, delivered_at=time.time(),
                     attempts=outbox_table.c.attempts + 1, last_error=None)

    def retry_later(self, key: str, error: str, max_delay: float = 300.0) -> None:
        with self.engine.begin() as conn:
            attempts = conn.execute(sa.select(outbox_table.c.attempts)
                                    .where(outbox_table.c.idempotency_key == key)).scalar() or 0
            delay = min(max_delay, 2 ** min(attempts, 8))
            conn.execute(outbox_table.update().where(outbox_table.c.idempotency_key == key)
                         .values(attempts=outbox_table.c.attempts + 1, last_error=error[:2000],
                                 next_attempt_at=time.time() + delay))

    def failed(self, key: str, error: str) -> None:
        """The API rejected the content (422): a person must look at it; never resent."""
        self._update(key, status="failed", attempts=outbox_table.c.attempts + 1, last_error=error[:2000])

    def purge_delivered_older_than(self, seconds: float) -> int:
        """Drop delivered submissions (their payload holds names and phones) once the issue API has
        had them for `seconds`; pending and failed ones stay until someone has dealt with them."""
        with self.engine.begin() as conn:
            return conn.execute(outbox_table.delete().where(
                outbox_table.c.status == "delivered",
                outbox_table.c.delivered_at < time.time() - seconds)).rowcount

    def get(self, key: str) -> Optional[Entry]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outbox_table).where(outbox_table.c.idempotency_key == key)).first()
        return self._entry(row) if row else None

    def entries(self, include_delivered: bool = False) -> list[Entry]:
        query = sa.select(outbox_table).order_by(outbox_table.c.created_at)
        if not include_delivered:
            query = query.where(outbox_table.c.status != "delivered")
        with self.engine.connect() as conn:
            return [self._entry(row) for row in conn.execute(query).all()]

    def _update(self, key: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(outbox_table.update().where(outbox_table.c.idempotency_key == key).values(**values))

    @staticmethod
    def _entry(row: Any) -> Entry:
        return Entry(row.idempotency_key, json.loads(row.payload), row.status, row.attempts, row.created_at,
                     row.ticket_id, row.last_error)


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
    parser.add_argument("--db", help="outbox file or database URL (default: env ACTIONS_OUTBOX_DB)")
    args = parser.parse_args(argv)
    outbox = Outbox(args.db if args.db else Settings.from_env().outbox_db)
    _print_entries(outbox, include_delivered=args.all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
