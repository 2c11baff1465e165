"""Engines, connection pragmas and schema upgrade.

SQLite is the embedded default, PostgreSQL the production choice; both sit behind one small class
so that the rest of the service only asks for a read or a write transaction.

On SQLite every write transaction starts with BEGIN IMMEDIATE: it takes the write lock up front and
waits for it (busy_timeout) instead of failing with "database is locked" when a read transaction
later tries to upgrade. pysqlite's own implicit transaction handling is switched off for that.
Writers of one process also queue on a threading.Lock first: SQLite's busy handler polls with
sleeps of up to 100 ms, which made the slowest 5% of concurrent filings wait ten times longer than
the work itself; the lock hands over at once. busy_timeout still covers other processes.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import QueuePool

from contract.sqlite_wal import enable_wal

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine()
        self._writer = self.engine.execution_options(immediate_transaction=True)
        self._write_lock = threading.Lock() if self.is_sqlite else None

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            # No pool_pre_ping: it costs a round trip per checkout. After a PostgreSQL restart the
            # first request fails with 503 (errors.py), SQLAlchemy drops the stale pool, and the
            # next requests get fresh connections.
            return create_engine(self.url, future=True, pool_size=10, max_overflow=30)
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            future=True,
            poolclass=QueuePool,  # SQLAlchemy 1.4 would open a new file connection per request
            pool_size=8,
            max_overflow=40,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, see the module docstring
            cursor = dbapi_conn.cursor()
            enable_wal(cursor)
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode except on power loss
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("immediate_transaction", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._write_lock is None:
            with self._writer.begin() as conn:
                yield conn
            return
        with self._write_lock, self._writer.begin() as conn:
            yield conn

    def upgrade_schema(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several instances starting at once on one database (`make run-scaled`): the first
                # upgrades, the others wait for it here and then find the schema at head.
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('issue_api schema upgrade'))"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
