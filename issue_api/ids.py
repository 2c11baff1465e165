"""Ticket ids that a caller can read out on the phone: Beijing date "yymmdd" plus a daily sequence.

"2611270001" is the first ticket of 27 November 2026. The sequence has four digits and grows to five
or six on a day with more than 9999 or 99999 tickets, so ids stay 10 to 12 digits and never collide
(a longer id of the same day cannot equal a shorter one).

The counter is one row per day, bumped with a single INSERT .. ON CONFLICT DO UPDATE .. RETURNING:
on PostgreSQL the row lock, on SQLite the write lock, makes two concurrent filings get different
numbers.

On SQLite the bump is part of the filing transaction (there is only one writer at a time anyway).
On PostgreSQL it is a transaction of its own, committed without waiting for the WAL flush
(synchronous_commit off): otherwise every filing of the day would queue on the counter row for a
whole disk flush. That is safe because the ticket's own commit flushes the WAL up to and including
the bump; a crash can only forget a number that no committed ticket carries. A filing that fails
afterwards leaves a gap in the sequence, never a duplicate.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MAX_DAILY_SEQUENCE = 999_999

_BUMP_SQL = (
    "INSERT INTO ticket_sequences (day, last_value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last_value = ticket_sequences.last_value + 1 "
    "RETURNING last_value"
)
_BUMP = text(_BUMP_SQL)
# psycopg2 sends both statements in one round trip and returns the last one's rows.
_BUMP_WITHOUT_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO OFF; " + _BUMP_SQL)


class SequenceExhausted(RuntimeError):
    """More than MAX_DAILY_SEQUENCE tickets in one day."""


def format_ticket_id(local_day: dt.date, sequence: int) -> str:
    return f"{local_day:%y%m%d}{sequence:04d}"


def next_ticket_id(conn: Connection, local_day: dt.date, wait_for_flush: bool = True) -> str:
    day = f"{local_day:%y%m%d}"
    sequence = conn.execute(_BUMP if wait_for_flush else _BUMP_WITHOUT_FLUSH_WAIT, {"day": day}).scalar_one()
    if sequence > MAX_DAILY_SEQUENCE:
        raise SequenceExhausted(day)
    return format_ticket_id(local_day, sequence)


def allocate_ticket_id(engine: Engine, local_day: dt.date) -> str:
    """PostgreSQL: take the next number in a short transaction of its own (see the module docstring)."""
    with engine.begin() as conn:
        return next_ticket_id(conn, local_day, wait_for_flush=False)
