"""The gateway's state database: conversations and their transcripts, kept ratings, console
sessions and the audit log.

An SQLite file in the state directory by default (one gateway), or PostgreSQL when several gateways
share the work (`GATEWAY_DB=postgresql+psycopg2://...`, `make run-scaled`): every store writes with
single statements or short transactions whose conditions make them safe when two gateways act on
the same conversation at once (an operator on one, the user on the other).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from contract.sqlite_wal import enable_wal

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("operator", sa.String(100)),
    sa.Column("handoff_reason", sa.Text),
    sa.Column("handoff_summary", sa.Text),
    sa.Column("ticket_ids", sa.Text, nullable=False, server_default="[]"),
    sa.Column("waiting_since", sa.Float),
    sa.Column("rating", sa.Integer),
    sa.Column("rating_comment", sa.Text),
    sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("conversations_state", "state"),
    sa.Index("conversations_updated", "updated_at"),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("extra", sa.Text, nullable=False, server_default="{}"),
    sa.Column("at", sa.Float, nullable=False),
)

pending_ratings = sa.Table(
    "pending_ratings", metadata,
    sa.Column("ticket_id", sa.String(12), primary_key=True),
    sa.Column("conversation_id", sa.String(128), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Index("sessions_account", "kind", "account"),
)

# What each account's password was when its sessions started (a digest of its bcrypt hash, never the
# hash): a changed password ends the account's sessions at the next start (SessionStore.end_changed_credentials).
account_credentials = sa.Table(
    "account_credentials", metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("stamp", sa.String(64), nullable=False),
)

login_attempts = sa.Table(
    "login_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("space", sa.String(16), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("login_attempts_key", "space", "key", "at"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("account", sa.String(100)),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(128)),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("audit_log_conversation", "conversation_id", "id"),
    sa.Index("audit_log_at", "at"),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL + NORMAL: a crash of the gateway loses nothing committed (only a power cut may lose the last
    # commits); connections stay open (QueuePool) because the last one to close in WAL mode
    # checkpoints with an fsync.
    dbapi_connection.isolation_level = None  # transactions are begun explicitly (see `begin` below)
    cursor = dbapi_connection.cursor()
    enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: sa.engine.Connection) -> None:
    # BEGIN IMMEDIATE: a transaction that will write takes the lock up front instead of failing with
    # "database is locked" when it upgrades from reading. Reads (`StateDatabase.read`) run without a
    # transaction, each statement on its own WAL snapshot, and so never wait for a writer.
    if not conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "hotline_read_only"


class StateDatabase:
    """One engine for every store of a gateway process."""

    def __init__(self, location: Union[str, Path]) -> None:
        text = str(location)
        url = sa.engine.make_url(text if "://" in text else f"sqlite:///{Path(text)}")
        self.url = url
        self.is_sqlite = url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, future=True, poolclass=QueuePool, pool_size=8, max_overflow=16,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = sa.create_engine(url, future=True, pool_size=10, max_overflow=20, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def write(self) -> "sa.engine.Connection":
        """A transaction (context manager): committed at the end of the block, rolled back on error."""
        return self.engine.begin()

    def read(self) -> "sa.engine.Connection":
        """A connection for reads (context manager)."""
        return self.engine.connect().execution_options(**{READ_ONLY: True})

    def lock(self, conn: "sa.engine.Connection", name: str) -> None:
        """Serialise the transactions of every gateway that take the lock `name` (until commit).

        SQLite needs nothing (BEGIN IMMEDIATE already serialises writers); PostgreSQL takes a
        transaction-scoped advisory lock, which also covers rows that do not exist yet.
        """
        if not self.is_sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(location: Union["StateDatabase", str, Path]) -> tuple[StateDatabase, bool]:
    """The database and whether the caller opened it (and so closes it)."""
    if isinstance(location, StateDatabase):
        return location, False
    return StateDatabase(location), True


def describe(location: Union[str, Path]) -> str:
    """The location for logs and messages: a URL without its password."""
    text = str(location)
    return repr(sa.engine.make_url(text)) if "://" in text else text
