"""Throw-away PostgreSQL databases on this machine's server (127.0.0.1:5432, user postgres).

When PostgreSQL is not running, tests that need it fail with a message that says so (they are marked
`postgres`, so `-m 'not postgres'` leaves them out) instead of being skipped silently.
"""
from __future__ import annotations

import contextlib
import uuid
from typing import Iterator, List

import psycopg2
import pytest

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def database_url(name: str) -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def admin_connection():  # type: ignore[no-untyped-def]
    try:
        conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432 as user postgres ({exc}); "
                    "start it or deselect with -m 'not postgres'", pytrace=False)
    conn.autocommit = True
    return conn


class PostgresDatabases:
    """Creates databases named `<prefix>_<random>` and drops them all at the end."""

    def __init__(self, prefix: str = "hotline_test") -> None:
        self.prefix = prefix
        self.created: List[str] = []

    def create_name(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        conn = admin_connection()
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        self.created.append(name)
        return name

    def create(self) -> str:
        """A fresh database's SQLAlchemy URL."""
        return database_url(self.create_name())

    def drop_all(self) -> None:
        if not self.created:
            return
        conn = admin_connection()
        with conn.cursor() as cur:
            for name in self.created:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        self.created.clear()


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """One database's name for the duration of the block."""
    databases = PostgresDatabases(prefix)
    try:
        yield databases.create_name()
    finally:
        databases.drop_all()
