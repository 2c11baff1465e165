"""How long personal data is kept: transcripts, delivered outbox submissions and Rasa's trackers
are purged after HOTLINE_RETENTION_DAYS (default 180) without activity.

Tickets themselves are the administration's record of a request and follow its archive rules, not
this one; what goes here is what only existed to carry a conversation: what people said to the bot
and to operators, and the copy of a report kept until the issue API had it.

`python -m bot purge` runs it by hand (or from a daily timer); `make run` runs it once a day.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import Field
from sqlalchemy import create_engine, text

from contract.settings import HotlineSettings

log = logging.getLogger(__name__)
DAY = 86400.0


class RetentionSettings(HotlineSettings):
    retention_days: float = Field(180.0, env="HOTLINE_RETENTION_DAYS", gt=0)
    gateway_db: Optional[str] = Field(None, env="GATEWAY_DB")  # a path (SQLite) or a database URL
    outbox_db: Optional[str] = Field(None, env="ACTIONS_OUTBOX_DB")  # a path (SQLite) or a database URL
    # Rasa's SQL tracker store: the embedded SQLite file, or e.g. postgresql+psycopg2://... when scaled.
    tracker_db_url: str = Field("", env="RASA_TRACKER_DB_URL")

    @property
    def tracker_url(self) -> str:
        return self.tracker_db_url or f"sqlite:///{self.var_dir / 'trackers.db'}"


@dataclass
class Purged:
    conversations: int = 0
    outbox_entries: int = 0
    trackers: int = 0
    audit_rows: int = 0


def purge_trackers(url: str, seconds: float) -> int:
    """Delete the events of every Rasa conversation whose last event is older than `seconds`."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return 0
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as conn:
            if "events" not in _tables(conn):
                return 0
            stale = [row[0] for row in conn.execute(
                text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": time.time() - seconds})]
            for sender in stale:
                conn.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
        return len(stale)
    finally:
        engine.dispose()


def _tables(conn) -> set[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())


def purge(settings: RetentionSettings) -> Purged:
    """One pass over every store of this machine's hotline."""
    from actions.outbox import Outbox
    from bot.conversation_store import ConversationStore
    from bot.gateway.audit_log import AuditLog

    seconds = settings.retention_days * DAY
    done = Purged()
    gateway_db = settings.state_database(settings.gateway_db, "gateway.db")
    if isinstance(gateway_db, str) or gateway_db.exists():
        store = ConversationStore(gateway_db)
        try:
            done.conversations = store.purge_older_than(seconds)
        finally:
            store.close()
        audit = AuditLog(gateway_db)
        try:
            done.audit_rows = audit.purge_older_than(seconds)
        finally:
            audit.close()
    outbox_db = settings.state_database(settings.outbox_db, "outbox.db")
    if isinstance(outbox_db, str) or outbox_db.exists():
        outbox = Outbox(outbox_db)
        try:
            done.outbox_entries = outbox.purge_delivered_older_than(seconds)
        finally:
            outbox.close()
    done.trackers = purge_trackers(settings.tracker_url, seconds)
    log.info("retention (%g days): %d conversations, %d delivered outbox entries, %d trackers, %d audit rows purged",
             settings.retention_days, done.conversations, done.outbox_entries, done.trackers, done.audit_rows)
    return done
