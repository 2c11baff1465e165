"""Rasa's SQL tracker store, with SQLite connections that stay open.

Rasa's SQLTrackerStore opens SQLite through SQLAlchemy's default NullPool: a new connection for
every read and every write, and in WAL mode the last connection to close checkpoints the log with
an fsync: the profile showed 20 ms of wall time per saved turn for 5 ms of CPU. Here SQLite gets a
small pool of connections kept open, WAL with synchronous=NORMAL (a committed turn survives a crash
of the process; only a power cut can lose the last ones) and a busy timeout.

Saving a turn writes its new events with one multi-row INSERT instead of an ORM object per event
(same rows, same columns); on every database.

Between turns the process keeps the trackers of recent conversations: rebuilding one from its rows
(query, JSON, replaying every event) was the largest part of the tracker store's cost per turn. The
kept tracker is used only if the conversation's highest event id and number of events in the
database are still what this process wrote or read (so a turn served by another worker or server,
or events posted through the API, make it read the rows again), if it holds exactly the events that
were saved, and if the conversation was active in the last CACHE_IDLE_SECONDS. Only a tracker this
store handed out and saved with nobody writing in between is kept; a new session, a new domain and
an event dated before its session's start are always read back.

endpoints.yml:  tracker_store: {type: bot.rasa_plugins.tracker_store.HotlineSQLTrackerStore, dialect: sqlite, db: ...}
"""
from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import QueuePool

from contract.sqlite_wal import enable_wal

SQLITE_BUSY_TIMEOUT_MS = 30_000
CACHE_SIZE = 256  # conversations whose tracker a Rasa process keeps between turns
CACHE_IDLE_SECONDS = 900.0  # kept at most this long after the conversation's last turn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class _Remembered:
    """A conversation's tracker as this process last read or wrote it, with what the database held
    for the conversation then: (highest event id, number of events)."""

    __slots__ = ("tracker", "events", "stored", "used")

    def __init__(self, tracker: DialogueStateTracker, events: int, stored: tuple[Any, int]) -> None:
        self.tracker, self.events, self.stored = tracker, events, stored
        self.used = time.monotonic()


class HotlineSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = CACHE_SIZE, cache_idle_seconds: float = CACHE_IDLE_SECONDS,
                 **kwargs: Any) -> None:
        self._remembered: OrderedDict[str, _Remembered] = OrderedDict()
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache_size, self.cache_idle_seconds = int(cache_size), float(cache_idle_seconds)
        table = self.SQLEvent.__table__
        # Built once: SQLAlchemy caches a Core statement's compiled form; an ORM query is rebuilt per call.
        self._stored_query = (sa.select(sa.func.max(table.c.id), sa.func.count(table.c.id))
                              .where(table.c.sender_id == sa.bindparam("sender")))
        self._insert_events = table.insert()

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        """A new model brings a new domain (slots, assistant id): trackers built with the old one go."""
        self._domain = domain or Domain.empty()
        self._remembered.clear()

    # -- reading ----------------------------------------------------------------------------------
    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: the one this process holds if the database has nothing else."""
        entry = self._remembered.pop(sender_id, None)
        with self.session_scope() as session:
            stored = self._stored(session, sender_id)
            if entry is not None and self._still_current(entry, stored):
                entry.used = time.monotonic()
                self._remembered[sender_id] = entry
                return entry.tracker
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._remember(tracker, len(events), stored)
        return tracker

    def _stored(self, session: Any, sender_id: str) -> tuple[Any, int]:
        """(highest event id, number of events) of the conversation: the count also changes when a
        concurrent writer's row with a lower id commits after a higher one (PostgreSQL sequences)."""
        last_id, count = session.execute(self._stored_query, {"sender": sender_id}).one()
        return last_id, int(count or 0)

    def _still_current(self, entry: _Remembered, stored: tuple[Any, int]) -> bool:
        """Nobody else wrote to the conversation (another worker or server, an API call), nothing was
        added to the tracker without being saved (a turn that failed half-way), and it was used recently."""
        return (entry.stored == stored and len(entry.tracker.events) == entry.events
                and time.monotonic() - entry.used < self.cache_idle_seconds)

    # -- writing ----------------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (stream to the event broker, then the events not stored yet), with one INSERT.

        Which events are new: Rasa counts the stored events of the latest session with a query. When
        this tracker is the one `retrieve` handed out and nothing was written to the conversation
        since (the conversation lock keeps other turns away; checked inside the transaction), the new
        events are the ones it gained since then, without asking; if someone did write meanwhile (a
        lock that expired, an API call), the save is done Rasa's way and the tracker is not kept."""
        await self.stream_events(tracker)
        entry = self._remembered.pop(tracker.sender_id, None)
        handed_out = entry is not None and entry.tracker is tracker and len(tracker.events) >= entry.events
        with self.session_scope() as session:
            if handed_out:
                new_events = list(itertools.islice(tracker.events, entry.events, len(tracker.events)))
                self._insert(session, tracker.sender_id, new_events)
                stored = self._stored(session, tracker.sender_id)
                if stored[1] == entry.stored[1] + len(new_events) and (not new_events or stored[0] != entry.stored[0]):
                    session.commit()
                    self._remember_saved(tracker, new_events, stored)
                    return
                session.rollback()  # someone else wrote in between: Rasa's way, and forget this tracker
            stored_count = self._event_query(session, tracker.sender_id,
                                             fetch_events_from_all_sessions=False).count()
            self._insert(session, tracker.sender_id,
                         list(itertools.islice(tracker.events, stored_count, len(tracker.events))))
            session.commit()

    def _insert(self, session: Any, sender_id: str, events: list[Any]) -> None:
        rows = []
        for event in events:
            data = event.as_dict()
            rows.append({
                "sender_id": sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            })
        if rows:
            session.execute(self._insert_events, rows)

    def _remember_saved(self, tracker: DialogueStateTracker, new_events: list[Any], stored: tuple[Any, int]) -> None:
        """Keep a saved tracker only if reading the rows back would give the same events: Rasa reads
        the latest session by timestamp, so a new session or an event dated before the session's
        start (an API call, a clock stepped back) means reading it back."""
        if any(isinstance(event, SessionStarted) for event in new_events):
            return
        starts = [event.timestamp for event in tracker.events if isinstance(event, SessionStarted)]
        if starts and any(event.timestamp < max(starts) for event in new_events):
            return
        self._remember(tracker, len(tracker.events), stored)

    def _remember(self, tracker: DialogueStateTracker, events: int, stored: tuple[Any, int]) -> None:
        if self.cache_size <= 0 or stored[0] is None or tracker.events.maxlen is not None:
            return
        self._remembered.pop(tracker.sender_id, None)
        self._remembered[tracker.sender_id] = _Remembered(tracker, events, stored)
        now = time.monotonic()
        while self._remembered:
            oldest = next(iter(self._remembered.values()))
            if len(self._remembered) <= self.cache_size and now - oldest.used < self.cache_idle_seconds:
                break
            self._remembered.popitem(last=False)
